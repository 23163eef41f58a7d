"""AVST self-check without labels: score a project's own clips as if their audio were shifted by known offsets.

A clip of a project is taken to be in sync (as the clips of VGG-Sound Sync are before offsets are
introduced). Scoring it with the 31 offsets centred on +d instead of 0 is scoring the clip with its
audio moved by d frames: the answer should be -d relative to that centre. A clip passes when the
model recovers every shift (one hit can be luck: the +-5 frame tolerance covers a third of the
offsets); the clips' uncertainty (1 - (p_best - p_second) over offsets, as prediction reports it)
against passing gives the largest uncertainty under which at least PRECISION of the clips passed:
the confidence threshold. Clips with no audio-visual evidence come out uncertain and fail, so they
are not confident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.calibration import ClipSelfCheck, ConfidenceThreshold, largest_threshold

PRECISION = 0.9
MIN_CONFIDENT = 5
SHIFTS = (-10, -5, 0, 5, 10)  # 25 fps frames the audio is taken to be moved by


@dataclass
class SyncSelfCheck(ClipSelfCheck):
    """How often known shifts were recovered (within the tolerance), and the calibration made from it."""

    clips: int
    recovered: float  # share of clips whose every known shift was recovered (within the tolerance)
    confident_share: float
    confident_recovered: float | None  # share recovered among the confident clips
    calibration: ConfidenceThreshold
    per_clip: list[dict] = field(default_factory=list)

    @property
    def rank_key(self) -> tuple[float, float]:
        """How two models' self-checks on the same clips compare: the score, then the share recovered."""
        return (self.score, self.recovered)


def calibrate(rows: list[dict], precision: float = PRECISION) -> ConfidenceThreshold:
    """The largest uncertainty under which at least `precision` of the clips recovered their shifts."""
    threshold = largest_threshold(((r["uncertainty"], r["recovered"]) for r in rows), precision, MIN_CONFIDENT)
    return ConfidenceThreshold(threshold, precision)


def summarise(rows: list[dict]) -> SyncSelfCheck:
    """The self-check of clip rows {"uncertainty", "recovered"}."""
    calibration = calibrate(rows)
    sure = [r for r in rows if calibration.confident(r["uncertainty"])]
    return SyncSelfCheck(
        clips=len(rows), recovered=float(np.mean([r["recovered"] for r in rows])) if rows else 0.0,
        confident_share=len(sure) / len(rows) if rows else 0.0,
        confident_recovered=float(np.mean([r["recovered"] for r in sure])) if sure else None,
        calibration=calibration, per_clip=rows)
