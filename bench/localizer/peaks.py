"""Where a localizer's heatmaps peak on clips with boxes (inside the truth or not, at which cells),
how sparse they are, and how much of each map the tri-map's pseudo masks take.

Usage: python bench/localizer/peaks.py --data DIR --checkpoint CKPT [CKPT ...] [--out peaks.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from core.localizer.config import LossConfig
from core.localizer.dataset import grid_mask, load_clip_set
from core.localizer.heatmaps import upsample
from core.localizer.losses import soft_threshold
from core.localizer.metrics import EVAL_SIZE, binarised_prediction, consensus_mask
from training.localizer.evaluate import predicted_heatmaps
from training.localizer.predict import load_predictor


def peak_statistics(heatmaps: np.ndarray, annotations: list) -> dict:
    """Share of clips whose peak lies in the truth, whose truth is hotter than the rest, a histogram
    of the peak cell over the (h, w) grid, and the maps' sparsity."""
    in_box, hotter = [], []
    for heatmap, boxes in zip(heatmaps, annotations):
        truth = consensus_mask(boxes) > 0
        scaled = upsample(heatmap, EVAL_SIZE)
        in_box.append(bool(truth.flat[int(scaled.argmax())]))
        hotter.append(bool(scaled[truth].mean() > scaled[~truth].mean()))
    cells = np.bincount(heatmaps.reshape(len(heatmaps), -1).argmax(1), minlength=heatmaps[0].size)
    return {"peak_in_box": float(np.mean(in_box)), "box_hotter_than_rest": float(np.mean(hotter)),
            "peak_cell_counts": cells.reshape(heatmaps.shape[1:]).tolist(), "clips": len(heatmaps),
            "share_of_cells_below_0.001": float((heatmaps < 1e-3).mean()),
            "cells_above_0.5_per_map": float((heatmaps > 0.5).sum((1, 2)).mean()),
            "median_binarised_area": float(np.mean([binarised_prediction(h).mean() for h in heatmaps])),
            **pseudo_mask_shares(heatmaps, annotations)}


def pseudo_mask_shares(heatmaps: np.ndarray, annotations: list, loss: LossConfig = LossConfig()) -> dict:
    """Share of map cells the tri-map calls positive (S > eps_p), ignored and negative (S < eps_n),
    the soft masks' shares, S quantiles, and the share of cells the first annotator's boxes cover."""
    maps = torch.from_numpy(heatmaps)
    truth = np.stack([grid_mask(boxes[0], heatmaps.shape[-1]) for boxes in annotations])
    return {"share_above_eps_p": float((heatmaps > loss.eps_p).mean()),
            "share_ignored": float(((heatmaps >= loss.eps_n) & (heatmaps <= loss.eps_p)).mean()),
            "share_below_eps_n": float((heatmaps < loss.eps_n).mean()),
            "soft_positive_share": float(soft_threshold(maps, loss.eps_p, loss.tau).mean()),
            "soft_negative_share": float((1 - soft_threshold(maps, loss.eps_n, loss.tau)).mean()),
            "s_quantiles_1_10_50_90_99": np.percentile(heatmaps, [1, 10, 50, 90, 99]).round(4).tolist(),
            "truth_cell_share": float(truth.mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint", nargs="+", required=True)
    parser.add_argument("--out")
    args = parser.parse_args()
    results = {}
    for checkpoint in args.checkpoint:
        predictor = load_predictor(checkpoint, "cpu")
        clips = load_clip_set(args.data, predictor.config.network.image_size, predictor.config.audio,
                              require_boxes=True)
        results[Path(checkpoint).stem] = peak_statistics(predicted_heatmaps(predictor, clips), clips.annotations)
        stats = results[Path(checkpoint).stem]
        print(f"{Path(checkpoint).stem}: peak in box {stats['peak_in_box']:.3f}, "
              f"box hotter than rest {stats['box_hotter_than_rest']:.3f}, "
              f"cells < 0.001 {stats['share_of_cells_below_0.001']:.3f}, "
              f"median-binarised area {stats['median_binarised_area']:.3f}, "
              f"S > eps_p {stats['share_above_eps_p']:.3f} (truth covers {stats['truth_cell_share']:.3f})")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
