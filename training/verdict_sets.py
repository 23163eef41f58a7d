"""The training data a retrain job builds from a project's verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class VerdictTrainingSet:
    """Where a model's verdict-derived training and held-out data were written, and from which verdicts."""

    train_dir: Path
    heldout_dir: Path | None  # None when no verified item is held out
    verdict_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        """A JSON-ready description (paths as strings) for job logs and version records."""
        return {
            "train_dir": str(self.train_dir),
            "heldout_dir": None if self.heldout_dir is None else str(self.heldout_dir),
            "verdict_ids": list(self.verdict_ids),
            "counts": dict(self.counts),
        }

    @classmethod
    def from_summary(cls, summary: dict) -> "VerdictTrainingSet":
        """The set a summary() describes."""
        heldout = summary.get("heldout_dir")
        return cls(Path(summary["train_dir"]), None if heldout is None else Path(heldout),
                   list(summary.get("verdict_ids", [])), dict(summary.get("counts", {})))
