"""Train AutoCorrect on a generated (or exported) geo directory with J_s, J_c or the gated joint loss."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from core.autocorrect.builder import build_autocorrect, read_checkpoint
from core.autocorrect.config import FAMILY, AutoCorrectConfig, get_config
from core.autocorrect.dataset import Batch, Layout, TrainingTiles, tiles_from_arrays
from core.autocorrect.losses import (consistency_loss, joint_loss, loss_unit_px, rescale,
                                     self_supervised_loss, window_to_loss_scale)
from core.autocorrect.se2 import params_to_matrices, shift_frame
from core.checkpoints import checkpoint_meta, save_checkpoint
from core.devices import resolve_device
from training.autocorrect.options import AutoCorrectTrainOptions
from training.distributed import (DistInfo, init_distributed, mean_over_ranks, past_deadline, rank_slice,
                                  relaunch_under_torchrun, shutdown, wrap_model, write_record)
from training.progress import JobProgress
from training.resume import ResumableRun, restore_training_state, training_state

LOSSES = ("self", "consistency", "joint")


def predicted_matrices(model: torch.nn.Module, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Phi's output as matrices in the label's frame (the window frame shifted by `offset`)."""
    return shift_frame(params_to_matrices(model(x)), offset)


def predicted_pair(model: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """t1, t2 for both views in one forward pass (one DDP forward per backward)."""
    t = predicted_matrices(model, torch.cat([batch.x1, batch.x2]), torch.cat([batch.offset1, batch.offset2]))
    return t[:len(batch.x1)], t[len(batch.x1):]


def batch_loss(model: torch.nn.Module, batch: Batch, loss: str, gated: bool, scale: float = 1.0,
               gate_iou: float = 0.2, gate_dilate: int = 0) -> torch.Tensor:
    """The training objective for one batch (J_s: eq. 3.2, J_c: eq. 3.3, gating: eq. 3.5).

    `scale` multiplies translations before the matrices are compared (see losses.loss_unit_px).
    """
    if loss == "self":
        t1 = predicted_matrices(model, batch.x1, batch.offset1)
        return self_supervised_loss(rescale(t1, scale), rescale(batch.g1, scale)).mean()
    t1, t2 = predicted_pair(model, batch)
    if loss == "consistency":
        return consistency_loss(*(rescale(m, scale) for m in (t1, batch.g1, t2, batch.g2))).mean()
    return joint_loss(t1, batch.g1, t2, batch.g2, batch.labels if gated else None, batch.clean, scale, gate_iou,
                      gate_dilate)


def frozen_predictor(net: torch.nn.Module, device: torch.device, chunk: int = 256):
    """Phi in eval mode without gradients, as inference runs it (CPU tensors in and out)."""
    def predict(x: torch.Tensor) -> torch.Tensor:
        net.eval()
        with torch.no_grad():
            out = torch.cat([net(part.to(device)).float().cpu() for part in x.split(chunk)])
        net.train()
        return out
    return predict


def model_config(options: AutoCorrectTrainOptions, kind: str) -> tuple[AutoCorrectConfig, dict | None]:
    """The network's config (from --init's checkpoint when given) and the weights to start from."""
    if options.init:
        state, config = read_checkpoint(options.init)
        if config.kind != kind:
            raise ValueError(f"{options.init}: a {config.kind} checkpoint cannot start a {kind} run")
        return config, state
    overrides = {"memory_map": options.memory_map, "kind": kind}
    if options.window:
        overrides["window"] = options.window
    return get_config(options.config, **overrides), None


def train(options: AutoCorrectTrainOptions) -> dict:
    """`train autocorrect`: train on options.data, save the checkpoint and its record; returns the record."""
    record = relaunch_under_torchrun(FAMILY, options)
    if record is None:
        record = run_training(options, progress=lambda line: print(line, file=sys.stderr, flush=True),
                              resume=ResumableRun.for_training(FAMILY, options))
        if record["rank"] == 0:
            write_record(record, options.out)
    return record


def run_training(options: AutoCorrectTrainOptions, progress=print, loaded: tuple[str, list] | None = None,
                 every: tuple[int, Callable[[int, torch.nn.Module], None]] | None = None,
                 resume: ResumableRun | None = None) -> dict:
    """Train, save the checkpoint (+ JSON config) on rank 0 and return the run's record.

    `loaded` is (kind, tiles) already in memory (anything with .image, .shapes, .verified), read
    from options.data when None. `every` = (n, hook) calls hook(step, network) every n steps on the
    main process (the network in train mode; the hook must not change it). `resume` keeps a
    resumable state every few minutes and goes on from the one it finds (None: none kept).
    """
    if options.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}")
    if options.threads:
        torch.set_num_threads(options.threads)
    device = resolve_device(options.device)
    info = init_distributed(device)
    try:
        return _train(options, progress, device, info, loaded, every, resume)
    finally:
        shutdown(info)


