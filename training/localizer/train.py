"""The localizer's training loop: tri-map (or ablation) loss, oracle masks mixed in where given."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from core.checkpoints import checkpoint_meta, save_checkpoint
from core.devices import resolve_device
from core.localizer.builder import build_localizer, read_checkpoint
from core.localizer.config import FAMILY, LocalizerConfig, named_config
from core.localizer.dataset import Annotations, ClipSet, load_clip_set, oracle_mask, read_annotations
from core.localizer.losses import localization_loss
from core.localizer.network import EmbeddingStep, Localizer, similarity_maps
from training.distributed import (DistInfo, gathered_rows, init_distributed, mean_over_ranks, past_deadline,
                                  rank_slice, relaunch_under_torchrun, shutdown, wrap_model, write_record)
from training.localizer.options import PEOPLE_BOXES, LocalizerTrainOptions
from training.progress import JobProgress
from training.resume import ResumableRun, restore_training_state, training_state

Progress = Callable[[int, int, float], None] | None


@dataclass
class TrainResult:
    """The trained model and what happened."""

    model: Localizer
    losses: list[float] = field(default_factory=list)
    samples_per_second: float = 0.0
    steps: int = 0
    oracle_clips: int = 0
    processes: int = 1
    is_main: bool = True


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch of shuffled index batches with at least 2 clips each (the loss needs negatives)."""
    order = rng.permutation(n)
    size = min(batch_size, n)
    return [order[i:i + size] for i in range(0, n - size + 1, size)]


