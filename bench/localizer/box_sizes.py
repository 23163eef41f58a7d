"""Area share of the union of each clip's boxes: the real VGG-SS file against the generator.

Usage: python bench/localizer/box_sizes.py [--vggss ../shared/data/vggss/vggss.json] [--clips 400 --seed 9]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from core.localizer.metrics import box_mask
from core.synthetic.localization import generate_localization

QUANTILES = (10, 25, 50, 75, 90)


def union_shares(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(area share of the union of each entry's boxes, box count per entry) of a VGG-SS JSON."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    return (np.array([box_mask(e["bbox"]).mean() for e in entries]),
            np.array([len(e["bbox"]) for e in entries]))


def describe(shares: np.ndarray, counts: np.ndarray) -> dict:
    """Quantiles of the shares and the share of entries with several boxes."""
    return {"clips": len(shares), **{f"p{q}": round(float(np.percentile(shares, q)), 3) for q in QUANTILES},
            "several_boxes": round(float(np.mean(counts > 1)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vggss", type=Path, default=Path("../shared/data/vggss/vggss.json"))
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        generated = generate_localization(args.clips, args.seed, Path(folder), duration=1.0, video=False)
        results = {"vggss": describe(*union_shares(args.vggss)),
                   "generator": describe(*union_shares(generated / "vggss.json"))}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
