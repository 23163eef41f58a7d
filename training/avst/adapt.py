"""Adapt AVST to a project's unlabelled clips, and keep the result only if its self-check improves.

The project's clips are taken to be in sync, as VGG-Sound Sync's clips are before offsets are put in
(6.4.2): each clip's own sync is the positive, other clips (stage 1) and other offsets of the same
clip (stage 2) the negatives, the curriculum of 6.4.3 from the parent's weights. No offset label is
read, not even a generated folder's sync.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from core.avst.predictor import AVSTPredictor
from training.avst import FAMILY
from training.avst.options import AVSTAdaptOptions, AVSTTrainOptions
from training.avst.train import train
from training.clip_adapt import compare, media_files, split_clips
from training.distributed import write_record

CHECK_CLIPS = 48  # a self-check looks at up to this many clips


def adapt(options: AVSTAdaptOptions) -> dict:
    """`adapt avst`: train on options.data's own clips, self-check parent and child; returns the record."""
    if options.threads:
        torch.set_num_threads(options.threads)
    parent = Path(options.init) if options.init else FAMILY.bundled_for()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="avst-adapt-") as scratch:
        split = split_clips(options.data, options.check_share, Path(scratch))
        rows = [{"file": f.stem, "category": "evident", "offset_frames": 0} for f in media_files(split.train_dir)]
        (split.train_dir / "sync.json").write_text(json.dumps(rows))
        record = train(AVSTTrainOptions(
            data=split.train_dir, out=options.out, init=parent, epochs=options.epochs,
            stage1_epochs=options.stage1_epochs, max_steps=options.max_steps, max_minutes=options.minutes,
            batch_size=options.batch_size, group=min(8, options.batch_size), lr=options.lr, seed=options.seed,
            device=options.device))
        reports, improved = compare(parent, Path(options.out), split.check_dir,
                                    lambda path, folder: self_check(path, folder, options.device))
    record = {k: v for k, v in record.items() if k != "losses"} | {
        "adapted_from": str(parent), "trained_clips": split.trained, "held_out_clips": split.held_out,
        "self_check": reports, "improved": improved, "seconds_total": round(time.perf_counter() - started, 1)}
    write_record(record, options.out)
    return record


def self_check(checkpoint: Path, data: Path, device: str | None = None) -> dict:
    """Known shifts of (up to CHECK_CLIPS of) data/clips, recovered or not (core/avst/selfcheck.py), as JSON."""
    predictor = AVSTPredictor.from_checkpoint(checkpoint, device)
    files = media_files(data)
    files = files[:: max(1, len(files) // CHECK_CLIPS)][:CHECK_CLIPS]
    clips = []
    for path in files:
        try:
            clips.append(predictor.load(path))
        except ValueError as error:  # too short or unreadable: not checkable
            print(f"self-check skips {path.name}: {error}", file=sys.stderr, flush=True)
    return {**predictor.self_check(clips).to_dict(), "model_version": predictor.model_version}


def project_self_check(checkpoint: Path, data: Path, settings: dict | None = None) -> dict:
    """The self-check of a checkpoint on a project's clips (settings are not used by AVST)."""
    return self_check(checkpoint, data)
