"""Heatmap resampling and normalisation shared by box extraction and evaluation."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def upsample(heatmap: np.ndarray, size: int) -> np.ndarray:
    """A (h, w) map resized bilinearly to (size, size), as cv2.INTER_LINEAR does."""
    tensor = torch.from_numpy(np.array(heatmap, dtype=np.float32))[None, None]
    return F.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


def min_max(heatmap: np.ndarray) -> np.ndarray:
    """The map scaled to [0, 1] (all zeros if it is flat)."""
    low, high = float(heatmap.min()), float(heatmap.max())
    if high - low < 1e-12:
        return np.zeros_like(heatmap, dtype=np.float32)
    return ((heatmap - low) / (high - low)).astype(np.float32)


def peak_contrast(heatmap: np.ndarray) -> float:
    """How far the map's peak stands above its median, in cosine units clipped to [0, 1]."""
    return float(np.clip(np.max(heatmap) - np.median(heatmap), 0.0, 1.0))
