"""What a curation page shows, read from a curation's decisions JSON (training/audioclass/curate.py):
per-class counts by deciding stage, score histograms, and the clips the filter is least sure about."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

STAGES = ("stage3", "easy", "hard", "final", "duplicate", "rejected")  # values of a clip's "decided_by"


def read_decisions(path: str | Path) -> dict:
    """The decisions JSON of a curation (report keys plus "clips", one record per clip)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def class_table(decisions: dict) -> list[dict]:
    """One row per class: clips, kept, and how many each stage decided (for per-class bars)."""
    rows = {}
    for clip in decisions["clips"]:
        empty = {"class": clip["label"], "clips": 0, "kept": 0, **dict.fromkeys(STAGES, 0)}
        row = rows.setdefault(clip["label"], empty)
        row["clips"] += 1
        row["kept"] += int(clip["kept"])
        row[clip["decided_by"]] += 1
    return [rows[label] for label in sorted(rows)]


def label_probability_histogram(decisions: dict, bins: int = 10) -> dict:
    """{"edges", "kept", "removed"}: counts of the two-fold ensemble's probability of each clip's label."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    values = {"kept": [], "removed": []}
    for clip in decisions["clips"]:
        if "twofold" in clip:
            values["kept" if clip["kept"] else "removed"].append(clip["twofold"]["label_probability"])
    return {"edges": edges.round(3).tolist(),
            **{k: np.histogram(v, edges)[0].tolist() for k, v in values.items()}}


def _in_top(prediction: dict, label: str, k: int) -> bool:
    return label in [name for name, _ in prediction["top"][:k]]


def least_sure(decisions: dict, limit: int = 20, k: int = 3) -> list[dict]:
    """Stage-4 clips the filter is least sure about, most doubtful first: the two models disagree on whether
    the label is in their top k, then the ensemble's label rank is next to k (k or k + 1)."""
    doubtful = []
    for clip in decisions["clips"]:
        twofold = clip.get("twofold")
        if not twofold or "duplicate" in clip:
            continue
        votes = [_in_top(p, clip["label"], k) for p in twofold["predictions"]]
        disagree = len(set(votes)) > 1
        near = twofold["label_rank"] in (k, k + 1)
        if disagree or near:
            doubtful.append((not disagree, abs(twofold["label_probability"] - 0.5), clip))
    doubtful.sort(key=lambda item: item[:2])
    return [{"key": c["key"], "label": c["label"], "kept": c["kept"], "decided_by": c["decided_by"],
             "label_rank": c["twofold"]["label_rank"], "label_probability": c["twofold"]["label_probability"]}
            for _, _, c in doubtful[:limit]]
