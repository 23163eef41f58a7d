"""The rule every self-check calibrates confidence by: the largest uncertainty under which enough passed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


def largest_threshold(rows: Iterable[tuple[float, bool]], precision: float, min_count: int) -> float | None:
    """The largest uncertainty u such that of the (uncertainty, passed) rows at or under u, at least
    min_count exist and at least `precision` of them passed; None if no u qualifies (never confident)."""
    threshold, hits = None, 0
    for n, (uncertainty, passed) in enumerate(sorted(rows, key=lambda r: r[0]), start=1):
        hits += bool(passed)
        if n >= min_count and hits / n >= precision:
            threshold = uncertainty
    return threshold


@dataclass
class ConfidenceThreshold:
    """When a proposal is confident: uncertainty below 1 (1: no evidence at all) and at most
    `max_uncertainty` (None: never)."""

    max_uncertainty: float | None
    precision: float = 0.9

    def confident(self, uncertainty: float) -> bool:
        """The rule every proposal of a clip family is flagged by."""
        return self.max_uncertainty is not None and uncertainty < 1.0 and uncertainty <= self.max_uncertainty

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, stored: dict) -> "ConfidenceThreshold":
        """Inverse of to_dict (extra keys, such as a card's self-check record, are ignored)."""
        return cls(stored["max_uncertainty"], stored.get("precision", 0.9))


class ClipSelfCheck:
    """What the clip families' self-check records share (mixed into their dataclasses, which define
    confident_recovered, confident_share, calibration, per_clip and rank_key)."""

    @property
    def score(self) -> float:
        """Recovered share among confident clips times the confident share (0 when never confident)."""
        return (self.confident_recovered or 0.0) * self.confident_share

    def to_dict(self, details: bool = False) -> dict:
        """JSON-ready form (per-clip rows only with `details`)."""
        out = asdict(self)
        out["calibration"], out["score"], out["rank_key"] = self.calibration.to_dict(), self.score, list(self.rank_key)
        if not details:
            out.pop("per_clip")
        return out
