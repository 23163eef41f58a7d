"""Markdown tables of RESULTS.md from the JSON that demo.py or demo_projects.py wrote.

    .venv/bin/python bench/retrain/tables.py bench/retrain/demo_projects_seed7.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BASELINE = {"autocorrect": "noisy_input", "localizer": "centre_prior", "avst": "classical"}  # key in the eval report
ITEMS = {"autocorrect": ("instances",), "localizer": ("clips",), "avst": ("clips",)}


def comparison(model: str, retrain: dict, control: dict) -> list[str]:
    """Rows: split | metric | baseline | parent | retrain child | change | control child | change."""
    rows = ["| split | metric | baseline | parent | retrain child | change | control child | change |",
            "|---|---|---|---|---|---|---|---|"]
    reference = {(r["split"], r["metric"]): r for r in control["summary"]}
    for row in retrain["summary"]:
        other = reference.get((row["split"], row["metric"]), {})
        rows.append(f"| {row['split']} ({_items(model, retrain, row['split'])}) | {row['metric']} | "
                    f"{_baseline(model, retrain, row['split'], row['metric'])} | {_num(row['parent'])} | "
                    f"{_num(row['child'])} | {_signed(row['change'])} | {_num(other.get('child'))} | "
                    f"{_signed(other.get('change'))} |")
    return rows


def _report(job: dict, split: str) -> dict:
    return ((job["version"] or {}).get("metrics") or {}).get(split, {}).get("parent") or {}


def _items(model: str, job: dict, split: str) -> str:
    report = _report(job, split).get("model") or {}
    for key in ITEMS[model]:
        if key in report:
            return str(report[key])
    counts = job["progress"]["last_metric"]["training_data"]
    return f"{counts['held_out']} held out" if split == "heldout" else "?"


def _baseline(model: str, job: dict, split: str, metric: str) -> str:
    value = _report(job, split).get(BASELINE[model]) or {}
    if metric in value:  # "ciou@0.5" is one key
        return _num(value[metric])
    for key in metric.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return _num(value)


def _num(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _signed(value) -> str:
    return "-" if value is None else f"{value:+.3f}"


def main(path: str) -> int:
    result = json.loads(Path(path).read_text())
    runs = ({name: (p["model"], p["verdicts"], p["jobs"]) for name, p in result["projects"].items()}
            if "projects" in result else
            {result["jobs"][1]["project"]: (result["jobs"][1]["model"], result["verdicts"], result["jobs"][1:])})
    for name, (model, verdicts, (retrain, control)) in runs.items():
        print(f"\n**{name}** ({model}): verdicts {verdicts}; retrain data "
              f"{retrain['progress']['last_metric']['training_data']}; control data "
              f"{control['progress']['last_metric']['training_data']}\n")
        print("\n".join(comparison(model, retrain, control)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
