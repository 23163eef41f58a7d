"""Train AutoCorrect on a generated (or exported) geo directory with J_s, J_c or the gated joint loss."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.autocorrect.builder import AutoCorrectConfig, build_autocorrect, get_config
from core.autocorrect.dataset import Batch, TrainingTiles, tiles_from_arrays
from core.autocorrect.geo_io import load_generated
from core.autocorrect.losses import consistency_loss, joint_loss, self_supervised_loss
from core.autocorrect.se2 import params_to_matrices, shift_frame
from training.checkpoints import save_checkpoint
from training.progress import JobProgress

LOSSES = ("self", "consistency", "joint")


@dataclass
class TrainOptions:
    """One training run."""

    data: Path
    out: Path
    config: str = "small"
    memory_map: bool = True
    loss: str = "joint"
    epochs: int = 20
    steps: int | None = None  # overrides epochs
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    device: str = "cpu"
    gate_after: float = 0.5  # share of steps with alpha_s = alpha_c = 1 before eq. 3.5 gating
    window: int | None = None
    threads: int | None = None


def predicted_matrices(model: torch.nn.Module, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Phi's output as matrices in the label's frame (the window frame shifted by `offset`)."""
    return shift_frame(params_to_matrices(model(x)), offset)


def batch_loss(model: torch.nn.Module, batch: Batch, loss: str, gated: bool, device: torch.device) -> torch.Tensor:
    """The training objective for one batch (J_s: eq. 3.2, J_c: eq. 3.3, gating: eq. 3.5)."""
    b = Batch(*(v.to(device) for v in vars(batch).values()))
    t1 = predicted_matrices(model, b.x1, b.offset1)
    if loss == "self":
        return self_supervised_loss(t1, b.g1).mean()
    t2 = predicted_matrices(model, b.x2, b.offset2)
    if loss == "consistency":
        return consistency_loss(t1, b.g1, t2, b.g2).mean()
    return joint_loss(t1, b.g1, t2, b.g2, b.labels if gated else None)


def run_training(options: TrainOptions, progress=print) -> dict:
    """Train, save the checkpoint (+ JSON config) and return the run's record."""
    if options.loss not in LOSSES:
        raise ValueError(f"--loss must be one of {LOSSES}")
    if options.threads:
        torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    kind, tiles = load_generated(options.data)
    overrides = {"memory_map": options.memory_map, "kind": kind}
    if options.window:
        overrides["window"] = options.window
    config: AutoCorrectConfig = get_config(options.config, **overrides)
    size = max(t.image.shape[1] for t in tiles)
    max_shift = config.max_shift_ref * size / config.reference_size  # scaled to the tile size
    data = TrainingTiles(tiles_from_arrays([t.image for t in tiles], [t.shapes for t in tiles]),
                         config.window, max_shift, config.max_rot_deg, config.memory_map)
    device = torch.device(options.device)
    model = build_autocorrect(config).to(device).train()
    steps = options.steps or max(1, options.epochs * len(data.items) // options.batch_size)
    optimiser = torch.optim.Adam(model.parameters(), lr=options.lr)
    # thesis: Adam, lr divided by 10 when the error plateaus; here at 75% of a fixed budget
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, [int(0.75 * steps)], 0.1)
    losses, start = [], time.time()
    reporter = JobProgress.from_env()
    for step in range(steps):
        batch = data.batch(rng, options.batch_size)
        loss = batch_loss(model, batch, options.loss, step >= options.gate_after * steps, device)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        reporter.update(step + 1, steps, losses[-1])
        if step % 25 == 0 or step == steps - 1:
            progress(f"step {step + 1}/{steps} loss {np.mean(losses[-25:]):.5f} ({time.time() - start:.0f}s)")
    record = {"data": str(options.data), "kind": kind, "loss": options.loss, "steps": steps,
              "batch_size": options.batch_size, "lr": options.lr, "seed": options.seed,
              "tiles": len(tiles), "instances": len(data.items), "max_shift_px": max_shift,
              "first_loss": float(np.mean(losses[:10])), "final_loss": float(np.mean(losses[-10:])),
              "seconds": round(time.time() - start, 1), "losses": losses}
    model_cpu = {k: v.cpu() for k, v in model.state_dict().items()}
    save_checkpoint(options.out, model_cpu, {"model": config.to_dict(), "train": {
        k: v for k, v in record.items() if k != "losses"}})
    return record


def write_record(record: dict, path: Path) -> None:
    """The loss curve beside the checkpoint, for the model card."""
    path.write_text(json.dumps(record, indent=2))
