"""The best scores any heatmap can reach under the public protocol, on a set of boxes.

Median binarisation marks about half the frame as the prediction, so a clip whose boxes cover a
share g < 0.5 of the frame scores at most cIoU 2g (and 0.5 / g above 0.5), however good the map.
This script scores oracle maps (the boxes themselves, at full resolution and pooled to the network's
map size, with a tiny random field so that no two cells tie) with the same `clip_ciou` / `summarise`
code as `eval`, beside the centre prior.

Usage: python bench/localizer/protocol_ceiling.py --boxes ../shared/data/vggss/vggss.json /tmp/h4/test300/vggss.json
           --out bench/localizer/protocol_ceiling.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.localizer.centre_prior import centre_prior  # noqa: E402
from core.localizer.metrics import EVAL_SIZE, box_mask, clip_ciou, summarise  # noqa: E402

MAP_SIZES = (EVAL_SIZE, 8, 14)  # full resolution, then the `tiny` (128 px input) and `thesis` (224 px) maps


def oracle_map(boxes: list, size: int, rng: np.random.Generator) -> np.ndarray:
    """The boxes' mask area-pooled to (size, size), plus a field far below one cell's step (no ties)."""
    mask = torch.from_numpy(box_mask(boxes))[None, None]
    pooled = F.adaptive_avg_pool2d(mask, size)[0, 0].numpy() if size != EVAL_SIZE else mask[0, 0].numpy()
    return pooled + 1e-6 * rng.random(pooled.shape)


def ceilings(entries: list[dict], seed: int = 0) -> dict:
    """summarise() of the oracle maps at full and network resolution, and of the centre prior."""
    rng = np.random.default_rng(seed)
    prior = centre_prior()  # as `eval` scores it
    rows = {**{f"oracle_{s}x{s}": [] for s in MAP_SIZES}, "centre_prior": []}
    for entry in entries:
        boxes = [entry["bbox"]]
        for s in MAP_SIZES:
            rows[f"oracle_{s}x{s}"].append(clip_ciou(oracle_map(entry["bbox"], s, rng), boxes))
        rows["centre_prior"].append(clip_ciou(prior, boxes))
    shares = np.array([box_mask(e["bbox"]).mean() for e in entries])
    return {**{name: summarise(values) for name, values in rows.items()},
            "boxes_at_least_quarter_frame": float(np.mean(shares >= 0.25))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=Path, nargs="+", required=True, help="VGG-SS style JSON files")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    results = {str(path): ceilings(json.loads(path.read_text(encoding="utf-8"))) for path in args.boxes}
    print(json.dumps(results, indent=1))
    args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
