"""Adapt AutoCorrect to a project from its own labels alone, and keep the result only if its self-check improves.

The adapted model trains with J_s + J_c and the eq. 3.5 gating on the project's annotations as they
are (noisy; people's verified geometries count as clean), perturbed within the project's bound in
metres at the model's GSD. Parent and child then run the same self-check (selfcheck.py) on the same
labels with the same seed; the record says which scored higher. No truth is read.
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from core.autocorrect.builder import read_checkpoint
from core.autocorrect.geo_io import at_model_gsd, load_generated, model_scale, raster_gsd, scaled
from core.autocorrect.memory_map import TileInput
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.raster import RasterWindows
from core.autocorrect.selfcheck import SelfCheck
from core.checkpoints import load_checkpoint, save_checkpoint
from training.autocorrect import FAMILY
from training.autocorrect.options import AutoCorrectAdaptOptions, AutoCorrectTrainOptions
from training.autocorrect.train import run_training
from training.distributed import write_record
from training.holdout import is_held_out


def adapt(options: AutoCorrectAdaptOptions) -> dict:
    """`adapt autocorrect`: train on options.data's own labels, self-check parent and child; returns the record.

    A fixed share of the labels (a hash of tile and instance) is never trained on: the self-checks
    run on it, so a model that memorised where its training labels lie gains nothing there. Every
    `check_every` steps the child is self-checked and the best state is the one kept (early stopping);
    the final comparison of parent and child uses fresh perturbations of the same held-out labels.
    """
    if options.threads:
        torch.set_num_threads(options.threads)
    kind, tiles = load_generated(options.data, with_truth=False)
    parent = Path(options.init) if options.init else FAMILY.bundled_for(kind)
    _, config = read_checkpoint(parent)
    if config.kind != kind:
        raise ValueError(f"{parent}: a {config.kind} checkpoint cannot adapt to {kind} labels")
    bound_m = options.max_shift_m if options.max_shift_m is not None else config.max_shift_m
    if bound_m is None:
        raise ValueError(f"{parent}: its card has no max_shift_m; give the project's bound in metres")
    held = [[is_held_out(0, f"{t.name}:{i}", options.check_share) for i in t.ids] for t in tiles]
    if not any(h for flags in held for h in flags):
        raise ValueError(f"{options.data}: too few labels to hold any out for the self-check")
    training = [replace(t, shapes=[s for s, h in zip(t.shapes, flags) if not h],
                        ids=[i for i, h in zip(t.ids, flags) if not h],
                        verified=None if t.verified is None else [v for v, h in zip(t.verified, flags) if not h])
                for t, flags in zip(tiles, held)]
    checks = check_tiles(options.data, config, held)
    bound_px = bound_m / (config.gsd_m or raster_gsd_of(options.data))
    device = options.device

    def score(predictor: AutoCorrectPredictor, seed: int) -> SelfCheck:
        return predictor.self_check(checks, bound_px, rounds=options.check_rounds, seed=seed)

    best = {"score": (-1.0, -1.0), "step": 0, "state": None}

    def keep_best(step: int, net: torch.nn.Module) -> None:
        child = AutoCorrectPredictor(copy.deepcopy(net), config, "candidate", device)
        check = score(child, options.seed)
        value = check.rank_key
        print(f"step {step}: held-out self-check {check.score:.3f} (without abstention "
              f"{check.recovery_pck['5']:.3f})", file=sys.stderr, flush=True)
        if value > best["score"]:
            best.update(score=value, step=step, state={k: v.detach().cpu().clone() for k, v in net.state_dict().items()})

    started = time.perf_counter()
    train = AutoCorrectTrainOptions(
        data=options.data, out=options.out, init=parent, loss="joint", max_steps=options.max_steps or 10**9,
        max_minutes=options.minutes, batch_size=options.batch_size, lr=options.lr, seed=options.seed,
        device=device, max_shift_m=bound_m)
    record = run_training(train, progress=lambda line: print(line, file=sys.stderr, flush=True),
                          loaded=(kind, at_model_gsd(training, config.gsd_m)),
                          every=(options.check_every, keep_best))
    final = AutoCorrectPredictor.from_checkpoint(options.out, device)
    keep_best(record["steps"], final.model.train())
    _, meta = load_checkpoint(options.out)
    save_checkpoint(options.out, best["state"], {**meta, "adapt": {"kept_step": best["step"]}})
    reports = {}
    for who, path in (("parent", parent), ("child", options.out)):
        check = score(AutoCorrectPredictor.from_checkpoint(path, device), options.seed + 1)
        reports[who] = {**check.to_dict(), "checkpoint": str(path)}
    record |= {"adapted_from": str(parent), "max_shift_m": bound_m, "kept_step": best["step"],
               "held_out_labels": sum(map(sum, held)), "self_check": reports,
               "improved": reports["child"]["rank_key"] > reports["parent"]["rank_key"],
               "seconds_total": round(time.perf_counter() - started, 1)}
    write_record(record, options.out)
    return record


def check_tiles(data: Path, config, checked: list[list[bool]] | None = None) -> list[TileInput]:
    """A data folder's labels at the model's GSD, their rasters read window by window; labels not in
    `checked` (default: all are) are memory only."""
    kind, tiles = load_generated(data, config.track_width_m, with_truth=False, with_images=False)
    inputs = []
    for n, tile in enumerate(tiles):
        scale = model_scale(tile.transform, config.gsd_m)
        source = RasterWindows(Path(data) / "rasters" / tile.name, scale)
        shapes = [scaled(s, scale) for s in tile.shapes]
        fixed = {} if checked is None else {j: s for j, (s, c) in enumerate(zip(shapes, checked[n])) if not c}
        inputs.append(TileInput(source, shapes, fixed))
    return inputs


def check_folder(checkpoint: Path, data: Path, bound_m: float, rounds: int, seed: int,
                 device: str | None = None) -> dict:
    """The self-check of one checkpoint on a data folder's own labels, as JSON."""
    predictor = AutoCorrectPredictor.from_checkpoint(checkpoint, device)
    tiles = check_tiles(data, predictor.config)
    gsd = predictor.config.gsd_m or raster_gsd_of(data)
    report = predictor.self_check(tiles, bound_m / gsd, rounds=rounds, seed=seed).to_dict()
    return {**report, "checkpoint": str(checkpoint), "model_version": predictor.model_version}


def raster_gsd_of(data: Path) -> float:
    """The GSD of a data folder's first raster (m/px)."""
    import rasterio

    first = sorted((Path(data) / "rasters").iterdir())[0]
    with rasterio.open(first) as src:
        return raster_gsd(tuple(src.transform)[:6])


def project_self_check(checkpoint: Path, data: Path, settings: dict | None = None, rounds: int = 4) -> dict:
    """The self-check of a checkpoint on a project's labels (its training folder), within the project's bound."""
    _, config = read_checkpoint(checkpoint)
    bound_m = (settings or {}).get("max_shift_m", config.max_shift_m)
    if bound_m is None:  # a card without a bound in metres: the generated tiles' per-size bound
        bound_m = config.max_shift(640) * (config.gsd_m or raster_gsd_of(data))
    return check_folder(checkpoint, data, bound_m, rounds, seed=0)
