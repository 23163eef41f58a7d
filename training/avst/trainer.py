"""The AVST training loop: InfoNCE with the two-stage curriculum of 6.4.3."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from core.avst.audio import LogSpectrogram
from core.avst.builder import AVSTConfig, build_avst
from core.avst.dataset import ClipArrays, load_clip, read_sync_set, stage1_batch, stage2_batch
from core.avst.losses import info_nce
from training.checkpoints import save_checkpoint
from training.progress import JobProgress


@dataclass
class TrainConfig:
    """How one training run goes."""

    epochs: int = 10
    stage1_epochs: int = 3  # epochs with negatives from other videos, then other offsets of the same video
    batch: int = 16  # pairs per stage-1 batch (k in the InfoNCE)
    group: int = 8  # pairs per video in stage 2
    lr: float = 1e-4  # 6.A: Adam, learning rate 1e-4
    clip_grad: float = 1.0  # gradient-norm clipping: short CPU runs with small same-video batches spike
    seed: int = 0
    max_steps: int | None = None
    max_minutes: float | None = None  # stop (and save) once training has run this long
    device: str = "cpu"
    all_categories: bool = False  # default: train on evident clips only, as VGG-Sound Sync drops ambient classes


def load_training_clips(data: str | Path, model: AVSTConfig, all_categories: bool) -> list[ClipArrays]:
    """Decoded clips of a sync set (evident ones unless all_categories)."""
    entries = [e for e in read_sync_set(data) if all_categories or e.category == "evident"]
    if not entries:
        raise ValueError(f"{data}: no clips to train on")
    spectrogram = LogSpectrogram(model.n_mels)
    return [load_clip(entry, model.image_size, spectrogram) for entry in entries]


def curriculum_batches(clips: list[ClipArrays], cfg: TrainConfig, epoch: int, rng: np.random.Generator):
    """Batches of one epoch: (stage, [(frames, spec, lengths), ...]) per step."""
    order = rng.permutation(len(clips))
    stage = 1 if epoch < cfg.stage1_epochs else 2
    if stage == 1:
        size = min(cfg.batch, len(clips))
        for first in range(0, len(order) - size + 1, size):
            yield stage, [stage1_batch([clips[i] for i in order[first: first + size]], rng)]
        return
    videos = max(1, cfg.batch // cfg.group)
    for first in range(0, len(order), videos):
        groups = [stage2_batch(clips[i], cfg.group, rng) for i in order[first: first + videos]]
        groups = [g for g in groups if g is not None and len(g[2]) > 1]
        if groups:
            yield stage, groups


def train_avst(data: str | Path, out: str | Path, model_config: AVSTConfig, cfg: TrainConfig,
               log=print) -> dict:
    """Train, save the checkpoint at out, and return the run's record (losses, timings)."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    started = time.perf_counter()
    clips = load_training_clips(data, model_config, cfg.all_categories)
    model = build_avst(model_config).to(cfg.device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    losses, step = [], 0
    reporter = JobProgress.from_env()
    for epoch in range(cfg.epochs):
        epoch_losses = []
        for stage, groups in curriculum_batches(clips, cfg, epoch, rng):
            loss = sum(_group_loss(model, g, cfg.device) for g in groups) / len(groups)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad)
            optimiser.step()
            value = loss.item()
            epoch_losses.append(value)
            losses.append({"step": step, "epoch": epoch, "stage": stage, "loss": value})
            step += 1
            reporter.update(step, cfg.max_steps or 0, value)
            if _out_of_budget(cfg, step, started):
                break
        if epoch_losses:
            log(f"epoch {epoch} stage {stage}: loss {np.mean(epoch_losses):.4f} ({len(epoch_losses)} steps, "
                f"{time.perf_counter() - started:.0f} s)")
        if _out_of_budget(cfg, step, started):
            break
    record = {"model": model_config.to_dict(), "train": asdict(cfg) | {"data": str(data)},
              "clips": len(clips), "steps": step, "seconds": round(time.perf_counter() - started, 1),
              "losses": losses}
    save_checkpoint(out, model.state_dict(), {k: v for k, v in record.items() if k != "losses"})
    return record


def _out_of_budget(cfg: TrainConfig, step: int, started: float) -> bool:
    return (cfg.max_steps is not None and step >= cfg.max_steps) or \
        (cfg.max_minutes is not None and time.perf_counter() - started >= 60 * cfg.max_minutes)


def _group_loss(model: torch.nn.Module, group, device: str) -> torch.Tensor:
    frames, spec, lengths = (t.to(device) for t in group)
    vis, vis_pad = model.visual_tokens(frames, lengths)
    aud, aud_pad = model.audio_tokens(spec, lengths)
    return info_nce(model.score_matrix(vis, vis_pad, aud, aud_pad))

