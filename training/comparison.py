"""Model versions side by side: the tables the Jobs page shows (parent vs child, version vs version)."""

from __future__ import annotations

from annotation_db.models import ModelVersion
from training.evaluation import SPLITS
from training.families import get_family


def flat_numbers(report: dict | None, prefix: str = "") -> dict[str, float]:
    """Nested numbers as one level of 'a.b' keys (booleans and text left out)."""
    flat: dict[str, float] = {}
    for key, value in (report or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_numbers(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def model_numbers(model: str, report: dict | None) -> dict[str, float]:
    """The model's own numbers in an eval report (baselines, equal for parent and child, left out)."""
    method = get_family(model).headline[0]
    return flat_numbers((report or {}).get(method))


def parent_vs_child(version: ModelVersion) -> list[dict]:
    """Rows {split, metric, parent, child, change} of a retrained version's metrics."""
    rows = []
    for split in SPLITS:
        scored = (version.metrics or {}).get(split)
        if not scored:
            continue
        parent, child = (model_numbers(version.model, scored.get(who)) for who in ("parent", "child"))
        for metric in sorted(set(parent) | set(child)):
            before, after = parent.get(metric), child.get(metric)
            rows.append({"split": split, "metric": metric, "parent": before, "child": after,
                         "change": None if before is None or after is None else after - before})
    return rows


def headline_row(version: ModelVersion) -> dict:
    """One line of the versions table: who it is and its headline numbers, parent's beside."""
    metrics = version.metrics or {}
    row = {"id": version.id, "version": version.version, "parent": version.parent_id, "job": version.job_id,
           "created": version.created_at.strftime("%Y-%m-%d %H:%M"),
           "verdicts": len(version.verdict_ids or [])}
    family = get_family(version.model)
    name = ".".join(family.headline)
    for split in SPLITS:
        scored = metrics.get(split) or {}
        row[f"{split} {name}"] = family.headline_of(scored.get("child"))
        row[f"{split} {name} (parent)"] = family.headline_of(scored.get("parent"))
    if not any(metrics.get(split) for split in SPLITS):  # a version scored by a plain eval
        row[f"eval {name}"] = family.headline_of(metrics)
    check = (metrics.get("self_check") or {}).get("child")
    if check:  # an adapted version: its self-check and whether it was made active
        row["self-check"] = check.get("score")
        row["self-check (parent)"] = (metrics["self_check"].get("parent") or {}).get("score")
        row["activated"] = metrics.get("activated")
    return row
