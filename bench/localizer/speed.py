"""Localizer speed: one clip (decode + heatmap + boxes), batched predict, training samples/s.

Usage: python bench/localizer/speed.py --data DIR [--checkpoint CKPT] [--device cpu|cuda] --out speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from core.localizer.dataset import load_clip_set, media_file
from training.localizer.predict import load_predictor
from training.localizer.options import LocalizerTrainOptions
from training.localizer.train import train_localizer


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=8)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    predictor = load_predictor(args.checkpoint, args.device)
    clips_dir = Path(args.data) / "clips"
    paths = sorted(clips_dir.iterdir())[: args.clips]
    predictor.localize_file(paths[0])  # warm-up
    single = [_timed(lambda p=p: predictor.localize_file(p)) for p in paths]
    decode = [_timed(lambda p=p: predictor.decode(p)) for p in paths]
    clips = load_clip_set(args.data, predictor.config.network.image_size, predictor.config.audio,
                          limit=args.clips)
    batch = slice(0, args.batch_size)
    predictor.localize_arrays(clips.images[batch], clips.waveforms[batch])
    model_seconds = min(_timed(lambda: predictor.localize_arrays(clips.images[batch], clips.waveforms[batch]))
                        for _ in range(3))
    with_decode = _timed(lambda: predictor.localize_arrays(
        *map(np.stack, zip(*[predictor.decode(media_file(clips_dir, k)) for k in clips.keys[batch]]))))
    trained = train_localizer(predictor.config, clips, LocalizerTrainOptions(
        data=clips_dir, out=clips_dir / "speed.pt", batch_size=args.batch_size, max_steps=args.train_steps,
        device=args.device))
    n = len(clips.keys[batch])
    results = {
        "device": args.device, "torch_threads": torch.get_num_threads(), "config": predictor.config.name,
        "model_version": predictor.model_version,
        "one_clip_ms_median": 1000 * statistics.median(single),
        "one_clip_ms_p90": 1000 * float(np.percentile(single, 90)),
        "decode_ms_median": 1000 * statistics.median(decode),
        "batched_clips_per_second_model_and_boxes": n / model_seconds,
        "batched_clips_per_second_with_decoding": n / with_decode,
        "train_samples_per_second": trained.samples_per_second,
        "clips_timed": len(single), "batch_size": n,
    }
    print(json.dumps(results, indent=2))
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
