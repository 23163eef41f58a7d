"""Where a localizer's own maps S_{i->i} fall in the tri-map of 5.3.4: the share of cells above
eps_p (positive), between eps_n and eps_p (ignored) and below eps_n (hard negative), on the
sounding object's boxes and off them, with the thresholds 0.65 / 0.4 of the thesis.

Usage: python bench/localizer/zones.py --data DIR --checkpoint CKPT [CKPT ...] [--clips 300] [--out JSON]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from core.localizer.config import LossConfig
from core.localizer.dataset import grid_mask, load_clip_set
from core.localizer.network import similarity_maps
from training.localizer.loading import load_predictor


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
    predictor = load_predictor(checkpoint, "cpu")
    clip_set = load_clip_set(data, predictor.config.network.image_size, predictor.config.audio,
                             require_boxes=True, limit=clips)
    with torch.inference_mode():
        images = torch.from_numpy(clip_set.images).permute(0, 3, 1, 2).float() / 255.0
        visual, audio = predictor.model.encode(images, torch.from_numpy(clip_set.waveforms))
        maps = torch.stack([similarity_maps(a[None], v[None])[0, 0] for a, v in zip(audio, visual)]).numpy()
    inside = np.stack([grid_mask(boxes[0], maps.shape[-1]) for boxes in clip_set.annotations]).astype(bool)
    thresholds = LossConfig()
    return {**zone_shares(maps, inside, thresholds.eps_p, thresholds.eps_n), "clips": len(maps),
            "object_cell_share": float(inside.mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--checkpoint", nargs="+", required=True)
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {c: own_map_zones(c, args.data, args.clips) for c in args.checkpoint}
    text = json.dumps(results, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
