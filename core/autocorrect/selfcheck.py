"""Self-check without truth, and the confidence threshold calibrated from it.

A project's own labels are perturbed by known rigid motions within the project's bounds; the
model corrects the perturbed copies (sequentially, with the memory map, as in prediction) and we
measure how well the known motion is undone (recovery against the labels, for ranking models),
and whether each copy comes back to where the model puts the label itself (for calibration),
against the two-probe uncertainty the predictor reports. The calibrated threshold is the largest
uncertainty below which the corrections reliably came back; above it a prediction is not
confident and leaves the label as it was. Errors are in model pixels: vertex distances for polygons, distances across the line for
polylines (placement_errors).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from core.autocorrect.memory_map import TileInput, TileResult
from core.autocorrect.metrics import pck
from core.autocorrect.rasterize import Shape
from core.autocorrect.se2 import se2_matrix
from core.calibration import largest_threshold

PRECISION = 0.8  # share of confident self-check corrections that must have come back (calibrate)
MIN_CONFIDENT = 5  # fewer self-check instances under a threshold than this say nothing about it
AGREE_SHARE = 0.25  # a corrected copy within this share of the bound of the model's own answer agrees with it
CHECK_PCK = (1, 2, 3, 5, 8, 10, 16)


@dataclass
class Calibration:
    """When a correction is confident: uncertainty at most `threshold_px` (None: never)."""

    threshold_px: float | None
    max_shift_px: float  # the bound the self-check perturbed within; larger corrections are not confident
    precision: float = PRECISION

    def confident(self, uncertainty: float | None, motion_px: float) -> bool:
        """The rule every proposal is flagged by."""
        return (self.threshold_px is not None and uncertainty is not None and uncertainty <= self.threshold_px
                and motion_px <= 1.5 * self.max_shift_px)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class SelfCheck:
    """What the self-check measured (model px), and the calibration made from it."""

    instances: int
    max_shift_px: float
    recovery_pck: dict[str, float]  # corrected copies against the labels
    perturbed_pck: dict[str, float]  # the perturbed copies against the labels (doing nothing)
    confident_recovery_pck: dict[str, float]  # corrected where confident, left perturbed elsewhere
    confident_share: float
    stability_px: float  # median vertex motion when the model is run again on its own output
    calibration: Calibration
    per_instance: list[dict] = field(default_factory=list)  # uncertainty, error before / after

    @property
    def score(self) -> float:
        """One number to rank models by: recovery PCK@5 with abstention (higher is better)."""
        return self.confident_recovery_pck["5"]

    @property
    def rank_key(self) -> tuple[float, float]:
        """Models compared: by `score`, ties (both abstaining alike) broken by recovery PCK@5 without abstention."""
        return self.score, self.recovery_pck["5"]

    def to_dict(self, details: bool = False) -> dict:
        """JSON-ready form (per-instance rows only with `details`)."""
        out = asdict(self)
        out["calibration"] = self.calibration.to_dict()
        out["score"], out["rank_key"] = self.score, list(self.rank_key)
        if not details:
            out.pop("per_instance")
        return out


def placement_errors(a: Shape, b: Shape) -> np.ndarray:
    """Per-vertex distance of placement `a` of a shape to placement `b`: to the same vertex for
    polygons, to the nearest point of the same line for polylines (a track moved along itself is
    still on the track: only the error across it can be seen in the image, and it is what IoU counts)."""
    if a.closed:
        return np.hypot(*(a.vertices() - b.vertices()).T)
    return np.concatenate([_to_polyline(p, q) for p, q in zip(a.parts, b.parts)])


def _to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Distance of each point to a polyline (K, 2)."""
    if len(line) < 2:
        return np.hypot(*(points - line[0]).T)
    start, end = line[:-1], line[1:]
    along = end - start
    t = np.clip(np.einsum("psk,sk->ps", points[:, None] - start[None], along) /
                np.maximum((along ** 2).sum(1), 1e-12)[None], 0.0, 1.0)
    nearest = start[None] + t[..., None] * along[None]
    return np.hypot(*(points[:, None] - nearest).transpose(2, 0, 1)).min(axis=1)


def mean_error(a: Shape, b: Shape) -> float:
    """Mean placement error of `a` against `b` (placement_errors)."""
    return float(placement_errors(a, b).mean())


