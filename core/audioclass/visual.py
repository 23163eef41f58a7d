"""Visual features of a clip for curation's retrieval and de-duplication (4.3.4 uses visual representations).

No visual network is trained here: a clip's feature is its frames' colour layout (the mean frame at
1 fps pooled to 8 x 8 RGB cells, centred and L2-normalised, 192 numbers). Clips without video get None.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.media import MediaError, read_frames

GRID = 8  # cells per side


def colour_layout(frames: np.ndarray) -> np.ndarray:
    """(GRID * GRID * 3,) unit feature of (T, H, W, 3) uint8 frames."""
    mean = frames.astype(np.float32).mean(axis=0)
    h, w = (mean.shape[0] // GRID) * GRID, (mean.shape[1] // GRID) * GRID
    cells = mean[:h, :w].reshape(GRID, h // GRID, GRID, w // GRID, 3).mean(axis=(1, 3)).ravel()
    cells = cells - cells.mean()
    norm = float(np.linalg.norm(cells))
    return cells / norm if norm > 0 else cells


def visual_feature(path: str | Path, fps: float = 1.0) -> np.ndarray | None:
    """The colour layout of a media file's frames at `fps`, or None when it has no video."""
    try:
        frames, _ = read_frames(path, fps=fps)
    except (MediaError, OSError):
        return None
    return colour_layout(frames) if len(frames) else None
