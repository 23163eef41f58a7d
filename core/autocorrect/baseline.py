"""The image-level baseline (3.4.3): one rigid shift for the whole tile, found by correlation."""

from __future__ import annotations

import numpy as np
import torch

from core.autocorrect.rasterize import Shape, render
from core.autocorrect.se2 import se2_matrix


def union_mask(shapes: list[Shape], size: tuple[int, int]) -> np.ndarray:
    """All shapes of a tile on one (h, w) mask."""
    out = torch.zeros(size)
    for s in shapes:
        out = torch.maximum(out, render(s, (0, 0), size))
    return out.numpy()


def best_shift(moving: np.ndarray, target: np.ndarray, max_shift: int) -> tuple[int, int]:
    """The whole-pixel (dx, dy), |dx|, |dy| <= max_shift, that best overlays `moving` on `target`.

    Cross-correlation by FFT (zero-padded, so no wrap-around): the shift of largest overlap.
    """
    h, w = target.shape
    shape = (h + 2 * max_shift, w + 2 * max_shift)
    corr = np.fft.irfft2(np.fft.rfft2(target, shape) * np.conj(np.fft.rfft2(moving, shape)), shape)
    shifts = np.arange(-max_shift, max_shift + 1)
    window = corr[np.ix_(shifts % shape[0], shifts % shape[1])]  # window[iy, ix]: shift (dx, dy)
    iy, ix = np.unravel_index(np.argmax(window), window.shape)
    return int(shifts[ix]), int(shifts[iy])


def global_shift(noisy: list[Shape], reference: list[Shape], size: tuple[int, int],
                 max_shift: int) -> tuple[list[Shape], tuple[int, int]]:
    """All `noisy` shapes moved by the one shift that best aligns them with `reference`.

    With the true annotations as reference this is the best any single tile-level shift can do
    (an upper bound on image-level alignment).
    """
    dx, dy = best_shift(union_mask(noisy, size), union_mask(reference, size), max_shift)
    move = se2_matrix(dx, dy, 0.0)
    return [s.moved(move) for s in noisy], (dx, dy)
