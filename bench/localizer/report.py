"""Markdown table of the eval_<variant>.json files that ablation.sh writes (pasted into RESULTS.md).

Usage: python bench/localizer/report.py [FOLDER]   (default: bench/localizer)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("trimap", "positives-only", "no-ignore")
KEYS = ("ciou@0.5", "mean_ciou", "auc")


def _row(name: str, values: dict) -> str:
    cells = [f"{values[k]:.3f}" for k in KEYS] + [f"{values['fixed_threshold'][k]:.3f}" for k in KEYS]
    return f"| {name} | " + " | ".join(cells) + f" | {values['clips']} |"


def ablation_table(folder: Path = HERE) -> str:
    """One row per loss variant found, then the centre prior."""
    lines = ["| method | cIoU@0.5 | mean cIoU | AUC | cIoU@0.5 (p>0.5) | mean cIoU (p>0.5) | AUC (p>0.5) | clips |",
             "|---|---|---|---|---|---|---|---|"]
    prior = None
    for variant in VARIANTS:
        path = folder / f"eval_{variant}.json"
        if path.is_file():
            results = json.loads(path.read_text())
            lines.append(_row(variant, results["model"]))
            prior = results["centre_prior"]
    if prior:
        lines.append(_row("centre prior", prior))
    return "\n".join(lines)


if __name__ == "__main__":
    print(ablation_table(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
