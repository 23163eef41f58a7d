"""Evaluation (thesis 3.4.1): mask IoU for railways, PCK over 1..16 px for buildings."""

from __future__ import annotations

import numpy as np
import torch

from core.autocorrect.rasterize import Shape, render

PCK_THRESHOLDS = tuple(range(1, 17))


def mask_iou(a: torch.Tensor, b: torch.Tensor) -> float:
    """IoU of two binary masks; 1.0 when both are empty."""
    a, b = a > 0.5, b > 0.5
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


def instance_iou(predicted: Shape, truth: Shape, size: tuple[int, int]) -> float:
    """IoU of one instance's mask and its true mask on the tile (h, w)."""
    return mask_iou(render(predicted, (0, 0), size), render(truth, (0, 0), size))


def vertex_errors(predicted: Shape, truth: Shape) -> np.ndarray:
    """Distance of each vertex to its true counterpart (rigid motions keep vertex order)."""
    return np.hypot(*(predicted.vertices() - truth.vertices()).T)


def pck(errors: np.ndarray, thresholds: tuple[int, ...] = PCK_THRESHOLDS) -> dict[str, float]:
    """Share of vertices within each pixel threshold, keyed "1".."16"."""
    errors = np.asarray(errors, float)
    return {str(k): float((errors <= k).mean()) if errors.size else 0.0 for k in thresholds}


def score(predicted: list[list[Shape]], truth: list[list[Shape]], sizes: list[tuple[int, int]]) -> dict:
    """{"iou": mean instance IoU, "pck": {...}} of predicted shapes against the truth, over tiles."""
    ious, errors = [], []
    for pred_tile, true_tile, size in zip(predicted, truth, sizes):
        for p, t in zip(pred_tile, true_tile):
            ious.append(instance_iou(p, t, size))
            errors.append(vertex_errors(p, t))
    return {"iou": float(np.mean(ious)) if ious else 0.0,
            "pck": pck(np.concatenate(errors) if errors else np.zeros(0)),
            "instances": len(ious)}
