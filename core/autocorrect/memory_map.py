"""Sequential correction with the spatial memory map (eq. 3.4), batched across tiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from core.autocorrect.rasterize import Shape, render
from core.autocorrect.se2 import compose, params_to_matrices, se2_matrix
from core.autocorrect.windows import (ArrayWindows, WindowSource, normalised_to_pixels, window_centre,
                                      window_origin)


@dataclass
class TileInput:
    """One image and its annotations in pixel coordinates."""

    image: WindowSource | torch.Tensor | np.ndarray  # an array (windows.image_to_float's input) is wrapped
    shapes: list[Shape]
    fixed: dict[int, Shape] = field(default_factory=dict)  # set by a person (or outside the chip): memory only

    def __post_init__(self) -> None:
        if isinstance(self.image, torch.Tensor | np.ndarray):
            self.image = ArrayWindows(self.image)


@dataclass
class TileResult:
    """Per-instance pixel-space corrections (3x3) and their uncertainty in pixels (None if fixed)."""

    matrices: list[np.ndarray]
    uncertainty: list[float | None]
    confident: list[bool] | None = None  # set by AutoCorrectPredictor.propose
    raw: list[np.ndarray] | None = None  # the model's corrections before unsure ones were dropped


def correction_order(centroids: np.ndarray) -> list[int]:
    """Instance indices left to right, then bottom to top (larger image y first)."""
    centroids = np.asarray(centroids, float).reshape(-1, 2)
    return sorted(range(len(centroids)), key=lambda i: (round(centroids[i, 0], 3), -centroids[i, 1]))


def memory_window(shapes: list[Shape], skip: int, origin: tuple[int, int], size: int) -> torch.Tensor:
    """M: every annotation but `skip`, at its current place, on one window (clamped to 1)."""
    memory = torch.zeros(size, size)
    for j, shape in enumerate(shapes):
        if j != skip and shape.touches_window(origin, size):  # most of a tile's instances are elsewhere
            memory += render(shape, origin, (size, size))
    return memory.clamp_(max=1.0)


def window_input(image: WindowSource, shape: Shape, memory_shapes: list[Shape] | None, skip: int,
                 size: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """(C, size, size) network input centred on `shape`, and the window centre."""
    centre = window_centre(shape.centroid())
    origin = window_origin(centre, size)
    planes = [image.window(centre, size), render(shape, origin, (size, size))[None]]
    if memory_shapes is not None:
        planes.append(memory_window(memory_shapes, skip, origin, size)[None])
    return torch.cat(planes), centre


def probe_motions(rng: np.random.Generator, max_shift: float, max_rot: float) -> list[np.ndarray]:
    """Two random perturbations (about the origin) used to measure disagreement."""
    return [se2_matrix(*rng.uniform(-max_shift, max_shift, 2), rng.uniform(-max_rot, max_rot))
            for _ in range(2)]


def correct_sequentially(predict: Callable[[torch.Tensor], torch.Tensor], tiles: list[TileInput],
                         window: int, memory_map: bool = True, probes: float = 0.0,
                         max_rot: float = 0.0, seed: int = 0, passes: int = 1,
                         accept: Callable[[Shape, np.ndarray, float | None], bool] | None = None) -> list[TileResult]:
    """Correct every tile's instances one at a time; step k of all tiles is one forward pass.

    M_i = M_{i-1} + t_i . y_i - y_{i+1} (eq. 3.4): the current shape list is the memory, with the
    corrected ones at their corrected place. With `probes` > 0 each instance is also corrected
    from two copies perturbed by up to `probes` px / `max_rot` rad, and the mean vertex distance
    between the two corrected copies is its uncertainty. With `passes` > 1, Phi is applied again
    to its own output (same memory) and the corrections are composed: iterative error feedback
    (Carreira et al. 2016, cited in the thesis' related work), not part of chapter 3's method.
    With `accept(shape, correction, uncertainty)`, a refused correction becomes the identity before
    the memory map is updated (the instance stays where it was for the instances after it too); the
    model's own correction is kept in `raw` and the decision in `confident`.
    """
    rng = np.random.default_rng(seed)
    current = [[t.fixed.get(j, s) for j, s in enumerate(t.shapes)] for t in tiles]
    results = [TileResult([np.eye(3) for _ in t.shapes], [None] * len(t.shapes)) for t in tiles]
    orders = [[i for i in correction_order([s.centroid() for s in t.shapes]) if i not in t.fixed]
              for t in tiles]
    memory = (lambda k: current[k]) if memory_map else (lambda k: None)
    for step in range(max((len(o) for o in orders), default=0)):
        jobs, requests = [], []
        for k, (tile, order) in enumerate(zip(tiles, orders)):
            if step >= len(order):
                continue
            i = order[step]
            shape = current[k][i]
            moves = [np.eye(3)]
            if probes > 0:
                centre = shape.centroid()
                moves += [compose(se2_matrix(centre[0], centre[1], 0), m, se2_matrix(-centre[0], -centre[1], 0))
                          for m in probe_motions(rng, probes, max_rot)]
            requests += [(tile.image, shape.moved(move), memory(k), i) for move in moves]
            jobs.append((k, i, moves))
        found, cursor = pixel_corrections(predict, requests, window), 0
        for k, i, moves in jobs:
            corrections = [t @ move for t, move in zip(found[cursor:cursor + len(moves)], moves)]
            cursor += len(moves)
            results[k].matrices[i] = corrections[0]
            if len(corrections) == 3:
                v = current[k][i].vertices()
                a, b = (v @ c[:2, :2].T + c[:2, 2] for c in corrections[1:])
                results[k].uncertainty[i] = float(np.hypot(*(a - b).T).mean())
        for _ in range(passes - 1):
            requests = [(tiles[k].image, current[k][i].moved(results[k].matrices[i]), memory(k), i)
                        for k, i, _ in jobs]
            for (k, i, _), t in zip(jobs, pixel_corrections(predict, requests, window)):
                results[k].matrices[i] = t @ results[k].matrices[i]
        for k, i, _ in jobs:
            if accept is not None:
                result = results[k]
                if result.confident is None:
                    result.confident, result.raw = [False] * len(tiles[k].shapes), [np.eye(3)] * len(tiles[k].shapes)
                result.raw[i] = result.matrices[i]
                result.confident[i] = bool(accept(current[k][i], result.matrices[i], result.uncertainty[i]))
                if not result.confident[i]:
                    result.matrices[i] = np.eye(3)
            current[k][i] = current[k][i].moved(results[k].matrices[i])
    return results


def pixel_corrections(predict: Callable[[torch.Tensor], torch.Tensor],
                      requests: list[tuple[WindowSource, Shape, list[Shape] | None, int]],
                      window: int) -> list[np.ndarray]:
    """Phi's pixel-space correction for each (image, shape, memory shapes or None, own index), one pass."""
    inputs, centres = zip(*(window_input(image, shape, shapes, i, window) for image, shape, shapes, i in requests))
    matrices = params_to_matrices(predict(torch.stack(inputs)).float().cpu()).double().numpy()
    return [normalised_to_pixels(m, centre, window) for m, centre in zip(matrices, centres)]
