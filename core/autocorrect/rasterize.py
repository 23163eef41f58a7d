"""Annotations as vertex arrays in pixel coordinates, and their binary masks on any window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.autocorrect.se2 import apply_to_points


@dataclass(frozen=True)
class Shape:
    """One annotation in pixel coordinates: polygon rings (closed) or polylines of a width."""

    parts: tuple[np.ndarray, ...]  # (K, 2) arrays: x right, y down
    closed: bool  # polygon (even-odd fill of all rings) or polyline
    half_width: float = 0.0  # polylines: mask half-width in pixels

    def moved(self, matrix: np.ndarray) -> "Shape":
        """This shape moved by a 3x3 pixel-space matrix."""
        return Shape(tuple(apply_to_points(matrix, p) for p in self.parts), self.closed, self.half_width)

    def pieces(self) -> np.ndarray:
        """(S, 2, 2) short segments of a polyline, cached (shapes are immutable)."""
        if "_pieces" not in self.__dict__:
            self.__dict__["_pieces"] = _pieces(self.parts)
        return self.__dict__["_pieces"]

    def vertices(self) -> np.ndarray:
        """All vertices, (K, 2)."""
        return np.concatenate(self.parts)

    def centroid(self) -> np.ndarray:
        """Area centroid of a polygon's exterior, length-weighted midpoint of a polyline."""
        if self.closed:
            return _ring_centroid(self.parts[0])
        mids, lengths = [], []
        for p in self.parts:
            seg = np.diff(p, axis=0)
            lengths.append(np.hypot(seg[:, 0], seg[:, 1]))
            mids.append((p[1:] + p[:-1]) / 2)
        lengths, mids = np.concatenate(lengths), np.concatenate(mids)
        return (mids * lengths[:, None]).sum(0) / max(lengths.sum(), 1e-9)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) including the line half-width, cached (shapes are immutable)."""
        if "_bounds" not in self.__dict__:
            v = self.vertices()
            pad = 0.0 if self.closed else self.half_width
            self.__dict__["_bounds"] = (float(v[:, 0].min() - pad), float(v[:, 1].min() - pad),
                                        float(v[:, 0].max() + pad), float(v[:, 1].max() + pad))
        return self.__dict__["_bounds"]

    def touches_window(self, origin: tuple[int, int], size: int) -> bool:
        """Whether the bounds reach into the square window at `origin` (x, y) of `size` px."""
        x0, y0, x1, y1 = self.bounds()
        return x1 >= origin[0] - 1 and y1 >= origin[1] - 1 and x0 <= origin[0] + size + 1 and y0 <= origin[1] + size + 1


def _ring_centroid(ring: np.ndarray) -> np.ndarray:
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2
    if abs(area) < 1e-9:
        return ring.mean(0)
    return np.array([((x + x1) * cross).sum(), ((y + y1) * cross).sum()]) / (6 * area)


def render(shape: Shape, origin: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """(h, w) float mask of `shape` on the window whose top-left pixel corner is `origin` (x, y)."""
    h, w = (int(v) for v in size)
    if not shape.closed:
        return _stroke(shape, origin, (h, w))
    out = torch.zeros(h, w)
    x0, y0 = origin
    bx0, by0, bx1, by1 = shape.bounds()
    c0, r0 = max(int(np.floor(bx0)) - x0, 0), max(int(np.floor(by0)) - y0, 0)
    c1, r1 = min(int(np.ceil(bx1)) - x0 + 1, w), min(int(np.ceil(by1)) - y0 + 1, h)
    if c0 >= c1 or r0 >= r1:
        return out
    ys = torch.arange(r0, r1, dtype=torch.float32) + y0 + 0.5
    xs = torch.arange(c0, c1, dtype=torch.float32) + x0 + 0.5
    py, px = torch.meshgrid(ys, xs, indexing="ij")
    out[r0:r1, c0:c1] = _fill(shape.parts, px, py).float()
    return out


def _fill(rings: tuple[np.ndarray, ...], px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Even-odd point-in-polygon over all rings."""
    odd = torch.zeros_like(px, dtype=torch.bool)
    for ring in rings:
        a = torch.as_tensor(ring, dtype=torch.float32)
        b = torch.roll(a, -1, 0)
        ax, ay, bx, by = (v[:, None, None] for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
        straddle = (ay > py) != (by > py)
        cross_x = (bx - ax) * (py - ay) / torch.where(by == ay, torch.ones_like(by), by - ay) + ax
        odd ^= ((straddle & (px < cross_x)).sum(0) % 2).bool()
    return odd


PIECE = 12.0  # px: long segments are cut into pieces so each is drawn on a small patch


def _pieces(parts: tuple[np.ndarray, ...]) -> np.ndarray:
    """(S, 2, 2) segments of all polylines, none longer than PIECE."""
    segs = np.concatenate([np.stack([p[:-1], p[1:]], 1) for p in parts if len(p) > 1] or
                          [np.zeros((0, 2, 2))])
    d = segs[:, 1] - segs[:, 0]
    n = np.maximum(1, np.ceil(np.hypot(d[:, 0], d[:, 1]) / PIECE).astype(int))
    owner = np.repeat(np.arange(len(segs)), n)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(n) - n, n)
    t0, t1 = (step / n[owner])[:, None], ((step + 1) / n[owner])[:, None]
    a, d = segs[owner, 0], d[owner]
    return np.stack([a + t0 * d, a + t1 * d], 1)


def _stroke(shape: Shape, origin: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """Pixels within the half-width of any segment; each piece is measured on its own patch."""
    h, w = size
    hw = shape.half_width
    out = torch.zeros(h * w)
    seg = shape.pieces() - np.array(origin, float)
    lo = np.floor(seg.min(1) - hw).astype(int)  # patch corner per piece
    keep = (lo[:, 0] < w) & (lo[:, 1] < h) & (seg.max(1)[:, 0] + hw >= 0) & (seg.max(1)[:, 1] + hw >= 0)
    seg, lo = seg[keep], lo[keep]
    if not len(seg):
        return out.view(h, w)
    k = int(np.ceil(PIECE + 2 * hw)) + 2
    grid = torch.arange(k)
    cols = torch.as_tensor(lo[:, 0])[:, None, None] + grid[None, None, :]  # (S, 1, k)
    rows = torch.as_tensor(lo[:, 1])[:, None, None] + grid[None, :, None]  # (S, k, 1)
    seg = torch.as_tensor(seg, dtype=torch.float32)
    a, d = seg[:, 0, :, None, None], (seg[:, 1] - seg[:, 0])[:, :, None, None]
    px, py = cols + 0.5, rows + 0.5
    t = (((px - a[:, 0]) * d[:, 0] + (py - a[:, 1]) * d[:, 1]) / (d ** 2).sum(1).clamp_min(1e-9)).clamp(0, 1)
    near = (px - a[:, 0] - t * d[:, 0]) ** 2 + (py - a[:, 1] - t * d[:, 1]) ** 2 <= hw * hw
    near &= (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    index = (rows * w + cols).expand_as(near)[near]
    out[index] = 1.0
    return out.view(h, w)