def _train(options: AutoCorrectTrainOptions, progress, device: torch.device, info: DistInfo,
           loaded: tuple[str, list] | None, every: tuple[int, Callable] | None = None,
           resume: ResumableRun | None = None) -> dict:
    resume = resume or ResumableRun.inactive()
    torch.manual_seed(options.seed)  # same seed on every rank: same start, same global batches
    rng = np.random.default_rng(options.seed)
    share = rank_slice(options.batch_size, info)
    config, state = None, None
    if loaded is None:
        from core.autocorrect.geo_io import at_model_gsd, load_generated  # the geo stack only where files are read

        kind, tiles = load_generated(options.data, with_truth=False)
        config, state = model_config(options, kind)
        tiles = at_model_gsd(tiles, config.gsd_m)
    else:
        kind, tiles = loaded
    if config is None:
        config, state = model_config(options, kind)
    shifts = [config.max_shift(max(t.image.shape[1:])) for t in tiles]
    if options.max_shift_m is not None:
        from core.autocorrect.geo_io import raster_gsd

        config = replace(config, max_shift_m=options.max_shift_m)
        shifts = [config.bound_px(options.max_shift_m, raster_gsd(t.transform)) for t in tiles]
    max_shift = max(shifts)
    data = TrainingTiles(tiles_from_arrays([t.image for t in tiles], [t.shapes for t in tiles],
                                           [t.verified for t in tiles]),
                         config.window, shifts, config.max_rot_deg, config.memory_map)
    unit = options.loss_unit or loss_unit_px(max_shift, config.max_rot_deg)
    scale = window_to_loss_scale(config.window, unit)
    model = build_autocorrect(config)
    if state is not None:
        model.load_state_dict(state)
    model = wrap_model(model.to(device).train(), info, device)
    steps = options.max_steps or max(1, options.epochs * len(data.items) // options.batch_size)
    optimiser = torch.optim.Adam(model.parameters(), lr=options.lr)
    # thesis: Adam, lr divided by 10 when the error plateaus; here at 75% of a fixed budget
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, [int(0.75 * steps)], 0.1)
    views = 1 if options.loss == "self" else 2
    losses, start, first = [], time.time(), 0
    reporter = JobProgress.from_env() if info.is_main else None
    net = model.module if info.enabled else model
    parts = {"model": net, "optimiser": optimiser, "schedule": schedule}
    if (saved := resume.load()) is not None:
        first = restore_training_state(saved, parts, rng)
        losses, start = list(saved["losses"]), start - saved["elapsed_s"]
        data.layouts = _layouts_from(saved["extra"]["layouts"])
    for step in range(first, steps):
        if past_deadline(time.time() - start, options.max_minutes, info, device):
            break
        if options.model_memory and step % options.model_memory == 0:
            data.follow_model(frozen_predictor(net, device), rng, options.model_memory_rounds)
        batch = data.batch(rng, options.batch_size, views).subset(share).to(device)
        loss = batch_loss(model, batch, options.loss, step >= options.gate_after * steps, scale,
                          options.gate_iou, options.gate_dilate)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(mean_over_ranks(loss, info).item())
        if reporter:
            reporter.update(step + 1, steps, losses[-1])
            if step % 25 == 0 or step == steps - 1:
                progress(f"step {step + 1}/{steps} loss {np.mean(losses[-25:]):.5f} ({time.time() - start:.0f}s)")
        if every and info.is_main and (step + 1) % every[0] == 0:
            every[1](step + 1, net)
        if resume.due():
            resume.save(training_state(step + 1, parts, rng, losses, time.time() - start,
                                       layouts=_layouts_to(data.layouts)))
    record = {"data": str(options.data), "kind": kind, "loss": options.loss, "steps": len(losses),
              "batch_size": options.batch_size, "processes": info.world_size, "rank": info.rank, "lr": options.lr,
              "seed": options.seed, "init": str(options.init) if options.init else None,
              "model_memory": options.model_memory, "gate_after": options.gate_after, "gate_iou": options.gate_iou,
              "gate_dilate": options.gate_dilate,
              "tiles": len(tiles), "instances": len(data.items), "verified": int(sum(data.clean)),
              "max_shift_px": max_shift, "loss_unit_px": round(unit, 2),
              "first_loss": float(np.mean(losses[:10])), "final_loss": float(np.mean(losses[-10:])),
              "seconds": round(time.time() - start, 1), "losses": losses}
    if info.is_main:
        save_checkpoint(options.out, {k: v.cpu() for k, v in net.state_dict().items()},
                        checkpoint_meta(FAMILY, config.to_dict(), {k: v for k, v in record.items() if k != "losses"}))
    resume.finish()
    return record


def _layouts_to(layouts: list[list[Layout]] | None) -> list | None:
    """The model-memory layouts as tensors (what a weights-only state file holds)."""
    if layouts is None:
        return None
    return [[{"noisy": [torch.from_numpy(np.asarray(g)) for g in layout.noisy],
              "corrected": [torch.from_numpy(np.asarray(g)) for g in layout.corrected],
              "rank": torch.from_numpy(np.asarray(layout.rank))} for layout in tile] for tile in layouts]


def _layouts_from(saved: list | None) -> list[list[Layout]] | None:
    if saved is None:
        return None
    return [[Layout([g.numpy() for g in layout["noisy"]], [g.numpy() for g in layout["corrected"]],
                    layout["rank"].numpy()) for layout in tile] for tile in saved]