def perturb(tiles: list[TileInput], max_shift_px: float, max_rot_deg: float,
            rng: np.random.Generator) -> list[TileInput]:
    """Each movable shape turned about its centroid and shifted, uniformly within the bounds."""
    out = []
    for tile in tiles:
        shapes = []
        for j, shape in enumerate(tile.shapes):
            if j in tile.fixed:
                shapes.append(shape)
                continue
            dx, dy = rng.uniform(-max_shift_px, max_shift_px, 2)
            theta = np.radians(rng.uniform(-max_rot_deg, max_rot_deg))
            shapes.append(shape.moved(se2_matrix(dx, dy, theta, tuple(shape.centroid()))))
        out.append(TileInput(tile.image, shapes, tile.fixed))
    return out


def self_check(correct, tiles: list[TileInput], max_shift_px: float, max_rot_deg: float, rounds: int = 1,
               seed: int = 0) -> SelfCheck:
    """Run `correct(tiles, uncertainty=...) -> list[TileResult]` on perturbed copies of the labels."""
    rng = np.random.default_rng(seed)
    rows, stability = [], []
    own = correct(tiles, uncertainty=False)  # the model's answer from each label as it is
    answers = [[s.moved(m) for s, m in zip(t.shapes, r.matrices)] for t, r in zip(tiles, own)]
    for _ in range(rounds):
        perturbed = perturb(tiles, max_shift_px, max_rot_deg, rng)
        results: list[TileResult] = correct(perturbed, uncertainty=True)
        corrected = [[s.moved(m) for s, m in zip(t.shapes, r.matrices)] for t, r in zip(perturbed, results)]
        again = correct([TileInput(t.image, c, t.fixed) for t, c in zip(perturbed, corrected)], uncertainty=False)
        for tile, moved, result, fixed_tile, second, answer in zip(tiles, perturbed, results, corrected, again,
                                                                    answers):
            for j, label in enumerate(tile.shapes):
                if j in tile.fixed:
                    continue
                rows.append({"uncertainty": result.uncertainty[j],
                             "agrees": mean_error(fixed_tile[j], answer[j]) <= AGREE_SHARE * max_shift_px,
                             "plausible": mean_error(answer[j], label) <= max_shift_px,
                             "before": mean_error(moved.shapes[j], label),
                             "after": mean_error(fixed_tile[j], label),
                             "motion": mean_error(fixed_tile[j], moved.shapes[j]),
                             "vertices_before": placement_errors(moved.shapes[j], label),
                             "vertices_after": placement_errors(fixed_tile[j], label)})
                stability.append(mean_error(fixed_tile[j].moved(second.matrices[j]), fixed_tile[j]))
    calibration = calibrate(rows, max_shift_px)
    confident = [calibration.confident(r["uncertainty"], r["motion"]) for r in rows]
    kept = [r["vertices_after"] if c else r["vertices_before"] for r, c in zip(rows, confident)]
    return SelfCheck(
        instances=len(rows), max_shift_px=float(max_shift_px),
        recovery_pck=pck(_joined(r["vertices_after"] for r in rows), CHECK_PCK),
        perturbed_pck=pck(_joined(r["vertices_before"] for r in rows), CHECK_PCK),
        confident_recovery_pck=pck(_joined(kept), CHECK_PCK), confident_share=float(np.mean(confident)) if rows else 0.0,
        stability_px=float(np.median(stability)) if stability else 0.0, calibration=calibration,
        per_instance=[{k: round(float(r[k]), 3) for k in ("uncertainty", "before", "after", "motion", "agrees",
                                                           "plausible")} for r in rows])


def _joined(arrays) -> np.ndarray:
    arrays = list(arrays)
    return np.concatenate(arrays) if arrays else np.zeros(0)


def calibrate(rows: list[dict], max_shift_px: float, precision: float = PRECISION) -> Calibration:
    """The largest uncertainty threshold under which at least `precision` of the corrections succeeded.

    A correction of a perturbed copy succeeded when it landed within AGREE_SHARE of the bound of where
    the model puts the label itself (it found the same thing from another start) and that place lies within the
    project's bound of the label. Measuring it against the labels instead would fail a perfect model
    wherever the labels' own noise is as large as the perturbation.
    """
    usable = ((r["uncertainty"], r["agrees"] and r["plausible"]) for r in rows if r["uncertainty"] is not None)
    return Calibration(largest_threshold(usable, precision, MIN_CONFIDENT), float(max_shift_px), precision)
