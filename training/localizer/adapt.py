"""Adapt the localizer to a project's unlabelled clips, and keep the result only if its self-check improves.

Training is the tri-map loss of 5.3.4 from the parent's weights, with the parent's loss settings,
on the project's clips as they are: each clip's own frame and audio are the positive pair, the other
clips of the batch the easy negatives, and the map's low region the hard negatives. No box is read.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from core.localizer.builder import read_checkpoint
from training.clip_adapt import compare, split_clips
from training.distributed import write_record
from training.localizer import FAMILY
from training.localizer.options import LocalizerAdaptOptions, LocalizerTrainOptions
from training.localizer.selfcheck import project_self_check
from training.localizer.train import train


def adapt(options: LocalizerAdaptOptions) -> dict:
    """`adapt localizer`: train on options.data's own clips, self-check parent and child; returns the record."""
    if options.threads:
        torch.set_num_threads(options.threads)
    parent = Path(options.init) if options.init else FAMILY.bundled_for()
    loss = read_checkpoint(parent)[1].loss
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="localizer-adapt-") as scratch:
        split = split_clips(options.data, options.check_share, Path(scratch))
        record = train(LocalizerTrainOptions(
            data=split.train_dir, out=options.out, init=parent, epochs=options.epochs, max_steps=options.max_steps,
            max_minutes=options.minutes, batch_size=options.batch_size, lr=options.lr, seed=options.seed,
            device=options.device, variant=loss.variant, loss_form=loss.form, temperature=loss.temperature,
            easy_negatives=loss.easy_pool, eps_p=loss.eps_p, eps_n=loss.eps_n))
        reports, improved = compare(parent, Path(options.out), split.check_dir, project_self_check)
    record = {k: v for k, v in record.items() if k != "losses"} | {
        "adapted_from": str(parent), "trained_clips": split.trained, "held_out_clips": split.held_out,
        "self_check": reports, "improved": improved, "seconds_total": round(time.perf_counter() - started, 1)}
    write_record(record, options.out)
    return record
