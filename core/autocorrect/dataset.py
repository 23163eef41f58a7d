"""Training batches: perturbed labels, the memory map and the frames J_s / J_c need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from core.autocorrect.memory_map import TileInput, correct_sequentially, correction_order
from core.autocorrect.rasterize import Shape, render
from core.autocorrect.se2 import se2_matrix, window_frame
from core.autocorrect.windows import crop, image_to_float, window_centre


@dataclass
class Tile:
    """One training image with its (possibly noisy) label shapes in pixel coordinates."""

    image: torch.Tensor  # (3, H, W) float from image_to_float
    shapes: list[Shape]
    clean: list[bool] | None = None  # per shape: verified by a person (J_s holds exactly); None: none are


@dataclass
class Batch:
    """One or two perturbed views per sample; matrices in the label's own normalised window frame."""

    x1: torch.Tensor  # (B, C, W, W) network inputs for g1 . y
    g1: torch.Tensor  # (B, 3, 3) perturbations in the label's frame
    offset1: torch.Tensor  # (B, 2) where window 1's centre lies in the label's frame
    clean: torch.Tensor  # (B,) bool: the label is verified
    x2: torch.Tensor | None = None  # the second view (J_c), when drawn
    g2: torch.Tensor | None = None
    offset2: torch.Tensor | None = None
    labels: torch.Tensor | None = None  # (B, 1, W, W) the unperturbed label, for the gating IoU

    def to(self, device: torch.device) -> "Batch":
        """The same batch on `device`."""
        return Batch(**{k: None if v is None else v.to(device) for k, v in vars(self).items()})

    def subset(self, rows: slice) -> "Batch":
        """The samples in `rows` (a rank's share of a global batch)."""
        return Batch(**{k: None if v is None else v[rows] for k, v in vars(self).items()})


@dataclass
class Layout:
    """One inference run over a tile: where M showed each label, and in which order they were corrected."""

    noisy: list[np.ndarray]  # per label: its perturbation g_j (M before j is corrected)
    corrected: list[np.ndarray]  # per label: t_j g_j, where the network put it (M after)
    rank: np.ndarray  # per label: its step in the correction order


