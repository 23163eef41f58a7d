"""Stage-1 box extraction and the public cIoU / AUC evaluation against hand-computed answers."""

import numpy as np
import pytest

from core.localizer.boxes import BoxConfig, connected_regions, heatmap_boxes
from core.localizer.centre_prior import centre_prior
from core.localizer.metrics import (binarised_prediction, box_mask, ciou, clip_ciou, consensus_mask,
                                    success_auc, success_curve, summarise)


def test_connected_regions_are_4_connected():
    mask = np.array([[1, 1, 0, 0],
                     [0, 0, 0, 1],
                     [0, 0, 1, 1],
                     [1, 0, 0, 0]], dtype=bool)
    labels = connected_regions(mask)
    assert labels.max() == 3
    assert labels[0, 0] == labels[0, 1] and labels[1, 3] == labels[2, 3] == labels[2, 2]
    assert len({labels[0, 0], labels[2, 2], labels[3, 0]}) == 3


def test_one_box_per_separate_hot_region_best_first():
    heat = np.zeros((8, 8), dtype=np.float32)
    heat[1:3, 1:3] = 0.9  # top-left blob, hotter
    heat[5:7, 4:8] = 0.7  # bottom-right blob
    boxes = heatmap_boxes(heat, BoxConfig(grid=8, threshold=0.5, min_area=0.0))
    assert [b.as_list() for b in boxes] == [[0.125, 0.125, 0.375, 0.375, 0.9],
                                            [0.5, 0.625, 1.0, 0.875, 0.7]]
    assert len(heatmap_boxes(heat, BoxConfig(grid=8, max_boxes=1, min_area=0.0))) == 1


def test_small_regions_are_dropped():
    heat = np.zeros((8, 8), dtype=np.float32)
    heat[0, 0] = 1.0
    heat[4:8, 4:8] = 0.8
    boxes = heatmap_boxes(heat, BoxConfig(grid=8, threshold=0.5, min_area=2 / 64))
    assert [b.as_list()[:4] for b in boxes] == [[0.5, 0.5, 1.0, 1.0]]


def test_box_masks_and_consensus_of_two_annotators():
    assert box_mask([[0.0, 0.0, 0.5, 0.25]], size=8).sum() == 4 * 2
    one = consensus_mask([[[0.0, 0.0, 0.5, 0.5]]], size=4)
    assert one.tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    two = consensus_mask([[[0.0, 0.0, 0.5, 0.5]], [[0.25, 0.0, 0.75, 0.5]]], size=4)
    assert two[0].tolist() == [0.5, 1.0, 0.5, 0.0]  # C = 2: agreement needs both


def test_ciou_by_hand():
    truth = np.zeros((4, 4))
    truth[0, :2] = 1.0  # 2 cells
    truth[1, :2] = 0.5  # 2 half-weight cells (one annotator of two)
    prediction = np.zeros((4, 4))
    prediction[0, :] = 1  # hits 2 full cells, 2 false alarms
    # (1 + 1) / (2 + 2 * 0.5 + 2)
    assert ciou(prediction, truth) == pytest.approx(2 / 5)


def test_median_binarisation_keeps_the_hotter_half():
    heat = np.array([[1.0, 0.0], [1.0, 0.0]])
    binary = binarised_prediction(heat)
    assert binary.shape == (224, 224)
    # the (n/2)-th sorted value is column 111's; the public code keeps only what is above it
    assert binary[:, :111].all() and not binary[:, 111:].any()
    # truth = left quarter: 56 * 224 hits, 111 - 56 columns of false alarm
    truth = box_mask([[0.0, 0.0, 0.25, 1.0]])
    expected = (56 * 224) / (56 * 224 + (binary.sum() - 56 * 224))
    assert clip_ciou(heat, [[[0.0, 0.0, 0.25, 1.0]]]) == pytest.approx(expected)
    assert expected == pytest.approx(0.5, abs=0.01)
    assert truth.sum() == 56 * 224


def test_median_binarisation_breaks_ties_as_the_public_code():
    # a quarter at 0, half at 0.5, a quarter at 1 (nearest-style: a 224 map upsamples to itself)
    heat = np.zeros((224, 224), dtype=np.float32)
    heat[:, 56:168], heat[:, 168:] = 0.5, 1.0
    # thr = sorted[n / 2] = 0.5: pred > thr keeps the top quarter only, not the 0.5 plateau
    assert binarised_prediction(heat).sum() == 56 * 224
    # a map whose upper half is its maximum: thr = 1, and the cells equal to 1 stay 1
    heat = np.zeros((224, 224), dtype=np.float32)
    heat[:, 112:] = 1.0
    assert binarised_prediction(heat).sum() == 112 * 224


def test_fixed_threshold_of_thesis_5a():
    heat = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert binarised_prediction(heat, threshold=0.5).sum() == 112 * 224


def test_success_curve_and_auc_by_hand():
    cious = [0.0, 0.5, 1.0]
    curve = success_curve(cious)
    assert curve[0] == 1 and curve[1:11] == pytest.approx([2 / 3] * 10) and curve[11:] == pytest.approx([1 / 3] * 10)
    # 0.05 * (1 + 2/3) / 2 + 9 * 0.05 * 2/3 + 0.05 * (2/3 + 1/3) / 2 + 9 * 0.05 * 1/3
    assert success_auc(cious) == pytest.approx(0.5166667, abs=1e-6)
    assert summarise(cious) == {"ciou@0.5": pytest.approx(2 / 3), "mean_ciou": pytest.approx(0.5),
                                "auc": pytest.approx(0.5166667, abs=1e-6), "clips": 3}


def test_centre_prior_peaks_in_the_middle():
    prior = centre_prior(14)
    assert prior.shape == (14, 14)
    assert prior[6:8, 6:8].min() == prior.max()
    assert prior[0, 0] == prior.min()
