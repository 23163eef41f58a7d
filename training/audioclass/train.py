"""The audio classifier's training loop: random 5 s crops, Adam, cross entropy over a softmax (4.4.2)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.audioclass.builder import build_classifier, read_checkpoint
from core.audioclass.config import FAMILY, AudioClassConfig, named_config
from core.audioclass.dataset import load_clip_set, spectrograms
from core.audioclass.network import AudioClassifier
from core.checkpoints import checkpoint_meta, save_checkpoint
from core.devices import resolve_device
from training.audioclass.options import AudioClassTrainOptions
from training.distributed import write_record
from training.progress import JobProgress

Progress = Callable[[int, int, float], None] | None
LR_DROP_AT = 0.8  # 4.4.2 divides the rate by 10 "after training plateaus"; here after 80 % of the steps


@dataclass(frozen=True)
class FitSettings:
    """How long and how fast one classifier trains."""

    epochs: int = 12
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    max_steps: int | None = None
    max_minutes: float | None = None
    device: str | None = None


@dataclass
class FitResult:
    """The trained model and what happened."""

    model: AudioClassifier
    losses: list[float] = field(default_factory=list)
    steps: int = 0
    samples_per_second: float = 0.0


def random_crops(specs: torch.Tensor, frames: int, rng: np.random.Generator) -> torch.Tensor:
    """(B, 1, F, frames) random time crops of (B, 1, F, T) spectrograms (zero-padded when T < frames)."""
    total = specs.shape[-1]
    if total <= frames:
        return F.pad(specs, (0, frames - total))
    starts = rng.integers(0, total - frames + 1, len(specs))
    return torch.stack([specs[i, :, :, s:s + frames] for i, s in enumerate(starts)])


def fit_classifier(config: AudioClassConfig, specs: torch.Tensor, targets: np.ndarray, settings: FitSettings,
                   init_state: dict | None = None, progress: Progress = None) -> FitResult:
    """Train a classifier over config.classes on (n, 1, F, T) spectrograms with (n,) class indices."""
    if len(specs) < 2:
        raise ValueError("training needs at least 2 clips")
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    model = build_classifier(config)
    if init_state is not None:
        model.load_state_dict({k: v.float() for k, v in init_state.items()})
    model = model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr)
    batch = min(settings.batch_size, len(specs))
    per_epoch = max(1, len(specs) // batch)
    total = settings.max_steps or settings.epochs * per_epoch
    crop = config.audio.frames(config.audio.crop_seconds)
    labels = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    result, seen, started = FitResult(model), 0, time.perf_counter()
    reporter = JobProgress.from_env()
    while result.steps < total:
        order = rng.permutation(len(specs))
        for start in range(0, len(order) - batch + 1, batch):
            if result.steps >= total or (settings.max_minutes and
                                         time.perf_counter() - started > 60 * settings.max_minutes):
                total = result.steps
                break
            if result.steps == int(LR_DROP_AT * total):
                for group in optimiser.param_groups:
                    group["lr"] = settings.lr / 10
            index = order[start:start + batch]
            x = random_crops(specs[index], crop, rng).to(device).float()
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), labels[index].to(device))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            result.steps += 1
            seen += len(index)
            result.losses.append(round(loss.item(), 5))
            reporter.update(result.steps, total, result.losses[-1])
            if progress:
                progress(result.steps, total, result.losses[-1])
    result.samples_per_second = seen / max(time.perf_counter() - started, 1e-9)
    model.eval()
    return result


def class_indices(labels: list[str], classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(index of each label in classes or -1, mask of known labels)."""
    lookup = {c: i for i, c in enumerate(classes)}
    index = np.array([lookup.get(label, -1) for label in labels], dtype=np.int64)
    return index, index >= 0


def train_config(options: AudioClassTrainOptions, labels: list[str]) -> tuple[AudioClassConfig, dict | None]:
    """(config, initial weights or None): the init checkpoint's (with its classes), else the named config
    over the sorted labels of the data."""
    if options.init:
        state, config = read_checkpoint(options.init)
        return config, state
    return named_config(options.config, tuple(sorted(set(labels)))), None


def _print_progress(step: int, total: int, loss: float) -> None:
    if step == 1 or step == total or step % 25 == 0:
        print(f"step {step}/{total} loss {loss:.4f}", file=sys.stderr, flush=True)


def train(options: AudioClassTrainOptions) -> dict:
    """`train audioclass`: train on options.data's labelled clips, save the checkpoint and its record."""
    if options.nproc_per_node > 1 or options.nnodes > 1:
        raise ValueError("audioclass trains in one process (no torchrun)")
    if options.threads:
        torch.set_num_threads(options.threads)
    base = read_checkpoint(options.init)[1] if options.init else named_config(options.config)
    clips = load_clip_set(options.data, base.audio, options.labels, options.limit, options.split)
    config, init_state = train_config(options, clips.labels)
    targets, known = class_indices(clips.labels, config.classes)
    specs = spectrograms(clips.waveforms[known], config.audio)
    settings = FitSettings(options.epochs, options.batch_size, options.lr, options.seed, options.max_steps,
                           options.max_minutes, options.device)
    result = fit_classifier(config, specs, targets[known], settings, init_state, _print_progress)
    record = {"steps": result.steps, "clips": int(known.sum()), "unknown_labels": int((~known).sum()),
              "classes": len(config.classes), "first_loss": result.losses[0], "final_loss": result.losses[-1],
              "samples_per_second": round(result.samples_per_second, 2), "losses": result.losses}
    settings_json = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
    save_checkpoint(options.out, result.model.state_dict(), checkpoint_meta(FAMILY, config.to_dict(), {
        **settings_json, **{k: v for k, v in record.items() if k != "losses"}}))
    write_record(record, options.out)
    return record


def with_classes(config: AudioClassConfig, classes: tuple[str, ...]) -> AudioClassConfig:
    """The same network over other classes."""
    return replace(config, classes=tuple(classes))