class TrainingTiles:
    """Tiles with their label masks rendered once; draws batches of perturbed samples."""

    def __init__(self, tiles: list[Tile], window: int, max_shift: float | Sequence[float], max_rot_deg: float,
                 memory_map: bool = True) -> None:
        """`max_shift`: the perturbation bound in px, one for every tile or one per tile."""
        self.tiles, self.window, self.memory_map = tiles, window, memory_map
        shifts = [max_shift] * len(tiles) if np.isscalar(max_shift) else list(max_shift)
        if len(shifts) != len(tiles):
            raise ValueError(f"{len(shifts)} perturbation bounds for {len(tiles)} tiles")
        self.max_shift, self.max_rot = [float(m) for m in shifts], np.radians(max_rot_deg)
        self.masks = [torch.stack([render(s, (0, 0), t.image.shape[1:]) for s in t.shapes])[:, None]
                      for t in tiles]
        self.centroids = [np.array([s.centroid() for s in t.shapes]) for t in tiles]
        # how far each mask reaches from its centroid: to skip masks that cannot touch a window
        self.reach = [np.array([np.hypot(*(s.vertices() - c).T).max() + s.half_width + 2
                                for s, c in zip(t.shapes, cs)]) for t, cs in zip(tiles, self.centroids)]
        self.rank = [np.argsort(correction_order(c)) for c in self.centroids]
        self.items = [(k, i) for k, t in enumerate(tiles) for i in range(len(t.shapes))]
        self.clean = [bool(t.clean[i]) if t.clean else False for k, t in enumerate(tiles)
                      for i in range(len(t.shapes))]
        if not self.items:
            raise ValueError("no annotations to train on")
        self.layouts: list[list[Layout]] | None = None  # None: earlier neighbours at their label

    def follow_model(self, predict: Callable[[torch.Tensor], torch.Tensor], rng: np.random.Generator,
                     rounds: int) -> None:
        """From now on M shows what inference shows: the network's own corrections of earlier labels.

        Each tile is perturbed `rounds` times and corrected sequentially by `predict` (eq. 3.4);
        a sample then takes one of these runs: the labels corrected before its own at the place
        the network put them, the later ones at their perturbed place.
        """
        noisy = [[[self.random_motion(rng, c, k) for c in cs] for k, cs in enumerate(self.centroids)]
                  for _ in range(rounds)]
        inputs = [TileInput(t.image, [s.moved(g) for s, g in zip(t.shapes, gs)])
                  for gs_per_tile in noisy for t, gs in zip(self.tiles, gs_per_tile)]
        results = correct_sequentially(predict, inputs, self.window, self.memory_map)
        self.layouts = [[] for _ in self.tiles]
        for n, (tile_input, result) in enumerate(zip(inputs, results)):
            k, gs = n % len(self.tiles), noisy[n // len(self.tiles)][n % len(self.tiles)]
            order = correction_order([s.centroid() for s in tile_input.shapes])
            self.layouts[k].append(Layout(gs, [t @ g for t, g in zip(result.matrices, gs)],
                                          np.argsort(order)))

    def random_motion(self, rng: np.random.Generator, centre: np.ndarray, tile: int = 0) -> np.ndarray:
        """A pixel-space perturbation g about `centre`: shift up to the tile's bound, turn up to max_rot."""
        dx, dy = rng.uniform(-self.max_shift[tile], self.max_shift[tile], 2)
        return se2_matrix(dx, dy, rng.uniform(-self.max_rot, self.max_rot), tuple(centre))

    def batch(self, rng: np.random.Generator, size: int, views: int = 2) -> Batch:
        """`size` samples, each seen through `views` (1: J_s only, 2: J_c too) independent perturbations."""
        picks = rng.integers(len(self.items), size=size)
        drawn = [[self._view(rng, *self.items[p], label=v == 0 and views == 2) for p in picks]
                 for v in range(views)]
        stack = lambda v, key: torch.stack([torch.as_tensor(s[key]) for s in v]).float()
        clean = torch.tensor([self.clean[p] for p in picks])
        first = Batch(stack(drawn[0], "x"), stack(drawn[0], "g"), stack(drawn[0], "offset"), clean)
        if views == 1:
            return first
        return Batch(first.x1, first.g1, first.offset1, clean, stack(drawn[1], "x"), stack(drawn[1], "g"),
                     stack(drawn[1], "offset"), stack(drawn[0], "label"))

    def _view(self, rng: np.random.Generator, k: int, i: int, label: bool = False) -> dict:
        """One sample: window on g . y_i, with the others in memory (eq. 3.4's M_{i-1})."""
        tile, masks, w = self.tiles[k], self.masks[k], self.window
        half, c = w / 2, self.centroids[k][i]
        g = self.random_motion(rng, c, k)
        label_centre = window_centre(c)
        centre = window_centre(g @ np.array([c[0], c[1], 1.0]))
        layout = self.layouts[k][rng.integers(len(self.layouts[k]))] if self.layouts else None
        motions = [g if j == i else self._neighbour_motion(rng, k, i, j, layout) for j in range(len(masks))]
        planes = [crop(tile.image, centre, w), _sample(masks[i:i + 1], [g], centre, w)[0]]
        if self.memory_map:
            near = [j for j in range(len(masks)) if j != i and self._touches(k, j, motions[j], centre)]
            others = _sample(masks[near], [motions[j] for j in near], centre, w).sum(0) if near else planes[1] * 0
            planes.append(others.clamp(max=1.0))
        frame = window_frame(label_centre, half)
        view = {"x": torch.cat(planes), "g": frame @ g @ np.linalg.inv(frame),
                "offset": (np.array(centre) - np.array(label_centre)) / half}
        if label:
            view["label"] = _sample(masks[i:i + 1], [np.eye(3)], label_centre, w)[0]
        return view

    def _neighbour_motion(self, rng: np.random.Generator, k: int, i: int, j: int, layout: Layout | None) -> np.ndarray:
        """Where M shows label j while label i is corrected: earlier ones corrected, later ones perturbed."""
        if layout is not None:
            return layout.corrected[j] if layout.rank[j] < layout.rank[i] else layout.noisy[j]
        if self.rank[k][j] < self.rank[k][i]:
            return np.eye(3)  # a perfect earlier correction
        return self.random_motion(rng, self.centroids[k][j], k)

    def _touches(self, k: int, j: int, motion: np.ndarray, centre: tuple[int, int]) -> bool:
        """Whether mask j of tile k, moved by `motion`, can reach the window at `centre`."""
        c = motion @ np.array([*self.centroids[k][j], 1.0])
        return bool(np.abs(c[:2] - np.asarray(centre)).max() < self.reach[k][j] + self.window / 2)


def _sample(masks: torch.Tensor, motions: list[np.ndarray], centre: tuple[int, int], size: int) -> torch.Tensor:
    """(N, 1, size, size) binary masks moved by pixel-space `motions`, on the window at `centre`."""
    h, w = masks.shape[-2:]
    to_tile = np.array([[2 / w, 0, -1], [0, 2 / h, -1], [0, 0, 1.0]])
    from_window = np.linalg.inv(window_frame(centre, size / 2))
    theta = np.stack([(to_tile @ np.linalg.inv(m) @ from_window)[:2] for m in motions])
    grid = F.affine_grid(torch.as_tensor(theta, dtype=torch.float32), [len(masks), 1, size, size],
                         align_corners=False)
    return (F.grid_sample(masks, grid, align_corners=False) > 0.5).float()


def tiles_from_arrays(images: list[np.ndarray], shapes: list[list[Shape]],
                      clean: list[list[bool] | None] | None = None) -> list[Tile]:
    """Tiles from (bands, H, W) uint8 arrays, their shapes and (optionally) which labels are verified."""
    clean = clean or [None] * len(images)
    return [Tile(image_to_float(img), list(s), c) for img, s, c in zip(images, shapes, clean)]
