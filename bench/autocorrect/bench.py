"""AutoCorrect benchmark: accuracy on held-out tiles, Table 3.1 ablations, CPU/GPU speed.

Usage (see RESULTS.md for the exact runs):
  python bench/autocorrect/bench.py accuracy --checkpoint CKPT --data DIR [--data DIR ...] [--passes N ...] --out JSON [--threads 1]
  python bench/autocorrect/bench.py speed --checkpoint CKPT --data DIR|PACK --out JSON [--device cpu] [--threads 1]
  python bench/autocorrect/bench.py pack --data DIR --out PACK.pkl   # tiles as arrays, for a machine without the geo stack
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.autocorrect.memory_map import TileInput  # noqa: E402
from core.autocorrect.predictor import AutoCorrectPredictor  # noqa: E402
from core.autocorrect.windows import image_to_float  # noqa: E402


def accuracy(checkpoints: list[str], datas: list[str], device: str | None,
             passes: list[int] | None = None) -> list[dict]:
    """eval JSON per (checkpoint, data, passes), without the per-threshold noise."""
    from training.autocorrect.evaluate import evaluate_directory

    rows = []
    for checkpoint in checkpoints:
        for data in datas:
            for count in passes or [None]:
                result = evaluate_directory(checkpoint, data, device, count)
                rows.append(result)
                summary = {m: (round(result[m]["iou"], 4), round(result[m]["pck"]["5"], 4))
                           for m in ("model", "noisy_input", "global_shift")}
                print(Path(checkpoint).stem, Path(data).name, f"passes {result['passes']}", "(IoU, PCK@5):",
                      summary, flush=True)
    return rows


def speed(checkpoint: str, data: str, device: str | None, instances: int = 20, repeats: int = 11,
          copies: int = 1) -> dict:
    """Median seconds for one tile of `instances` instances, and batched instances/s over all tiles
    (each tile `copies` times, for batches the size a GPU wants)."""
    predictor = AutoCorrectPredictor.from_checkpoint(checkpoint, device)
    tiles = load_tiles(data, predictor.config.track_width_m)
    big = max(tiles, key=lambda t: len(t.shapes))
    if len(big.shapes) < instances:
        raise ValueError(f"{data}: no tile with {instances} instances (largest has {len(big.shapes)})")
    one = [TileInput(image_to_float(big.image), big.shapes[:instances])]
    result = {"device": str(predictor.device), "threads": torch.get_num_threads(), "tile_px": big.image.shape[1],
              "instances_per_tile": instances}
    for label, unc in (("with_uncertainty", True), ("correction_only", False)):
        predictor.correct(one, uncertainty=unc)  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            predictor.correct(one, uncertainty=unc)
            times.append(time.perf_counter() - start)
        result[f"tile_median_s_{label}"] = statistics.median(times)
        every = [TileInput(image_to_float(t.image), t.shapes) for t in tiles] * copies
        start = time.perf_counter()
        predictor.correct(every, uncertainty=unc)
        seconds = time.perf_counter() - start
        result[f"batched_instances_per_s_{label}"] = sum(len(t.shapes) for t in every) / seconds
    result["batched_tiles"] = len(tiles) * copies
    result["batched_instances"] = sum(len(t.shapes) for t in tiles) * copies
    print(json.dumps(result), flush=True)
    return result


def load_tiles(data: str | Path, track_width_m: float) -> list:
    """Tiles (with .image and .shapes) of a generated directory, or of a pack written by `pack`."""
    if str(data).endswith(".pkl"):
        return [SimpleNamespace(image=image, shapes=shapes) for image, shapes in pickle.loads(Path(data).read_bytes())]
    from core.autocorrect.geo_io import load_generated

    return load_generated(data, track_width_m)[1]


def pack(data: str, out: Path) -> None:
    """Write the directory's tiles as (image, shapes) pairs, so `speed` runs without rasterio/geopandas."""
    from core.autocorrect.geo_io import load_generated

    _, tiles = load_generated(data)
    out.write_bytes(pickle.dumps([(t.image, t.shapes) for t in tiles]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--checkpoint", action="append", required=True)
    acc.add_argument("--data", action="append", required=True)
    acc.add_argument("--passes", type=int, action="append", default=None,
                     help="Phi applications per instance (repeat to compare; default: the checkpoint's)")
    spd = sub.add_parser("speed")
    spd.add_argument("--checkpoint", required=True)
    spd.add_argument("--data", required=True)
    spd.add_argument("--copies", type=int, default=1, help="batch each tile this many times")
    pck = sub.add_parser("pack")
    pck.add_argument("--data", required=True)
    pck.add_argument("--out", type=Path, required=True)
    for p in (acc, spd):
        p.add_argument("--device", default=None)
        p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
        p.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.what == "pack":
        pack(args.data, args.out)
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.what == "accuracy":
        out = accuracy(args.checkpoint, args.data, args.device, args.passes)
    else:
        out = speed(args.checkpoint, args.data, args.device, copies=args.copies)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