def _oracle_masks(clips: ClipSet, oracle: dict[str, Annotations] | None, grid: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(masks (n, grid, grid), labelled (n,)) for the clips people boxed."""
    masks = np.zeros((len(clips), grid, grid), dtype=np.float32)
    labelled = np.zeros(len(clips), dtype=bool)
    for i, key in enumerate(clips.keys):
        annotations = [boxes for boxes in (oracle or {}).get(key, []) if boxes]
        if annotations:
            masks[i], labelled[i] = oracle_mask(annotations, grid), True
    return masks, labelled


@torch.no_grad()
def clip_spectrograms(model: Localizer, waveforms: np.ndarray, chunk: int = 64) -> torch.Tensor:
    """(n, 1, F, T) log spectrograms of every clip, computed once (no augmentation touches audio)."""
    return torch.cat([model.spectrograms(torch.from_numpy(waveforms[i:i + chunk]))
                      for i in range(0, len(waveforms), chunk)])


def train(options: LocalizerTrainOptions) -> dict:
    """`train localizer`: train on options.data's clips, save the checkpoint and its record; returns the record."""
    record = relaunch_under_torchrun(FAMILY, options)
    if record is not None:
        return record
    if options.threads:
        torch.set_num_threads(options.threads)
    config, init_state = train_config(options)
    clips = load_clip_set(options.data, config.network.image_size, config.audio, limit=options.limit)
    oracle_file = options.oracle_boxes or Path(options.data) / PEOPLE_BOXES
    oracle = read_annotations(oracle_file) if options.oracle_boxes or oracle_file.is_file() else None
    resume = ResumableRun.for_training(FAMILY, options)
    result = train_localizer(config, clips, options, oracle, progress=_print_progress, init_state=init_state,
                             resume=resume)
    record = {"steps": result.steps, "clips": len(clips), "oracle_clips": result.oracle_clips,
              "processes": result.processes, "first_loss": result.losses[0], "final_loss": result.losses[-1],
              "samples_per_second": round(result.samples_per_second, 2), "losses": result.losses}
    if result.is_main:
        state = result.model.state_dict()
        if options.half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
        save_checkpoint(options.out, state, checkpoint_meta(FAMILY, config.to_dict(), {
            **settings, **{k: v for k, v in record.items() if k != "losses"}}))
        write_record(record, options.out)
    resume.finish()  # the checkpoint is written: nothing left to resume
    return record


def train_config(options: LocalizerTrainOptions) -> tuple[LocalizerConfig, dict | None]:
    """(config, initial weights or None): the named config, or the init checkpoint's, with the loss options."""
    state = None
    if options.init:
        state, config = read_checkpoint(options.init)
    else:
        config = named_config(options.config)
    temperature = options.temperature or (0.07 if options.loss_form == "infonce" else 1.0)
    thresholds = {k: v for k, v in (("eps_p", options.eps_p), ("eps_n", options.eps_n)) if v is not None}
    loss = replace(config.loss, variant=options.variant, form=options.loss_form, temperature=temperature,
                   easy_pool=options.easy_negatives, **thresholds)  # thresholds that make no tri-map: ValueError
    return replace(config, loss=loss), state


def _print_progress(step: int, total: int, loss: float) -> None:
    if step == 1 or step == total or step % 25 == 0:
        print(f"step {step}/{total} loss {loss:.4f}", file=sys.stderr, flush=True)


def train_localizer(config: LocalizerConfig, clips: ClipSet, options: LocalizerTrainOptions,
                    oracle: dict[str, Annotations] | None = None, progress: Progress = None,
                    init_state: dict | None = None, resume: ResumableRun | None = None) -> TrainResult:
    """Train a localizer on decoded clips (from `init_state` weights if given, else fresh);
    `oracle` maps clip keys to people's boxes (one list per person). Under torchrun each process takes its share of
    every global batch and the similarity maps span the whole batch (gathered embeddings). `resume` keeps a
    resumable state every few minutes and goes on from the one it finds (None: none kept)."""
    if len(clips) < 2:
        raise ValueError("training needs at least 2 clips")
    device = resolve_device(options.device)
    info = init_distributed(device)
    try:
        return _train(config, clips, options, oracle, progress, init_state, device, info,
                      resume or ResumableRun.inactive())
    finally:
        shutdown(info)


def _train(config: LocalizerConfig, clips: ClipSet, options: LocalizerTrainOptions, oracle: dict[str, Annotations] | None,
           progress: Progress, init_state: dict | None, device: torch.device, info: DistInfo,
           resume: ResumableRun) -> TrainResult:
    torch.manual_seed(options.seed)  # same seed on every process: same start, same global batches
    rng = np.random.default_rng(options.seed)
    model = build_localizer(config, options.visual_weights)
    if init_state is not None:
        model.load_state_dict({k: v.float() for k, v in init_state.items()})
    model = model.to(device).train()
    step_module = wrap_model(EmbeddingStep(model), info, device)
    optimiser = torch.optim.Adam(step_module.parameters(), lr=options.lr)
    grid = model.visual(torch.zeros(1, 3, config.network.image_size, config.network.image_size,
                                    device=device)).shape[-1]
    masks, labelled = _oracle_masks(clips, oracle, grid)
    images = torch.from_numpy(clips.images).permute(0, 3, 1, 2)  # uint8, moved per batch
    spectrograms = clip_spectrograms(model, clips.waveforms)
    result = TrainResult(model, oracle_clips=int(labelled.sum()), processes=info.world_size,
                         is_main=info.is_main)
    per_epoch = len(_batches(len(clips), options.batch_size, rng))
    total = options.max_steps or options.epochs * per_epoch
    warmup_loss = replace(config.loss, variant="positives-only")
    seen, started = 0, time.perf_counter()
    reporter = JobProgress.from_env() if info.is_main else None
    parts = {"model": model, "optimiser": optimiser}
    rest = None  # the current epoch's batches not yet trained on, when resumed mid-epoch
    if (saved := resume.load()) is not None:
        result.steps = restore_training_state(saved, parts, rng)
        result.losses, started = list(saved["losses"]), started - saved["elapsed_s"]
        seen, rest = saved["extra"]["seen"], [np.asarray(index) for index in saved["extra"]["epoch_rest"]]
    while result.steps < total:
        epoch = rest if rest is not None else _batches(len(clips), options.batch_size, rng)
        rest = None
        for position, index in enumerate(epoch):
            if result.steps >= total or past_deadline(time.perf_counter() - started, options.max_minutes, info,
                                                      device):
                total = result.steps
                break
            flip = options.flip and rng.random() < 0.5
            mine = index[rank_slice(len(index), info)]
            pixels = images[mine].to(device).float() / 255.0
            box_masks = torch.from_numpy(masks[index]).to(device)
            if flip:
                pixels, box_masks = pixels.flip(-1), box_masks.flip(-1)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                visual, audio = step_module(pixels, spectrograms[mine].to(device))
            maps = similarity_maps(gathered_rows(audio.float(), info), gathered_rows(visual.float(), info))
            has_oracle = torch.from_numpy(labelled[index]).to(device)
            loss_config = warmup_loss if result.steps < options.warmup_epochs * per_epoch else config.loss
            loss = localization_loss(maps, loss_config, box_masks if has_oracle.any() else None, has_oracle)
            optimiser.zero_grad(set_to_none=True)
            (loss * info.world_size).backward()  # see gathered_rows: DDP averages over ranks
            optimiser.step()
            result.steps += 1
            seen += len(index)
            result.losses.append(float(mean_over_ranks(loss, info)))
            if reporter:
                reporter.update(result.steps, total, result.losses[-1])
            if progress and info.is_main:
                progress(result.steps, total, result.losses[-1])
            if resume.due():
                resume.save(training_state(result.steps, parts, rng, result.losses, time.perf_counter() - started,
                                           seen=seen, epoch_rest=[b.tolist() for b in epoch[position + 1:]]))
    result.samples_per_second = seen / max(time.perf_counter() - started, 1e-9)
    model.eval()
    return result
