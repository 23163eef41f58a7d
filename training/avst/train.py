"""The AVST training loop: InfoNCE with the two-stage curriculum of 6.4.3, on one or several processes."""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.avst.audio import LogSpectrogram
from core.avst.builder import build_avst, load_avst, read_checkpoint
from core.avst.config import FAMILY, MAX_FRAMES, MAX_OFFSET, MIN_FRAMES, AVSTConfig, get_config
from core.avst.dataset import ClipArrays, inner_length, load_clip, read_sync_set, stage1_batch, stage2_batch
from core.avst.losses import info_nce, offset_info_nce
from core.checkpoints import checkpoint_meta, save_checkpoint
from core.devices import resolve_device
from training.avst.options import AVSTTrainOptions
from training.distributed import (DistInfo, init_distributed, mean_over_ranks, past_deadline, rank_slice,
                                  relaunch_under_torchrun, shutdown, wrap_model, write_record)
from training.progress import JobProgress
from training.resume import ResumableRun, restore_training_state, set_rng_states, training_state


# gradient-norm clipping: short CPU runs with small same-video batches spike
CLIP_GRAD = 1.0


@dataclass(frozen=True)
class Schedule:
    """The curriculum of one run, with its defaults resolved.

    Stage 0 is an encoder warm-up: each video's window against its own audio at every offset, scored
    by the encoders' per-instant cosine (no Transformer); from scratch the Transformer's scores alone
    give the encoders no timing signal to start from (bench/avst/RESULTS.md). Stage 1 takes negatives
    from other videos, stage 2 from other offsets of the same video (6.3.2).
    """

    epochs: int
    stage0_epochs: int
    stage1_epochs: int
    groups: int  # InfoNCE groups per step
    group: int  # videos per group
    longest: int  # longest stage-2 window (input frames): short windows first, then longer

    @classmethod
    def of(cls, options: AVSTTrainOptions) -> "Schedule":
        """The options' curriculum: a fifth of the epochs warm up from scratch (none with init), a third in stage 1."""
        stage1 = options.stage1_epochs if options.stage1_epochs is not None else max(1, options.epochs // 3)
        stage0 = options.stage0_epochs if options.stage0_epochs is not None else (
            0 if options.init else max(1, options.epochs // 5))
        return cls(options.epochs, stage0, stage1, max(1, options.batch_size // options.group), options.group,
                   min(options.longest, MAX_FRAMES))


def train(options: AVSTTrainOptions) -> dict:
    """`train avst`: train on options.data, save the checkpoint and its record; returns the record."""
    record = relaunch_under_torchrun(FAMILY, options)
    if record is not None:
        return record
    if options.threads:
        torch.set_num_threads(options.threads)
    record = train_avst(options, log=lambda line: print(line, file=sys.stderr, flush=True),
                        resume=ResumableRun.for_training(FAMILY, options))
    if options.loss_log:
        Path(options.loss_log).write_text(json.dumps(record, indent=1))
    if os.environ.get("RANK", "0") == "0":
        write_record(record, options.out)
    return record


class CurriculumLoss(nn.Module):
    """The InfoNCE of one group as a single forward call (what DDP wraps).

    Stage 1: s_ij of k aligned pairs from k videos (other videos are the negatives). Stage 2: each
    video's window against its audio at every offset -15..15 (other offsets are the negatives).
    Stage 0: the stage-2 batches scored by the encoders alone (`AVST.encoder_offset_scores`).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, stage: int, frames: torch.Tensor, audio: torch.Tensor, lengths) -> torch.Tensor:
        if stage in (0, 2):
            score = self.model.encoder_offset_scores if stage == 0 else self.model.offset_scores
            return offset_info_nce(score(frames, audio, int(lengths), 2 * MAX_OFFSET + 1), MAX_OFFSET)
        vis, vis_pad = self.model.visual_tokens(frames, lengths)
        aud, aud_pad = self.model.audio_tokens(audio, lengths)
        return info_nce(self.model.score_matrix(vis, vis_pad, aud, aud_pad))


def load_training_clips(data: str | Path, model: AVSTConfig, all_categories: bool) -> list[ClipArrays]:
    """Decoded clips of a sync set (evident ones unless all_categories)."""
    entries = [e for e in read_sync_set(data) if all_categories or e.category == "evident"]
    if not entries:
        raise ValueError(f"{data}: no clips to train on")
    spectrogram = LogSpectrogram(model.n_mels)
    return [load_clip(entry, model.image_size, spectrogram) for entry in entries]


def curriculum_batches(clips: list[ClipArrays], schedule: Schedule, epoch: int, rng: np.random.Generator):
    """Steps of one epoch: (stage, schedule.groups groups), the same on every rank; a group is `group` videos."""
    stage = (0 if epoch < schedule.stage0_epochs else
             1 if epoch < schedule.stage0_epochs + schedule.stage1_epochs else 2)
    if stage != 1:  # clips long enough for a window with audio at every offset
        clips = [c for c in clips if inner_length(c) >= MIN_FRAMES]
    order = [int(i) for i in rng.permutation(len(clips))]
    size = min(schedule.group, len(clips))
    per_step = size * schedule.groups
    for first in range(0, len(order) - per_step + 1, per_step):
        chosen = order[first: first + per_step]
        videos = [[clips[i] for i in chosen[g * size: (g + 1) * size]] for g in range(schedule.groups)]
        yield stage, [stage1_batch(v, rng) if stage == 1 else stage2_batch(v, rng, schedule.longest)
                      for v in videos]


def initial_model(options: AVSTTrainOptions) -> tuple[nn.Module, AVSTConfig]:
    """A fresh network of the named config and variant, or the init checkpoint's (its own config wins)."""
    if not options.init:
        config = get_config(options.config, variant=options.variant)
        return build_avst(config), config
    state, config = read_checkpoint(options.init)
    return load_avst(state, config), config


def train_avst(options: AVSTTrainOptions, log=print, resume: ResumableRun | None = None) -> dict:
    """Train, save the checkpoint at options.out (rank 0) and return the run's record (losses, timings);
    `resume` keeps a resumable state every few minutes and goes on from the one it finds (None: none kept)."""
    device = resolve_device(options.device)
    info = init_distributed(device)
    try:
        return _train(options, device, info, log, resume or ResumableRun.inactive())
    finally:
        shutdown(info)


def _train(options: AVSTTrainOptions, device: torch.device, info: DistInfo, log, resume: ResumableRun) -> dict:
    torch.manual_seed(options.seed)  # same seed on every rank: same start, same global batches
    rng = np.random.default_rng(options.seed)
    started = time.perf_counter()
    schedule = Schedule.of(options)
    share = rank_slice(schedule.groups, info)
    model, model_config = initial_model(options)
    clips = load_training_clips(options.data, model_config, options.all_categories)
    scorer = wrap_model(CurriculumLoss(model.to(device).train()), info, device,
                        find_unused_parameters=schedule.stage0_epochs > 0)  # stage 0 leaves the Transformer out
    optimiser = torch.optim.Adam(model.parameters(), lr=options.lr)
    losses, step, first_epoch, done = [], 0, 0, 0
    reporter = JobProgress.from_env() if info.is_main else None
    parts = {"model": model, "optimiser": optimiser}
    if (saved := resume.load()) is not None:
        step = restore_training_state(saved, parts, None)
        losses, started = list(saved["losses"]), started - saved["elapsed_s"]
        first_epoch, done = saved["extra"]["epoch"], saved["extra"]["epoch_steps"]
        rng.bit_generator.state = saved["extra"]["epoch_rng"]

    def save() -> dict:
        return _save(options, model, model_config, schedule, clips, step, info, started)

    for epoch in range(first_epoch, schedule.epochs):
        epoch_losses, epoch_rng = [], rng.bit_generator.state
        if done:  # resumed mid-epoch: this epoch's losses so far
            epoch_losses = [row["loss"] for row in losses if row["epoch"] == epoch]
        for position, (stage, groups) in enumerate(curriculum_batches(clips, schedule, epoch, rng)):
            if position < done:
                # the saved run trained on these draws: drawing them again brings the numpy generator to
                # where it was at the save; torch's generators come back as saved
                if position == done - 1:
                    set_rng_states(saved["rng"])
                continue
            if options.max_steps is not None and step >= options.max_steps:
                break  # resumed from a state saved after the last step
            _set_lr(optimiser, options, step)
            value = _step(scorer, optimiser, stage, groups[share], device, info)
            epoch_losses.append(value)
            losses.append({"step": step, "epoch": epoch, "stage": stage, "loss": value})
            step += 1
            if reporter:
                reporter.update(step, options.max_steps or 0, value)
            if resume.due():
                resume.save(training_state(step, parts, None, losses, time.perf_counter() - started, epoch=epoch,
                                           epoch_steps=position + 1, epoch_rng=epoch_rng))
            if _out_of_budget(options, step, started, info, device):
                break
        done = 0
        if epoch_losses and info.is_main:
            log(f"epoch {epoch} stage {stage}: loss {np.mean(epoch_losses):.4f} ({len(epoch_losses)} steps, "
                f"{time.perf_counter() - started:.0f} s)")
            save()
        if _out_of_budget(options, step, started, info, device):
            break
    record = save() | {"losses": losses}
    resume.finish()
    return record


def _save(options: AVSTTrainOptions, model: nn.Module, model_config: AVSTConfig, schedule: Schedule,
          clips: list, step: int, info: DistInfo, started: float) -> dict:
    """Write the checkpoint as it stands (rank 0; after every epoch, so a stopped run keeps its last one)."""
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
    record = checkpoint_meta(FAMILY, model_config.to_dict(), settings | asdict(schedule),
                             clips=len(clips), steps=step, processes=info.world_size,
                             seconds=round(time.perf_counter() - started, 1))
    if info.is_main:
        save_checkpoint(options.out, model.state_dict(), record)
    return record


def _step(scorer: nn.Module, optimiser: torch.optim.Optimizer, stage: int, groups: list, device: torch.device,
          info: DistInfo) -> float:
    """One optimiser step over this rank's groups; the loss is the mean InfoNCE over all ranks' groups."""
    optimiser.zero_grad()
    total = torch.zeros((), device=device)
    for index, group in enumerate(groups):
        frames, audio, lengths = group
        # one backward per group (gradients accumulate); DDP averages them over ranks on the last one
        defer = info.enabled and index < len(groups) - 1
        with scorer.no_sync() if defer else nullcontext():
            loss = scorer(stage, frames.to(device), audio.to(device),
                          lengths.to(device) if stage == 1 else lengths) / len(groups)
            loss.backward()
        total += loss.detach()
    torch.nn.utils.clip_grad_norm_(scorer.parameters(), CLIP_GRAD)
    optimiser.step()
    return float(mean_over_ranks(total, info))


def _set_lr(optimiser: torch.optim.Optimizer, options: AVSTTrainOptions, step: int) -> None:
    scale = 1.0 if step >= options.warmup_steps else 0.1 + 0.9 * step / options.warmup_steps
    for group in optimiser.param_groups:
        group["lr"] = options.lr * scale


def _out_of_budget(options: AVSTTrainOptions, step: int, started: float, info: DistInfo,
                   device: torch.device) -> bool:
    if options.max_steps is not None and step >= options.max_steps:
        return True
    return past_deadline(time.perf_counter() - started, options.max_minutes, info, device)
