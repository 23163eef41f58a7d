"""Time to score all 31 offsets of a 5 s clip on this CPU (decoding excluded), and a whole predict_clip.

Usage: python bench/avst/scoring_speed.py --checkpoint training/checkpoints/avst-demo.pt --out bench/avst/scoring_speed.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core.avst.dataset import max_length
from core.avst.predictor import AVSTPredictor
from core.synthetic.sync import generate_sync
from training.avst import FAMILY
from training.family import bundled_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(bundled_checkpoint(FAMILY.bundled["sync"])))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    predictor = AVSTPredictor.from_checkpoint(args.checkpoint, args.device)
    with tempfile.TemporaryDirectory() as tmp:
        data = generate_sync(clips=1, seed=21, out=Path(tmp), min_duration=5.0, max_duration=5.0)
        path = next((data / "clips").glob("*.mp4"))
        start = time.perf_counter()
        clip = predictor.load(path)
        decode = time.perf_counter() - start
        length = max_length(clip)  # 25 input frames = 5 s at 5 fps
        predictor.offset_scores(clip, 0, length)  # warm-up
        scoring = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            predictor.offset_scores(clip, 0, length)
            scoring.append(time.perf_counter() - start)
        whole = []
        for _ in range(3):
            start = time.perf_counter()
            predictor.predict_clip(clip)
            whole.append(time.perf_counter() - start)
    result = {"checkpoint": args.checkpoint, "variant": predictor.config.variant, "device": args.device,
              "threads": args.threads,
              "input_frames": length, "clip_seconds": clip.n_frames / 25,
              "score_31_offsets_s_median": round(float(np.median(scoring)), 4),
              "score_31_offsets_s_max": round(float(np.max(scoring)), 4),
              "predict_clip_with_curve_s_median": round(float(np.median(whole)), 4),
              "decode_s": round(decode, 4)}
    print(json.dumps(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
