"""AVST held-out accuracy on generated clips with known offsets, on every clip and on the confident ones.

Generated clips are in sync; each audio-visually evident one is written again with its audio moved by
a random offset in -MAX..MAX frames (25 fps; ffmpeg-free: core.media.write_shifted) and recorded in
sync.json, so the 6.4.2 protocol (`eval avst`) scores offsets the model must find. Confidence is the
card's calibration (`predict avst --clip`'s rule).

    python bench/avst/heldout_accuracy.py --clips 60 --seed 9090 --json bench/avst/heldout_accuracy_2026-12-07.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.media import write_shifted
from core.synthetic.sync import generate_sync
from training.avst.evaluate import evaluate
from training.avst.options import AVSTEvalOptions


def shifted_set(clips: int, seed: int, size: int, largest: int, out: Path) -> Path:
    """out/shifted: the evident clips of a generated set, each with its audio moved by a known random offset."""
    source = generate_sync(clips=clips, seed=seed, out=out / "source", min_duration=4.0, max_duration=8.0, size=size)
    rng = np.random.default_rng(seed)
    rows = []
    (out / "shifted" / "clips").mkdir(parents=True)
    for row in json.loads((source / "sync.json").read_text()):
        if row["category"] != "evident":
            continue
        offset = int(rng.integers(-largest, largest + 1))
        write_shifted(source / "clips" / f"{row['file']}.mp4", out / "shifted" / "clips" / f"{row['file']}.mp4", offset)
        rows.append({**row, "offset_frames": offset})
    (out / "shifted" / "sync.json").write_text(json.dumps(rows))
    return out / "shifted"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--seed", type=int, default=9090)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--largest", type=int, default=15, help="largest offset put in, 25 fps frames")
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: the bundled avst-demo")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        data = shifted_set(args.clips, args.seed, args.size, args.largest, Path(scratch))
        report = evaluate(AVSTEvalOptions(data=data, checkpoint=args.checkpoint, lengths="2,4", device="cpu"))
    summary = {"clips_scored": report["model"]["clips"], "accuracy": report["model"]["accuracy"],
               "accuracy_confident": report["model"].get("accuracy_confident"),
               "confident_share": report["model"].get("confident_share"),
               "classical_accuracy": report["classical"]["accuracy"], "chance": report["chance"]["accuracy"],
               "model_version": report["model_version"], "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv),
                                         "summary": summary, "report": report}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
