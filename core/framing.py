"""Letterboxing any frame aspect into the models' square input, and boxes mapped back to the full frame.

The models were trained on square frames. Stretching a 16:9 frame to a square would change every
object's shape; cropping would drop what lies at the sides, where a sounding object may be. A
letterbox keeps the whole frame at one scale and pads the short side with black, so a box found in
the square maps back to the source frame exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Letterbox:
    """Where a (width x height) px source frame lies inside a size x size px square: scaled to
    (inner_width x inner_height) px at (left, top) px."""

    width: int
    height: int
    size: int

    @property
    def scale(self) -> float:
        """Square px per source px."""
        return self.size / max(self.width, self.height)

    @property
    def inner(self) -> tuple[int, int]:
        """(width, height) in px of the source once scaled into the square (at least 1 px each)."""
        return (max(1, round(self.width * self.scale)), max(1, round(self.height * self.scale)))

    @property
    def offset(self) -> tuple[int, int]:
        """(left, top) in px of the scaled source inside the square."""
        inner_width, inner_height = self.inner
        return ((self.size - inner_width) // 2, (self.size - inner_height) // 2)

    def place(self, scaled: np.ndarray) -> np.ndarray:
        """A (..., inner_height, inner_width, C) array put into black (..., size, size, C) squares."""
        inner_width, inner_height = self.inner
        if scaled.shape[-3:-1] != (inner_height, inner_width):
            raise ValueError(f"expected frames of {inner_width}x{inner_height} px, got "
                             f"{scaled.shape[-2]}x{scaled.shape[-3]}")
        left, top = self.offset
        out = np.zeros((*scaled.shape[:-3], self.size, self.size, scaled.shape[-1]), dtype=scaled.dtype)
        out[..., top: top + inner_height, left: left + inner_width, :] = scaled
        return out

    def to_frame(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A box (x1, y1, x2, y2) in fractions of the square -> fractions of the source frame, clipped to it."""
        inner_width, inner_height = self.inner
        left, top = self.offset
        x1, y1, x2, y2 = box
        xs = [min(1.0, max(0.0, (x * self.size - left) / inner_width)) for x in (x1, x2)]
        ys = [min(1.0, max(0.0, (y * self.size - top) / inner_height)) for y in (y1, y2)]
        return xs[0], ys[0], xs[1], ys[1]

    def to_square(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A box in fractions of the source frame -> fractions of the square (inverse of to_frame)."""
        inner_width, inner_height = self.inner
        left, top = self.offset
        x1, y1, x2, y2 = box
        return ((left + x1 * inner_width) / self.size, (top + y1 * inner_height) / self.size,
                (left + x2 * inner_width) / self.size, (top + y2 * inner_height) / self.size)

    def covers(self, box: tuple[float, float, float, float]) -> float:
        """Share (0..1) of a box in square fractions that lies on the picture rather than the bars."""
        inner_width, inner_height = self.inner
        left, top = self.offset
        x1, y1, x2, y2 = (v * self.size for v in box)
        area = max(0.0, x2 - x1) * max(0.0, y2 - y1)
        if area == 0:
            return 0.0
        wide = max(0.0, min(x2, left + inner_width) - max(x1, left))
        tall = max(0.0, min(y2, top + inner_height) - max(y1, top))
        return wide * tall / area
