"""Metrics, the global-shift baseline, the memory-map order and the rasteriser, on hand cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.autocorrect.baseline import best_shift, global_shift
from core.autocorrect.memory_map import TileInput, correct_sequentially, correction_order, memory_window
from core.autocorrect.metrics import instance_iou, mask_iou, pck, score
from core.autocorrect.rasterize import Shape, render


def rect(x0, y0, x1, y1):
    return Shape((np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float),), True)


def test_rendered_line_and_polygon_pixel_counts():
    line = Shape((np.array([[0.0, 10.0], [20.0, 10.0]]),), False, 1.0)
    assert render(line, (0, 0), (20, 20)).sum() == 2 * 20  # rows 9 and 10
    assert render(rect(2, 2, 10, 6), (0, 0), (8, 12)).sum() == 32
    assert render(rect(2, 2, 10, 6), (4, 0), (8, 4)).sum() == 16  # window offset clips


def test_iou_and_pck_hand_cases():
    a, b = rect(0, 0, 4, 2), rect(0, 1, 4, 3)
    assert instance_iou(a, b, (8, 8)) == pytest.approx(4 / 12)
    assert mask_iou(torch.zeros(3, 3), torch.zeros(3, 3)) == 1.0
    table = pck(np.array([0.5, 1.0, 2.5, 20.0]))
    assert table["1"] == 0.5 and table["2"] == 0.5 and table["3"] == 0.75 and table["16"] == 0.75
    result = score([[b]], [[a]], [(8, 8)])
    assert result["pck"]["1"] == 1.0 and result["iou"] == pytest.approx(4 / 12)


def test_global_shift_finds_the_common_motion():
    truth = [rect(10, 10, 20, 18), rect(30, 5, 40, 12)]
    noisy = [s.moved(np.array([[1, 0, 3], [0, 1, -2], [0, 0, 1.0]])) for s in truth]
    assert best_shift(render(noisy[0], (0, 0), (64, 64)).numpy(), render(truth[0], (0, 0), (64, 64)).numpy(), 6) == (-3, 2)
    shifted, (dx, dy) = global_shift(noisy, truth, (64, 64), 6)
    assert (dx, dy) == (-3, 2)
    assert np.allclose(shifted[1].vertices(), truth[1].vertices())


def test_order_is_left_to_right_then_bottom_to_top():
    centroids = np.array([[50.0, 10.0], [10.0, 10.0], [10.0, 40.0], [30.0, 5.0]])
    assert correction_order(centroids) == [2, 1, 3, 0]


def test_memory_map_leaves_out_the_current_instance():
    shapes = [rect(0, 0, 4, 4), rect(8, 0, 12, 4)]
    memory = memory_window(shapes, 0, (0, 0), 16)
    assert memory[:4, :4].sum() == 0 and memory[:4, 8:12].sum() == 16


def test_sequential_correction_puts_earlier_corrections_in_the_memory_map():
    """eq. 3.4: the instance corrected second sees the first at its corrected place."""
    shapes = [rect(10, 28, 14, 36), rect(40, 28, 44, 36)]  # order: left one first
    seen = []

    def predict(x: torch.Tensor) -> torch.Tensor:
        seen.append(x[:, 4].clone())
        return torch.tensor([[0.25, 0.0, 0.0]]).repeat(len(x), 1)  # 8 px right at a 32 px half-window

    tile = TileInput(torch.zeros(3, 64, 64), shapes)
    result = correct_sequentially(predict, [tile], window=64)[0]
    assert np.allclose(result.matrices[0][:2, 2], [8.0, 0.0])
    # step 2: window centred on shape 1 at (42, 32) -> origin (10, 0); shape 0 moved to x 18..22
    memory = seen[1][0]
    assert memory[28:36, 8:12].sum() == 32 and memory[28:36, 0:4].sum() == 0


def test_human_fix_stays_in_memory_and_is_not_moved():
    shapes = [rect(10, 28, 14, 36), rect(40, 28, 44, 36)]
    fixed = {0: rect(20, 28, 24, 36)}
    calls = []

    def predict(x):
        calls.append(x[:, 4].clone())
        return torch.zeros(len(x), 3)

    result = correct_sequentially(predict, [TileInput(torch.zeros(3, 64, 64), shapes, fixed)], window=64)[0]
    assert len(calls) == 1 and np.allclose(result.matrices[0], np.eye(3))
    assert calls[0][0][28:36, 20 - 10:24 - 10].sum() == 32


def test_second_pass_composes_phi_on_its_own_output_and_memory_sees_the_result():
    """passes=2 (iterative error feedback): t = t_2 t_1, and the next instance's M holds t . y."""
    shapes = [rect(10, 28, 14, 36), rect(40, 28, 44, 36)]
    seen = []

    def predict(x: torch.Tensor) -> torch.Tensor:
        seen.append(x[:, [3, 4]].clone())
        return torch.tensor([[0.125, 0.0, 0.0]]).repeat(len(x), 1)  # 4 px right at a 32 px half-window

    result = correct_sequentially(predict, [TileInput(torch.zeros(3, 64, 64), shapes)], window=64, passes=2)[0]
    assert len(seen) == 4  # two passes for each of the two steps
    assert np.allclose(result.matrices[0][:2, 2], [8.0, 0.0]) and np.allclose(result.matrices[1][:2, 2], [8.0, 0.0])
    # pass 2 of step 1 sees the instance once moved: window centred at (16, 32), mask at x 14..18
    assert seen[1][0, 0][28:36, 14 - (16 - 32):18 - (16 - 32)].sum() == 32
    # step 2 (window origin (10, 0)) sees instance 0 twice moved, at x 18..22
    assert seen[2][0, 1][28:36, 8:12].sum() == 32
