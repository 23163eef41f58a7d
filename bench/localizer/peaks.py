"""Where a localizer's heatmaps peak on clips with boxes (inside the truth or not, at which cells)
and how sparse they are.

Usage: python bench/localizer/peaks.py --data DIR --checkpoint CKPT [CKPT ...] [--out peaks.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from core.localizer.dataset import load_clip_set
from core.localizer.heatmaps import upsample
from core.localizer.metrics import EVAL_SIZE, binarised_prediction, consensus_mask
from training.localizer.evaluation import predicted_heatmaps
from training.localizer.loading import load_predictor


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
            "median_binarised_area": float(np.mean([binarised_prediction(h).mean() for h in heatmaps]))}


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
              f"median-binarised area {stats['median_binarised_area']:.3f}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
