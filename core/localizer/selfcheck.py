"""Localizer confidence: audio specificity of a map, and a self-check without labels that calibrates it.

*Audio specificity.* A map the sound made is one the sound changes: over the map's own top region
(min-max normalised value >= 0.5), S_{i->i} is compared with the same frame's maps under reference
sounds that carry no source (silence, white and brown noise, a steady tone); specificity is the
region's mean under the clip's audio minus the largest mean under a reference sound. The reference
sounds are fixed, so a clip's specificity does not depend on which clips share its batch, a single
clip gets the same number as in a project, and a project of one sound class (where other clips'
audio makes the same map as the clip's own) is not penalised. A clip whose audio is silence has
specificity <= 0 by construction. The uncertainty is 1 - specificity clipped to [0, 1], and 1 for a
flat map (peak less than MIN_CONTRAST above its median).

*Self-check.* Two of a project's own centre frames are put side by side (a 2:1 image letterboxed
into the square input) and one clip's audio is played: the model passes the trial when the top
region of its map lies mostly in the half of the clip whose audio plays. Each clip is checked on
the left and on the right of PARTNERS partners (the clips whose audio embeddings are least like
its own, so that the two halves differ in sound), and passes when every trial passes (chance:
1 in 2^(2 * PARTNERS)). The clips' uncertainty against passing gives the largest uncertainty under
which at least PRECISION of the clips passed: the confidence threshold. A map that the audio does
not change is uncertain (1) and never confident, whatever the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from core.calibration import ClipSelfCheck, ConfidenceThreshold, largest_threshold
from core.framing import Letterbox
from core.localizer.heatmaps import min_max, upsample

PRECISION = 0.9
MIN_CONFIDENT = 5  # a threshold needs at least this many clips at or under it
PARTNERS = 2  # each clip is checked beside this many partners, once on each side
MIN_CONTRAST = 0.05  # cosine units of peak above median below which a map is flat
TOP = 0.5  # the map's top region: min-max normalised value at least this
SIDE_GRID = 56  # maps are compared half against half at this resolution
REFERENCE_SOUNDS = ("silence", "white noise", "brown noise", "440 Hz tone")


@dataclass
class LocalizerSelfCheck(ClipSelfCheck):
    """How often the model found the playing clip's half, and the calibration made from it."""

    clips: int
    trials: int
    trials_passed: float  # share of all trials passed (chance: 0.5)
    recovered: float  # share of clips that passed every trial
    confident_share: float
    confident_recovered: float | None  # share of the confident clips that passed every trial
    calibration: ConfidenceThreshold
    per_clip: list[dict] = field(default_factory=list)

    @property
    def rank_key(self) -> tuple[float, float]:
        """How two models' self-checks on the same clips compare: the score, then the share of trials passed."""
        return (self.score, self.trials_passed)


# ---- the confidence statistic ----


def reference_waveforms(samples: int, sample_rate: int) -> np.ndarray:
    """(len(REFERENCE_SOUNDS), samples) float32 sounds without a source in any picture (fixed seed)."""
    rng = np.random.default_rng(0)
    t = np.arange(samples) / sample_rate
    brown = np.cumsum(rng.normal(0.0, 1.0, samples))
    brown = 0.3 * (brown - brown.mean()) / (np.abs(brown - brown.mean()).max() + 1e-9)
    return np.stack([np.zeros(samples), rng.normal(0.0, 0.1, samples), brown,
                     0.3 * np.sin(2 * np.pi * 440.0 * t)]).astype(np.float32)


def top_region(heatmap: np.ndarray) -> np.ndarray:
    """Boolean (h, w) mask of the map's top region (min-max normalised value >= TOP)."""
    return min_max(heatmap) >= TOP


def specificity(own: np.ndarray, references: np.ndarray) -> float:
    """Mean of the own map over its top region minus the largest mean there of the same frame's maps
    under the reference sounds ((k, h, w)); 0 for a flat map."""
    region = top_region(own)
    if not region.any() or region.all():
        return 0.0
    return float(own[region].mean() - max(float(r[region].mean()) for r in references))


def uncertainty_of(specificity_value: float, contrast: float) -> float:
    """1 - specificity clipped to [0, 1]; 1 for a flat map."""
    if contrast < MIN_CONTRAST:
        return 1.0
    return float(1.0 - np.clip(specificity_value, 0.0, 1.0))


# ---- the self-check trials ----


def partners(audio_similarity: np.ndarray, count: int = PARTNERS) -> list[list[int]]:
    """For each clip, the `count` other clips whose audio is least like its own (cosine of embeddings)."""
    n = len(audio_similarity)
    out = []
    for i in range(n):
        order = [int(j) for j in np.argsort(audio_similarity[i], kind="stable") if j != i]
        out.append(order[:count])
    return out


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Pairs of (..., S, S, 3) uint8 frames as 2:1 pictures letterboxed into (..., S, S, 3) squares."""
    size = left.shape[-3]
    box = Letterbox(2 * size, size, size)
    width, height = box.inner
    pairs = torch.from_numpy(np.concatenate([left, right], axis=-2)).reshape(-1, size, 2 * size, 3)
    scaled = F.interpolate(pairs.permute(0, 3, 1, 2).float(), size=(height, width), mode="area")
    scaled = scaled.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return box.place(scaled.reshape(*left.shape[:-3], height, width, 3))


def heavier_side(heatmap: np.ndarray) -> int | None:
    """0 when the map's top region lies mostly in the left half, 1 the right, None on a tie."""
    scaled = min_max(upsample(heatmap, SIDE_GRID))
    top = np.where(scaled >= TOP, scaled, 0.0)
    left, right = float(top[:, : SIDE_GRID // 2].sum()), float(top[:, SIDE_GRID // 2:].sum())
    return None if left == right else int(right > left)


def trial_plan(audio_similarity: np.ndarray, count: int = PARTNERS) -> list[tuple[int, int, int]]:
    """(clip whose audio plays, left clip, right clip) of every trial: each clip on the left and on
    the right of each of its partners."""
    plan = []
    for i, others in enumerate(partners(audio_similarity, count)):
        for j in others:
            plan += [(i, i, j), (i, j, i)]
    return plan


# ---- calibration ----


def calibrate(rows: list[dict], precision: float = PRECISION) -> ConfidenceThreshold:
    """The largest uncertainty (below 1) under which at least `precision` of the clips passed."""
    usable = ((r["uncertainty"], r["recovered"]) for r in rows if r["uncertainty"] < 1.0)
    return ConfidenceThreshold(largest_threshold(usable, precision, MIN_CONFIDENT), precision)


def summarise(rows: list[dict]) -> LocalizerSelfCheck:
    """The self-check of clip rows {"uncertainty", "recovered", "trials", "passed"}."""
    calibration = calibrate(rows)
    sure = [r for r in rows if calibration.confident(r["uncertainty"])]
    trials = sum(r["trials"] for r in rows)
    return LocalizerSelfCheck(
        clips=len(rows), trials=trials,
        trials_passed=sum(r["passed"] for r in rows) / trials if trials else 0.0,
        recovered=float(np.mean([r["recovered"] for r in rows])) if rows else 0.0,
        confident_share=len(sure) / len(rows) if rows else 0.0,
        confident_recovered=float(np.mean([r["recovered"] for r in sure])) if sure else None,
        calibration=calibration, per_clip=rows)
