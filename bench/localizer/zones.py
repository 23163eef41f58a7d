"""Where a localizer's own maps S_{i->i} fall in the tri-map of 5.3.4: the share of cells above
eps_p (positive), between eps_n and eps_p (ignored) and below eps_n (hard negative), on the
sounding object's boxes and off them, with the thresholds 0.65 / 0.4 of the thesis.

Usage: python bench/localizer/zones.py --data DIR --checkpoint CKPT [CKPT ...] [--clips 300] [--out JSON]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from audio_use import encoded_clips, report_per_checkpoint  # sibling script (bench/localizer/)
from core.localizer.config import LossConfig
from core.localizer.dataset import grid_mask
from core.localizer.network import own_maps, similarity_maps


def zone_shares(maps: np.ndarray, inside: np.ndarray, eps_p: float, eps_n: float) -> dict:
    """{"object" | "background": {"positive", "ignored", "negative", "mean_s"}} over all clips' cells."""
    result = {}
    for name, cells in (("object", inside), ("background", ~inside)):
        values = maps[cells]
        result[name] = {"positive": float((values > eps_p).mean()),
                        "ignored": float(((values >= eps_n) & (values <= eps_p)).mean()),
                        "negative": float((values < eps_n).mean()), "mean_s": float(values.mean())}
    return result


def own_map_zones(checkpoint: str, data: Path, clips: int) -> dict:
    """zone_shares of one checkpoint's own maps on the first `clips` clips of data."""
    clip_set, visual, audio = encoded_clips(checkpoint, data, clips)
    with torch.inference_mode():
        maps = own_maps(similarity_maps(audio, visual)).numpy()
    inside = np.stack([grid_mask(boxes[0], maps.shape[-1]) for boxes in clip_set.annotations]).astype(bool)
    thresholds = LossConfig()
    return {**zone_shares(maps, inside, thresholds.eps_p, thresholds.eps_n), "clips": len(maps),
            "object_cell_share": float(inside.mean())}


if __name__ == "__main__":
    report_per_checkpoint(own_map_zones, __doc__.splitlines()[0], clips=300)
