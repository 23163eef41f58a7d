"""Railway diagnostics: where the error left after correction lies, and what the memory map costs.

Usage (numbers in RESULTS.md):
  python bench/autocorrect/diagnose.py residuals --checkpoint CKPT --data DIR
  python bench/autocorrect/diagnose.py oracle-memory --checkpoint CKPT --data DIR
  python bench/autocorrect/diagnose.py gate-share --checkpoint CKPT --data TRAIN_DIR   # plain and grown-mask gates
  python bench/autocorrect/diagnose.py window-losses --checkpoint CKPT --data DIR   # J_s, J_c on true labels
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.autocorrect.dataset import TrainingTiles, tiles_from_arrays  # noqa: E402
from core.autocorrect.geo_io import load_generated  # noqa: E402
from core.autocorrect.losses import (consistency_loss, gate, loss_unit_px, rescale,  # noqa: E402
                                     self_supervised_loss, window_to_loss_scale)
from core.autocorrect.memory_map import TileInput, correction_order  # noqa: E402
from core.autocorrect.metrics import instance_iou  # noqa: E402
from core.autocorrect.predictor import AutoCorrectPredictor  # noqa: E402
from core.autocorrect.rasterize import Shape  # noqa: E402
from core.autocorrect.windows import image_to_float  # noqa: E402
from training.autocorrect.evaluate import corrected_shapes  # noqa: E402
from training.autocorrect.train import predicted_pair  # noqa: E402


def residual(shape: Shape, truth: Shape) -> tuple[float, float, float]:
    """(|rotation| degrees, cross-track px, along-track px) of a track against its true line."""
    a, b = shape.vertices(), truth.vertices()
    direction = (b[-1] - b[0]) / np.linalg.norm(b[-1] - b[0])
    normal = np.array([-direction[1], direction[0]])
    chord = a[-1] - a[0]
    angle = np.degrees(np.arctan2(chord[0] * direction[1] - chord[1] * direction[0], chord @ direction))
    offset = a.mean(0) - b.mean(0)
    return abs(float(angle)), abs(float(offset @ normal)), abs(float(offset @ direction))


def residuals(predictor: AutoCorrectPredictor, data: str) -> None:
    """Median residuals before and after correction, for moved and for exact instances."""
    _, tiles = load_generated(data, predictor.config.track_width_m)
    rows: dict[bool, list] = {True: [], False: []}
    for tile, corrected in zip(tiles, corrected_shapes(predictor, tiles)):
        for noisy, fixed, truth, moved in zip(tile.shapes, corrected, tile.truth, tile.perturbed):
            size = tile.image.shape[1:]
            rows[moved].append((*residual(noisy, truth), *residual(fixed, truth),
                                instance_iou(noisy, truth, size), instance_iou(fixed, truth, size)))
    for moved, values in rows.items():
        v = np.array(values)
        med = np.median(v[:, :6], 0)
        print(f"{'moved' if moved else 'exact'} ({len(v)}): rotation {med[0]:.2f} -> {med[3]:.2f} deg, "
              f"cross-track {med[1]:.2f} -> {med[4]:.2f} px, along-track {med[2]:.2f} -> {med[5]:.2f} px, "
              f"IoU {v[:, 6].mean():.3f} -> {v[:, 7].mean():.3f}")


def oracle_memory(predictor: AutoCorrectPredictor, data: str) -> None:
    """Mean IoU when every instance is corrected with the earlier ones at their true place."""
    _, tiles = load_generated(data, predictor.config.track_width_m)
    ious: dict[bool, list] = {True: [], False: []}
    for tile in tiles:
        image = image_to_float(tile.image)
        order = correction_order([s.centroid() for s in tile.shapes])
        for n, i in enumerate(order):
            fixed = {j: tile.truth[j] for j in order[:n]}
            result = predictor.correct([TileInput(image, tile.shapes, fixed)], uncertainty=False)[0]
            ious[tile.perturbed[i]].append(
                instance_iou(tile.shapes[i].moved(result.matrices[i]), tile.truth[i], tile.image.shape[1:]))
    every = ious[True] + ious[False]
    print(f"oracle memory: moved {np.mean(ious[True]):.3f}, exact {np.mean(ious[False]):.3f}, "
          f"all {np.mean(every):.3f} ({len(every)} instances)")


def gate_share(predictor: AutoCorrectPredictor, data: str, tiles_used: int = 40, samples: int = 256) -> None:
    """Share of training samples the eq. 3.5 gating sends to J_c alone, with these weights, by threshold,
    for the labels the generator perturbed (noisy) and the exact ones (clean)."""
    _, tiles = load_generated(data, predictor.config.track_width_m)
    tiles = tiles[:tiles_used]
    size = max(t.image.shape[1] for t in tiles)
    exact = [[not moved for moved in t.perturbed] for t in tiles]  # carried per sample as batch.clean
    training = TrainingTiles(tiles_from_arrays([t.image for t in tiles], [t.shapes for t in tiles], exact),
                             predictor.config.window, predictor.max_shift(size), predictor.config.max_rot_deg,
                             predictor.config.memory_map)
    batch = training.batch(np.random.default_rng(0), samples, views=2)
    noisy = ~batch.clean
    with torch.no_grad():
        t1, t2 = predicted_pair(predictor.model.train(), batch)  # batch statistics, as in training
    for dilate_px, threshold in [(0, th) for th in (0.2, 0.1, 0.05, 0.02)] + [(px, 0.2) for px in (2, 4, 6, 8)]:
        _, alpha_c = gate(batch.labels, t1, batch.g1, t2, batch.g2, threshold, dilate_px)
        alpha_c = alpha_c.bool()
        print(f"IoU < {threshold}, masks grown by {dilate_px} px: gated to J_c only "
              f"{alpha_c.float().mean().item():.3f} of {samples} samples; "
              f"noisy labels {alpha_c[noisy].float().mean().item():.3f} (of {int(noisy.sum())}), "
              f"clean labels {alpha_c[~noisy].float().mean().item():.3f} (of {int((~noisy).sum())})")


def window_losses(predictor: AutoCorrectPredictor, data: str, samples: int = 64) -> None:
    """Mean J_s and J_c of training-style samples drawn from the tiles' true labels (eval mode)."""
    _, tiles = load_generated(data, predictor.config.track_width_m)
    size = max(t.image.shape[1] for t in tiles)
    training = TrainingTiles(tiles_from_arrays([t.image for t in tiles], [t.truth for t in tiles]),
                             predictor.config.window, predictor.max_shift(size), predictor.config.max_rot_deg,
                             predictor.config.memory_map)
    batch = training.batch(np.random.default_rng(0), samples, views=2)
    with torch.no_grad():
        t1, t2 = predicted_pair(predictor.model.eval(), batch)
    scale = window_to_loss_scale(predictor.config.window,
                                 loss_unit_px(predictor.max_shift(size), predictor.config.max_rot_deg))
    t1, g1, t2, g2 = (rescale(m, scale) for m in (t1, batch.g1, t2, batch.g2))
    turn = torch.rad2deg(torch.atan2((t1 @ g1)[:, 1, 0], (t1 @ g1)[:, 0, 0])).abs().median().item()
    print(f"J_s {self_supervised_loss(t1, g1).mean().item():.4f}, J_c {consistency_loss(t1, g1, t2, g2).mean().item():.4f}, "
          f"median |turn left by t1 g1| {turn:.2f} deg ({samples} samples)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("residuals", "oracle-memory", "gate-share", "window-losses"))
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    predictor = AutoCorrectPredictor.from_checkpoint(args.checkpoint, "cpu")
    {"residuals": residuals, "oracle-memory": oracle_memory, "gate-share": gate_share,
     "window-losses": window_losses}[args.what](predictor, args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
