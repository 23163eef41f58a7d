"""Where the sounding object sits, and what the centre prior scores: the real VGG-SS file against
the generator (the metrics need only boxes and the prior's heatmap, no media).

Usage: python bench/localizer/box_positions.py [--vggss ../shared/data/vggss/vggss.json]
       [--clips 1000 --seed 9] [--data DIR ...] [--out box_positions.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from core.localizer.centre_prior import centre_prior
from core.localizer.dataset import read_annotations
from core.localizer.metrics import clip_ciou, summarise
from core.synthetic.localization import generate_localization

QUANTILES = (10, 25, 50, 75, 90)
FULL_SIDE = 0.98  # a union this wide (tall) has no horizontal (vertical) position to speak of


def union_boxes(path: Path) -> np.ndarray:
    """(n, 4) union [x1, y1, x2, y2] of the first annotator's boxes of each entry, clipped to the frame."""
    return np.array([[min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                      max(b[3] for b in boxes)]
                     for boxes in (np.clip(np.array(a[0], dtype=float)[:, :4], 0, 1).tolist()
                                   for a in read_annotations(path).values())])


def relative_positions(unions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x1 / (1 - width), y1 / (1 - height)) of unions narrower (shorter) than FULL_SIDE: 0 at the
    left (top) edge, 1 at the right (bottom) one."""
    width, height = unions[:, 2] - unions[:, 0], unions[:, 3] - unions[:, 1]
    return (unions[width < FULL_SIDE, 0] / (1 - width[width < FULL_SIDE]),
            unions[height < FULL_SIDE, 1] / (1 - height[height < FULL_SIDE]))


def _quantiles(values: np.ndarray) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(values, q)), 3) for q in QUANTILES}


def describe(path: Path) -> dict:
    """Position statistics of a VGG-SS JSON and the centre prior's metrics on it."""
    unions = union_boxes(path)
    x, y = relative_positions(unions)
    centres = (unions[:, :2] + unions[:, 2:]) / 2
    edge = (unions[:, :2] <= 0.01).any(1) | (unions[:, 2:] >= 0.99).any(1)
    prior = centre_prior()
    metrics = summarise([clip_ciou(prior, annotations) for annotations in read_annotations(path).values()])
    return {"clips": len(unions), "relative_x": _quantiles(x), "relative_y": _quantiles(y),
            "centre_distance": _quantiles(np.hypot(*(centres - 0.5).T)),
            "touches_edge": round(float(edge.mean()), 3),
            "centre_prior": {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vggss", type=Path, default=Path("../shared/data/vggss/vggss.json"))
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--data", type=Path, nargs="*", default=[], help="generated sets to describe too")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {"vggss": describe(args.vggss)}
    with tempfile.TemporaryDirectory() as folder:
        generated = generate_localization(args.clips, args.seed, Path(folder), duration=1.0, video=False)
        results[f"generator (seed {args.seed})"] = describe(generated / "vggss.json")
    for data in args.data:
        results[str(data)] = describe(data / "vggss.json")
    text = json.dumps(results, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
