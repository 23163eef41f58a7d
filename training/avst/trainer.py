"""The AVST training loop: InfoNCE with the two-stage curriculum of 6.4.3, on one or several processes."""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.avst.audio import LogSpectrogram
from core.avst.builder import MAX_FRAMES, MAX_OFFSET, MIN_FRAMES, AVSTConfig, build_avst, load_avst
from core.avst.dataset import ClipArrays, inner_length, load_clip, read_sync_set, stage1_batch, stage2_batch
from core.avst.losses import info_nce, offset_info_nce
from training.checkpoints import load_checkpoint, save_checkpoint
from training.distributed import DistInfo, init_distributed, mean_over_ranks, rank_slice, shutdown, wrap_model
from training.progress import JobProgress


@dataclass
class TrainConfig:
    """How one training run goes."""

    epochs: int = 10
    # stage 0: encoder warm-up, each video's window against its own audio at every offset, scored by the
    # encoders' per-instant cosine (no Transformer): from scratch, the Transformer's scores alone give the
    # encoders no timing signal to start from (bench/avst/RESULTS.md)
    stage0_epochs: int = 0
    stage1_epochs: int = 3  # then epochs with negatives from other videos, then other offsets of the same video
    batch: int = 16  # videos per step (global: all processes together)
    group: int = 8  # videos per forward: k videos' pairs (stage 1), or k videos each at every offset (stage 2)
    lr: float = 1e-4  # 6.A: Adam, learning rate 1e-4
    warmup_steps: int = 0  # linear learning-rate warm-up from lr / 10
    clip_grad: float = 1.0  # gradient-norm clipping: short CPU runs with small same-video batches spike
    seed: int = 0
    max_steps: int | None = None
    max_minutes: float | None = None  # stop (and save) once training has run this long
    device: str = "cpu"
    all_categories: bool = False  # default: train on evident clips only, as VGG-Sound Sync drops ambient classes
    init: str | None = None  # start from these weights (the parent version); its config is used
    longest: int = MAX_FRAMES  # longest stage-2 window (input frames): short windows first, then longer

    @property
    def groups(self) -> int:
        """InfoNCE groups per step."""
        return max(1, self.batch // self.group)


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


def curriculum_batches(clips: list[ClipArrays], cfg: TrainConfig, epoch: int, rng: np.random.Generator):
    """Steps of one epoch: (stage, cfg.groups groups), the same on every rank; a group is `group` videos."""
    stage = 0 if epoch < cfg.stage0_epochs else 1 if epoch < cfg.stage0_epochs + cfg.stage1_epochs else 2
    if stage != 1:  # clips long enough for a window with audio at every offset
        clips = [c for c in clips if inner_length(c) >= MIN_FRAMES]
    order = [int(i) for i in rng.permutation(len(clips))]
    size = min(cfg.group, len(clips))
    per_step = size * cfg.groups
    for first in range(0, len(order) - per_step + 1, per_step):
        chosen = order[first: first + per_step]
        videos = [[clips[i] for i in chosen[g * size: (g + 1) * size]] for g in range(cfg.groups)]
        yield stage, [stage1_batch(v, rng) if stage == 1 else stage2_batch(v, rng, cfg.longest) for v in videos]


def initial_model(model_config: AVSTConfig, cfg: TrainConfig) -> tuple[nn.Module, AVSTConfig]:
    """A fresh network, or the --init checkpoint's (its own config wins)."""
    if not cfg.init:
        return build_avst(model_config), model_config
    state, meta = load_checkpoint(cfg.init)
    if "model" not in meta:
        raise ValueError(f"{cfg.init}: not an AVST checkpoint (its JSON has no 'model' config)")
    config = AVSTConfig.from_dict(meta["model"])
    return load_avst(state, config), config


def train_avst(data: str | Path, out: str | Path, model_config: AVSTConfig, cfg: TrainConfig,
               log=print) -> dict:
    """Train, save the checkpoint at out (rank 0) and return the run's record (losses, timings)."""
    device = torch.device(cfg.device)
    info = init_distributed(device)
    try:
        return _train(data, out, model_config, cfg, info, log)
    finally:
        shutdown(info)


def _train(data, out, model_config: AVSTConfig, cfg: TrainConfig, info: DistInfo, log) -> dict:
    torch.manual_seed(cfg.seed)  # same seed on every rank: same start, same global batches
    rng = np.random.default_rng(cfg.seed)
    started = time.perf_counter()
    share = rank_slice(cfg.groups, info)
    model, model_config = initial_model(model_config, cfg)
    clips = load_training_clips(data, model_config, cfg.all_categories)
    scorer = wrap_model(CurriculumLoss(model.to(cfg.device).train()), info, torch.device(cfg.device),
                        find_unused_parameters=cfg.stage0_epochs > 0)  # stage 0 leaves the Transformer out
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses, step = [], 0
    reporter = JobProgress.from_env() if info.is_main else None
    for epoch in range(cfg.epochs):
        epoch_losses = []
        for stage, groups in curriculum_batches(clips, cfg, epoch, rng):
            _set_lr(optimiser, cfg, step)
            value = _step(scorer, optimiser, stage, groups[share], cfg, info)
            epoch_losses.append(value)
            losses.append({"step": step, "epoch": epoch, "stage": stage, "loss": value})
            step += 1
            if reporter:
                reporter.update(step, cfg.max_steps or 0, value)
            if _out_of_budget(cfg, step, started, info):
                break
        if epoch_losses and info.is_main:
            log(f"epoch {epoch} stage {stage}: loss {np.mean(epoch_losses):.4f} ({len(epoch_losses)} steps, "
                f"{time.perf_counter() - started:.0f} s)")
            _save(out, model, model_config, cfg, data, clips, step, info, started)
        if _out_of_budget(cfg, step, started, info):
            break
    record = _save(out, model, model_config, cfg, data, clips, step, info, started)
    return record | {"losses": losses}


def _save(out, model: nn.Module, model_config: AVSTConfig, cfg: TrainConfig, data, clips: list, step: int,
          info: DistInfo, started: float) -> dict:
    """Write the checkpoint as it stands (rank 0; after every epoch, so a stopped run keeps its last one)."""
    record = {"model": model_config.to_dict(), "train": asdict(cfg) | {"data": str(data)},
              "clips": len(clips), "steps": step, "processes": info.world_size,
              "seconds": round(time.perf_counter() - started, 1)}
    if info.is_main:
        save_checkpoint(out, model.state_dict(), record)
    return record


def _step(scorer: nn.Module, optimiser: torch.optim.Optimizer, stage: int, groups: list, cfg: TrainConfig,
          info: DistInfo) -> float:
    """One optimiser step over this rank's groups; the loss is the mean InfoNCE over all ranks' groups."""
    optimiser.zero_grad()
    total = torch.zeros((), device=cfg.device)
    for index, group in enumerate(groups):
        frames, audio, lengths = group
        # one backward per group (gradients accumulate); DDP averages them over ranks on the last one
        defer = info.enabled and index < len(groups) - 1
        with scorer.no_sync() if defer else nullcontext():
            loss = scorer(stage, frames.to(cfg.device), audio.to(cfg.device),
                          lengths.to(cfg.device) if stage == 1 else lengths) / len(groups)
            loss.backward()
        total += loss.detach()
    torch.nn.utils.clip_grad_norm_(scorer.parameters(), cfg.clip_grad)
    optimiser.step()
    return float(mean_over_ranks(total, info))


def _set_lr(optimiser: torch.optim.Optimizer, cfg: TrainConfig, step: int) -> None:
    scale = 1.0 if step >= cfg.warmup_steps else 0.1 + 0.9 * step / cfg.warmup_steps
    for group in optimiser.param_groups:
        group["lr"] = cfg.lr * scale


def _out_of_budget(cfg: TrainConfig, step: int, started: float, info: DistInfo) -> bool:
    if cfg.max_steps is not None and step >= cfg.max_steps:
        return True
    if cfg.max_minutes is None:
        return False
    late = torch.tensor(float(time.perf_counter() - started >= 60 * cfg.max_minutes), device=cfg.device)
    return bool(mean_over_ranks(late, info) > 0)  # every rank stops at the same step once any is late
