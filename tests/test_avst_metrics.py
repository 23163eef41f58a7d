"""InfoNCE and the offset evaluation of 6.4.2 on hand-made numbers; the classical baseline on a toy signal."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.avst.evaluation import (OFFSETS, accuracy_by_length, chance_accuracy, classical_scores, is_correct,
                                  predicted_offset)
from core.avst.losses import info_nce


def test_info_nce_by_hand():
    scores = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    row0 = -math.log(math.exp(2) / (math.exp(2) + 1))
    row1 = -math.log(0.5)
    assert info_nce(scores).item() == pytest.approx((row0 + row1) / 2, rel=1e-6)


def test_info_nce_of_equal_scores_is_log_k():
    assert info_nce(torch.zeros(8, 8)).item() == pytest.approx(math.log(8))


def test_info_nce_needs_a_square_matrix():
    with pytest.raises(ValueError, match="square"):
        info_nce(torch.zeros(2, 3))


def _table(best: int) -> np.ndarray:
    scores = -np.abs(OFFSETS - best).astype(float)
    return scores


def test_prediction_is_the_argmax_offset():
    assert predicted_offset(_table(7)) == 7
    assert predicted_offset(_table(-15)) == -15
    with pytest.raises(ValueError):
        predicted_offset(np.zeros(30))


@pytest.mark.parametrize("predicted,true,speech,expected", [
    (5, 0, False, True), (-5, 0, False, True), (6, 0, False, False), (10, 4, False, False),
    (1, 0, True, True), (2, 0, True, False), (-1, 0, True, True),
])
def test_tolerance_is_5_frames_general_1_frame_speech(predicted, true, speech, expected):
    assert is_correct(predicted, true, speech) is expected


def test_chance_counts_offsets_within_tolerance():
    assert chance_accuracy(0, False) == pytest.approx(11 / 31)
    assert chance_accuracy(0, True) == pytest.approx(3 / 31)
    assert chance_accuracy(15, False) == pytest.approx(6 / 31)  # the edge of the range


def test_accuracy_by_length_groups_by_seconds():
    rows = [(1.0, 1.0), (1.0, 0.0), (2.0, 1.0), (4.8, 1.0), (5.0, 0.0)]
    assert accuracy_by_length(rows) == {"1": 0.5, "2": 1.0, "5": 0.5}


def test_classical_baseline_finds_a_delay_of_motion_and_onsets():
    """Flashes at known frames and clicks 8 frames later: the correlation peaks at +8."""
    rng = np.random.default_rng(0)
    n = 100
    frames = np.zeros((n, 8, 8, 3), dtype=np.uint8)
    audio = rng.normal(0, 1e-3, n * 640).astype(np.float32)
    for event in (10, 27, 41, 63, 80):
        frames[event:event + 3] = 255
        audio[(event + 8) * 640:(event + 8) * 640 + 200] += 0.8
    scores = classical_scores(frames, audio, 20, 60)
    assert predicted_offset(scores) == 8
