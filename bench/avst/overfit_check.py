"""Diagnostic: can an AVST network fit stage 2 (offsets of the same video) on a handful of training clips?

Trains on the first N evident clips of a sync set with the trainer's own stage-2 batches and loss, and
prints the loss and the train-set offset accuracy (6.4.2 protocol, centred window, eval mode) as it goes.
Example (one thread):
    python bench/avst/overfit_check.py --data /tmp/h5/data/train --clips 16 --steps 300 --out overfit.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from core.avst.audio import LogSpectrogram
from core.avst.builder import build_avst
from core.avst.config import CONFIGS, VARIANTS, get_config
from core.avst.dataset import inner_length, load_clip, read_sync_set, stage1_batch, stage2_batch
from core.avst.evaluation import is_correct, predicted_offset
from core.avst.predictor import AVSTPredictor
from training.avst.trainer import CurriculumLoss


def train_accuracy(model: torch.nn.Module, config, clips: list, length: int) -> float:
    """Offset accuracy within tolerance on centred windows of `length` input frames (eval mode)."""
    predictor = AVSTPredictor(model, config, device="cpu")
    correct = []
    for clip in clips:
        start = (clip.n_frames - 5 * length) // 2
        scores = predictor.offset_scores(clip, start, length)
        correct.append(is_correct(predicted_offset(scores), clip.entry.offset_frames, clip.entry.speech))
    model.train()
    return float(np.mean(correct))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--stage1-steps", type=int, default=0)
    parser.add_argument("--variant", choices=VARIANTS, default="enc-mp")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--longest", type=int, default=10, help="longest stage-2 window (input frames)")
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    config = get_config(args.config, variant=args.variant)
    spectrogram = LogSpectrogram(config.n_mels)
    entries = [e for e in read_sync_set(args.data) if e.category == "evident"]
    clips = []
    for entry in entries:
        clip = load_clip(entry, config.image_size, spectrogram)
        if inner_length(clip) >= args.longest:
            clips.append(clip)
        if len(clips) == args.clips:
            break
    net = build_avst(config).train()
    model = CurriculumLoss(net)
    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    log, started = [], time.perf_counter()
    for step in range(args.stage1_steps + args.steps):
        stage = 1 if step < args.stage1_steps else 2
        order = rng.permutation(len(clips))[:16]
        chosen = [clips[i] for i in order]
        optimiser.zero_grad()
        if stage == 1:
            frames, spec, lengths = stage1_batch(chosen, rng)
            loss = model(1, frames, spec, lengths)
        else:
            frames, spans, length = stage2_batch(chosen, rng, args.longest)
            loss = model(2, frames, spans, length)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimiser.step()
        row = {"step": step + 1, "stage": stage, "loss": round(float(loss.detach()), 4),
               "seconds": round(time.perf_counter() - started, 1)}
        if (step + 1) % args.every == 0 and stage == 2:
            row["mean_loss"] = round(float(np.mean([r["loss"] for r in log[-args.every + 1:]] + [row["loss"]])), 4)
            row["train_accuracy"] = train_accuracy(net, config, clips, args.longest)
            print(json.dumps(row), flush=True)
        log.append(row)
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "log": log}, indent=1))


if __name__ == "__main__":
    main()
