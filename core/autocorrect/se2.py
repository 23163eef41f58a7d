"""SE(2) transforms as 3x3 matrices: rotation about a centre, composition, inverse, frames.

Pixel coordinates run x right and y down the image, with pixel (row r, col c) covering
[c, c+1) x [r, r+1). A positive angle turns counter-clockwise as seen on the image (the
generator's convention): x' = cos x + sin y, y' = -sin x + cos y about the centre.
"""

from __future__ import annotations

import numpy as np
import torch


def se2_matrix(dx: float, dy: float, theta: float, centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The 3x3 matrix that turns by `theta` (rad, counter-clockwise on the image) about `centre`, then shifts."""
    c, s = np.cos(theta), np.sin(theta)
    cx, cy = centre
    return np.array([[c, s, cx - (c * cx + s * cy) + dx],
                     [-s, c, cy - (-s * cx + c * cy) + dy],
                     [0.0, 0.0, 1.0]])


def se2_params(matrix: np.ndarray, centre: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float, float]:
    """(dx, dy, theta) of a rigid matrix written as a turn about `centre` followed by a shift."""
    theta = float(np.arctan2(matrix[0, 1], matrix[0, 0]))
    moved = matrix @ np.array([centre[0], centre[1], 1.0])
    return float(moved[0] - centre[0]), float(moved[1] - centre[1]), theta


def compose(*matrices: np.ndarray) -> np.ndarray:
    """The product m1 @ m2 @ ...: the rightmost applies first."""
    out = np.eye(3)
    for m in matrices:
        out = out @ m
    return out


def invert(matrix: np.ndarray) -> np.ndarray:
    """The inverse rigid motion, exact for SE(2): [R^T, -R^T t]."""
    r, t = matrix[:2, :2], matrix[:2, 2]
    out = np.eye(3)
    out[:2, :2] = r.T
    out[:2, 2] = -r.T @ t
    return out


def apply_to_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(K, 2) points moved by a 3x3 matrix."""
    points = np.asarray(points, float)
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def affine_matrix(transform: tuple[float, ...] | list[float]) -> np.ndarray:
    """The 3x3 pixel-to-map matrix of a raster affine given as (a, b, c, d, e, f)."""
    a, b, c, d, e, f = (float(v) for v in list(transform)[:6])
    return np.array([[a, b, c], [d, e, f], [0.0, 0.0, 1.0]])


def pixel_to_map_motion(matrix_px: np.ndarray, transform: tuple[float, ...] | list[float]) -> np.ndarray:
    """The same motion expressed in map coordinates: A m A^-1 for the raster affine A."""
    a = affine_matrix(transform)
    return a @ matrix_px @ np.linalg.inv(a)


def window_frame(centre: tuple[float, float], half: float) -> np.ndarray:
    """Pixel -> normalised window coordinates u = (p - centre) / half (grid_sample's frame)."""
    return np.array([[1 / half, 0, -centre[0] / half], [0, 1 / half, -centre[1] / half], [0, 0, 1.0]])


# ---------------------------------------------------------------- batched torch versions


def params_to_matrices(params: torch.Tensor) -> torch.Tensor:
    """(B, 3) rows (dx, dy, theta) about the frame origin -> (B, 3, 3) matrices."""
    dx, dy, theta = params.unbind(-1)
    c, s = torch.cos(theta), torch.sin(theta)
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    return torch.stack([torch.stack([c, s, dx], -1), torch.stack([-s, c, dy], -1),
                        torch.stack([zero, zero, one], -1)], -2)


def matrices_to_params(matrices: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) rigid matrices -> (B, 3) rows (dx, dy, theta) about the frame origin."""
    theta = torch.atan2(matrices[:, 0, 1], matrices[:, 0, 0])
    return torch.stack([matrices[:, 0, 2], matrices[:, 1, 2], theta], -1)


def invert_batch(matrices: torch.Tensor) -> torch.Tensor:
    """Exact inverse of (B, 3, 3) rigid matrices."""
    r_t = matrices[:, :2, :2].transpose(1, 2)
    out = torch.zeros_like(matrices)
    out[:, :2, :2] = r_t
    out[:, :2, 2] = -(r_t @ matrices[:, :2, 2:]).squeeze(-1)
    out[:, 2, 2] = 1
    return out


def shift_frame(matrices: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Matrices given in a frame whose origin sits at `offset` (B, 2) of a second frame, in that second frame."""
    shift = torch.eye(3, dtype=matrices.dtype, device=matrices.device).repeat(len(matrices), 1, 1)
    shift[:, :2, 2] = offset
    return shift @ matrices @ invert_batch(shift)


def warp(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) images moved by (B, 3, 3) matrices in grid_sample's normalised frame."""
    source = invert_batch(matrices)[:, :2, :]
    grid = torch.nn.functional.affine_grid(source, list(images.shape), align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=False)
