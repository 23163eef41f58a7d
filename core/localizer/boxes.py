"""Stage 1 of the VGG-SS pipeline from a heatmap: threshold, connected regions, one box each."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from core.localizer.heatmaps import min_max, upsample


@dataclass(frozen=True)
class BoxConfig:
    """How heatmaps become boxes."""

    grid: int = 56  # resolution the regions are found at
    threshold: float = 0.5  # on the min-max normalised map
    max_boxes: int = 4  # the guide: a box per separable instance up to 4
    min_area: float = 0.005  # share of the frame; smaller regions are noise


@dataclass(frozen=True)
class ScoredBox:
    """A box normalised to [0, 1] and the heatmap's peak value inside it."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float

    def as_list(self) -> list[float]:
        """[x1, y1, x2, y2, score] rounded for storage."""
        return [round(float(v), 4) for v in (self.x1, self.y1, self.x2, self.y2, self.score)]


def connected_regions(mask: np.ndarray) -> np.ndarray:
    """Labels 1..n of the 4-connected regions of a boolean mask (0: background)."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    height, width = mask.shape
    count = 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if labels[y0, x0]:
            continue
        count += 1
        labels[y0, x0] = count
        queue = deque([(y0, x0)])
        while queue:
            y, x = queue.popleft()
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = count
                    queue.append((ny, nx))
    return labels


def heatmap_boxes(heatmap: np.ndarray, config: BoxConfig = BoxConfig()) -> list[ScoredBox]:
    """Boxes around the separate hot regions of a (h, w) map, best first, at most max_boxes."""
    raw = upsample(heatmap, config.grid)
    labels = connected_regions(min_max(raw) >= config.threshold)
    boxes = []
    for label in range(1, labels.max() + 1):
        ys, xs = np.nonzero(labels == label)
        if len(ys) / labels.size < config.min_area:
            continue
        side = float(config.grid)
        boxes.append(ScoredBox(xs.min() / side, ys.min() / side, (xs.max() + 1) / side,
                               (ys.max() + 1) / side, float(raw[ys, xs].max())))
    return sorted(boxes, key=lambda b: -b.score)[: config.max_boxes]
