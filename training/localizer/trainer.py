"""The localizer's training loop: tri-map (or ablation) loss, oracle masks mixed in where given."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from core.localizer.builder import build_localizer
from core.localizer.config import LocalizerConfig
from core.localizer.dataset import ClipSet, grid_mask
from core.localizer.losses import localization_loss
from core.localizer.network import Localizer
from core.localizer.predictor import pick_device
from training.progress import JobProgress

Progress = Callable[[int, int, float], None] | None


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (Adam as in 5.5.3; the thesis uses lr 1e-4, batch 256)."""

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-4
    seed: int = 0
    max_steps: int | None = None
    flip: bool = True  # random horizontal flips of the frame (and its oracle mask)
    # Without ImageNet weights the first maps mean nothing, so hard negatives picked from them
    # mislead; the first `warmup_epochs` train with positives and easy negatives only.
    warmup_epochs: int = 0
    device: str | None = None
    visual_weights: str | None = None


@dataclass
class TrainResult:
    """The trained model and what happened."""

    model: Localizer
    losses: list[float] = field(default_factory=list)
    samples_per_second: float = 0.0
    steps: int = 0
    oracle_clips: int = 0


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch of shuffled index batches with at least 2 clips each (the loss needs negatives)."""
    order = rng.permutation(n)
    size = min(batch_size, n)
    return [order[i:i + size] for i in range(0, n - size + 1, size)]


def _oracle_masks(clips: ClipSet, oracle: dict[str, list] | None, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """(masks (n, grid, grid), labelled (n,)) for the clips a person boxed."""
    masks = np.zeros((len(clips), grid, grid), dtype=np.float32)
    labelled = np.zeros(len(clips), dtype=bool)
    for i, key in enumerate(clips.keys):
        boxes = (oracle or {}).get(key)
        if boxes:
            masks[i], labelled[i] = grid_mask(boxes, grid), True
    return masks, labelled


def train_localizer(config: LocalizerConfig, clips: ClipSet, settings: TrainSettings,
                    oracle: dict[str, list] | None = None, progress: Progress = None) -> TrainResult:
    """Train a fresh localizer on decoded clips; `oracle` maps clip keys to a person's boxes."""
    if len(clips) < 2:
        raise ValueError("training needs at least 2 clips")
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    device = pick_device(settings.device)
    model = build_localizer(config, settings.visual_weights).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr)
    grid = model.visual(torch.zeros(1, 3, config.network.image_size, config.network.image_size,
                                    device=device)).shape[-1]
    masks, labelled = _oracle_masks(clips, oracle, grid)
    images = torch.from_numpy(clips.images).permute(0, 3, 1, 2)  # uint8, moved per batch
    waveforms = torch.from_numpy(clips.waveforms)
    result = TrainResult(model, oracle_clips=int(labelled.sum()))
    per_epoch = len(_batches(len(clips), settings.batch_size, rng))
    total = settings.max_steps or settings.epochs * per_epoch
    warmup_loss = replace(config.loss, variant="positives-only")
    seen, started = 0, time.perf_counter()
    reporter = JobProgress.from_env()
    while result.steps < total:
        for index in _batches(len(clips), settings.batch_size, rng):
            if result.steps >= total:
                break
            pixels = images[index].to(device).float() / 255.0
            box_masks = torch.from_numpy(masks[index]).to(device)
            if settings.flip and rng.random() < 0.5:
                pixels, box_masks = pixels.flip(-1), box_masks.flip(-1)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                maps = model(pixels, waveforms[index].to(device))
            has_oracle = torch.from_numpy(labelled[index]).to(device)
            loss_config = warmup_loss if result.steps < settings.warmup_epochs * per_epoch else config.loss
            loss = localization_loss(maps.float(), loss_config, box_masks if has_oracle.any() else None,
                                     has_oracle)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            result.steps += 1
            seen += len(index)
            result.losses.append(float(loss.detach()))
            reporter.update(result.steps, total, result.losses[-1])
            if progress:
                progress(result.steps, total, result.losses[-1])
    result.samples_per_second = seen / max(time.perf_counter() - started, 1e-9)
    model.eval()
    return result
