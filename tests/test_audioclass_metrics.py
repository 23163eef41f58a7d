"""Audio recognition metrics (Table 4.4) against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.audioclass.metrics import average_precision, classification_metrics, d_prime, roc_auc, top_k_accuracy


def test_average_precision_by_hand():
    # ranks: + - + -  -> precision 1 at recall 0.5, 2/3 at recall 1: AP = 0.5 * 1 + 0.5 * 2/3
    assert average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == pytest.approx(0.5 + 1 / 3)
    # a tie at the top counts as one threshold: precision 1/2 at recall 1
    assert average_precision([0.5, 0.5, 0.2], [1, 0, 0]) == pytest.approx(0.5)
    assert math.isnan(average_precision([0.1, 0.2], [0, 0]))


def test_auc_by_hand():
    # positive 0.9 beats both negatives, positive 0.7 beats one of two: 3 / 4
    assert roc_auc([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == pytest.approx(0.75)
    # a tie counts one half: (0.5 + 1) / 2
    assert roc_auc([0.5, 0.5, 0.2], [1, 0, 0]) == pytest.approx(0.75)
    assert roc_auc([0.1, 0.2], [0, 1]) == 1.0 and roc_auc([0.3, 0.2], [0, 1]) == 0.0
    assert math.isnan(roc_auc([0.1, 0.2], [1, 1]))


def test_d_prime_by_hand():
    assert d_prime(0.5) == pytest.approx(0.0)
    assert d_prime(0.75) == pytest.approx(math.sqrt(2) * 0.6744897501960817)  # Phi^-1(0.75)
    # Table 4.4 rows D and H (AUC and d-prime as printed, the AUC rounded to 3 places)
    assert d_prime(0.923) == pytest.approx(2.024, abs=0.01) and d_prime(0.968) == pytest.approx(2.627, abs=0.02)
    assert d_prime(1.0) == math.inf


def test_top_k_by_hand():
    scores = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]])
    targets = np.array([1, 2, 0])
    assert top_k_accuracy(scores, targets, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(scores, targets, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(scores, targets, 5) == 1.0  # k above the class count: every class


def test_classification_metrics_by_hand():
    scores = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    targets = np.array([0, 1, 2, 1])
    report = classification_metrics(scores, targets)
    # class 0: + - - -, scores 0.7 0.3 0.2 0.6 -> AP 1, AUC 1; class 1: ranks 0.6(+) 0.3(+) 0.3(-) 0.2(-):
    # AP = 0.5 * 1 + 0.5 * 2/3 (tie at 0.3 is one threshold), AUC = (1 + 1 + 1 + 0.5) / 4;
    # class 2: positive 0.5 above all -> AP 1, AUC 1
    assert report["mAP"] == pytest.approx((1 + (0.5 + 1 / 3) + 1) / 3, abs=1e-4)
    assert report["AUC"] == pytest.approx((1 + 0.875 + 1) / 3, abs=1e-4)
    assert report["d_prime"] == pytest.approx(d_prime((1 + 0.875 + 1) / 3), abs=1e-4)
    assert report["top1"] == 0.75 and report["top5"] == 1.0
    assert report["clips"] == 4 and report["classes_scored"] == 3


def test_classes_without_positives_are_left_out():
    report = classification_metrics(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 0]))
    assert report["classes_scored"] == 0 and report["mAP"] is None and report["d_prime"] is None
