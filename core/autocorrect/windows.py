"""Square windows centred on instances: image crops and the matrices of their frames."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from core.autocorrect.se2 import window_frame


def window_centre(point: np.ndarray) -> tuple[int, int]:
    """The whole-pixel corner nearest `point`: windows start on the pixel grid."""
    return int(round(float(point[0]))), int(round(float(point[1])))


def window_origin(centre: tuple[int, int], size: int) -> tuple[int, int]:
    """Top-left pixel corner (x, y) of the window of `size` centred on `centre`."""
    return centre[0] - size // 2, centre[1] - size // 2


def crop(image: torch.Tensor, centre: tuple[int, int], size: int) -> torch.Tensor:
    """(C, size, size) crop of a (C, H, W) image centred on `centre`, zero outside the image."""
    c, h, w = image.shape
    x0, y0 = window_origin(centre, size)
    out = torch.zeros(c, size, size, dtype=image.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + size, w), min(y0 + size, h)
    if sx0 < sx1 and sy0 < sy1:
        out[:, sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[:, sy0:sy1, sx0:sx1]
    return out


def normalised_to_pixels(matrix_n: np.ndarray, centre: tuple[int, int], size: int) -> np.ndarray:
    """A motion in the normalised frame of a window, as a pixel-space matrix: P^-1 m P."""
    frame = window_frame(centre, size / 2)
    return np.linalg.inv(frame) @ matrix_n @ frame


def image_to_float(image: torch.Tensor | np.ndarray) -> torch.Tensor:
    """(C, H, W) uint8 (1 or 3 bands; more are cut to the first 3) -> float RGB in [-0.5, 0.5]."""
    image = torch.as_tensor(np.asarray(image))
    if image.ndim != 3:
        raise ValueError(f"expected a (bands, height, width) image, got shape {tuple(image.shape)}")
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)  # single-band imagery: replicated
    image = image[:3].float()
    return image / 255.0 - 0.5 if image.max() > 1.5 else image - 0.5


class WindowSource(Protocol):
    """Anything that gives (3, size, size) float windows in [-0.5, 0.5] centred on a model-px point."""

    size: tuple[int, int]  # (height, width) in model px

    def window(self, centre: tuple[int, int], size: int) -> torch.Tensor:
        """The (3, size, size) window whose pixel-grid origin is `centre` - size // 2; 0 outside the image."""


class ArrayWindows:
    """Windows of an image already in memory (generated tiles, tests); core/autocorrect/raster.py reads files."""

    def __init__(self, image: torch.Tensor | np.ndarray) -> None:
        tensor = torch.as_tensor(np.asarray(image)) if not isinstance(image, torch.Tensor) else image
        self.image = tensor if tensor.is_floating_point() else image_to_float(tensor)
        self.size = tuple(self.image.shape[1:])

    def window(self, centre: tuple[int, int], size: int) -> torch.Tensor:
        """A crop of the image (zero outside it)."""
        return crop(self.image, centre, size)
