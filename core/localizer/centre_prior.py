"""The centre-prior baseline: the same centred Gaussian heatmap for every clip."""

from __future__ import annotations

import numpy as np


def centre_prior(size: int = 14, sigma: float = 0.25) -> np.ndarray:
    """A (size, size) Gaussian centred on the frame; sigma as a share of the side."""
    coords = (np.arange(size) + 0.5) / size - 0.5
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    return np.exp(-(xx ** 2 + yy ** 2) / (2 * sigma ** 2)).astype(np.float32)
