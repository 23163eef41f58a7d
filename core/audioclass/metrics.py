"""Audio recognition metrics of Table 4.4: mAP, AUC, d-prime (Hershey et al. 2017), top-1 and top-5.

Computed as hche11/VGGSound's eval does with sklearn: per class, average precision
(`average_precision_score`) and ROC AUC (`roc_auc_score`) of that class's scores against one-hot
targets; mAP and AUC are their means over classes, and d-prime = sqrt(2) * Phi^-1(mean AUC).
Classes without a positive or without a negative clip have no AP / AUC and are left out of the
means (sklearn would warn or raise); `classes_scored` says how many counted.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """AP of one class as sklearn computes it: sum over score thresholds of (R_n - R_{n-1}) * P_n, ties grouped."""
    scores, positives = np.asarray(scores, dtype=np.float64), np.asarray(positives, dtype=bool)
    total = int(positives.sum())
    if total == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, hits = scores[order], positives[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    tp = np.cumsum(hits)[last_of_tie]
    precision = tp / (last_of_tie + 1)
    recall = tp / total
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """ROC AUC of one class (= the Mann-Whitney probability, a tie counting one half), as sklearn's."""
    scores, positives = np.asarray(scores, dtype=np.float64), np.asarray(positives, dtype=bool)
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)  # average ranks for ties
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def d_prime(auc: float) -> float:
    """Equivalent d-prime class separation of an AUC: sqrt(2) * Phi^-1(AUC) (inf at AUC 1)."""
    return float(math.sqrt(2.0) * ndtri(auc))


def top_k_accuracy(scores: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Share of clips whose true class index is among their k highest scores."""
    scores, targets = np.asarray(scores), np.asarray(targets)
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="mergesort")[:, :k]
    return float(np.mean((top == targets[:, None]).any(axis=1)))


def _finite(value: float, digits: int = 4) -> float | None:
    """A JSON-safe rounded number (None for nan or inf)."""
    return round(value, digits) if math.isfinite(value) else None


def classification_metrics(scores: np.ndarray, targets: np.ndarray) -> dict:
    """{"mAP", "AUC", "d_prime", "top1", "top5", "clips", "classes_scored"} of (n, C) class scores
    (softmax probabilities) and (n,) true class indices."""
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets, dtype=np.int64)
    if scores.ndim != 2 or len(scores) != len(targets) or not len(scores):
        raise ValueError(f"need (n, C) scores and n targets, got {scores.shape} and {targets.shape}")
    onehot = np.zeros(scores.shape, dtype=bool)
    onehot[np.arange(len(targets)), targets] = True
    aps = np.array([average_precision(scores[:, c], onehot[:, c]) for c in range(scores.shape[1])])
    aucs = np.array([roc_auc(scores[:, c], onehot[:, c]) for c in range(scores.shape[1])])
    scored = ~np.isnan(aps) & ~np.isnan(aucs)
    mean_ap = float(aps[scored].mean()) if scored.any() else float("nan")
    mean_auc = float(aucs[scored].mean()) if scored.any() else float("nan")
    return {"mAP": _finite(mean_ap), "AUC": _finite(mean_auc),
            "d_prime": _finite(d_prime(mean_auc)) if scored.any() else None,
            "top1": round(top_k_accuracy(scores, targets, 1), 4), "top5": round(top_k_accuracy(scores, targets, 5), 4),
            "clips": int(len(targets)), "classes_scored": int(scored.sum())}
