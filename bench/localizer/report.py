"""Markdown tables of the eval_<variant>.json files that ablation.sh writes (pasted into RESULTS.md).

Usage: python bench/localizer/report.py [FOLDER]        one run (default: bench/localizer)
       python bench/localizer/report.py F1 F2 F3 ...    runs with different training seeds: mean and
                                                        spread per variant, and each seed's margins
       F may be A+B: one seed's runs split over two folders (B's variants replace A's)
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from scipy import stats

from core.localizer.config import VARIANTS

HERE = Path(__file__).resolve().parent
KEYS = ("ciou@0.5", "mean_ciou", "auc")


def _row(name: str, values: dict) -> str:
    cells = [f"{values[k]:.3f}" for k in KEYS] + [f"{values['fixed_threshold'][k]:.3f}" for k in KEYS]
    return f"| {name} | " + " | ".join(cells) + f" | {values['clips']} |"


def _results(folder: Path) -> dict[str, dict]:
    """{variant: eval JSON} of the variants evaluated in folder; "A+B" joins two folders' runs of one
    seed, B's evaluation of a variant replacing A's."""
    joined = {}
    for part in str(folder).split("+"):
        paths = {v: Path(part) / f"eval_{v}.json" for v in VARIANTS}
        joined |= {v: json.loads(p.read_text()) for v, p in paths.items() if p.is_file()}
    return joined


def ablation_table(folder: Path = HERE) -> str:
    """One row per loss variant found, then the centre prior."""
    lines = ["| method | cIoU@0.5 | mean cIoU | AUC | cIoU@0.5 (p>0.5) | mean cIoU (p>0.5) | AUC (p>0.5) | clips |",
             "|---|---|---|---|---|---|---|---|"]
    results = _results(folder)
    lines += [_row(variant, r["model"]) for variant, r in results.items()]
    if results:
        lines.append(_row("centre prior", next(iter(results.values()))["centre_prior"]))
    return "\n".join(lines)


def _interval(margins: list[float]) -> str:
    """"; mean M, 95% CI [lo, hi]" of the per-seed margins (Student t over seeds), or "" for one seed."""
    if len(margins) < 2:
        return ""
    mean = statistics.mean(margins)
    half = stats.t.ppf(0.975, len(margins) - 1) * statistics.stdev(margins) / len(margins) ** 0.5
    return f"; mean {mean:+.3f}, 95% CI [{mean - half:+.3f}, {mean + half:+.3f}]"


def seeds_table(folders: list[Path]) -> str:
    """Per variant: mean (sample sd) over the folders of cIoU@0.5 and AUC, then trimap's margins per seed."""
    runs = [_results(f) for f in folders]
    lines = ["| method | seeds | cIoU@0.5 mean (sd) | AUC mean (sd) | cIoU@0.5 per seed |", "|---|---|---|---|---|"]
    for variant in VARIANTS:
        found = [r[variant]["model"] for r in runs if variant in r]
        if not found:
            continue
        cells = []
        for key in ("ciou@0.5", "auc"):
            values = [m[key] for m in found]
            spread = statistics.stdev(values) if len(values) > 1 else float("nan")
            cells.append(f"{statistics.mean(values):.3f} ({spread:.3f})")
        per_seed = " / ".join(f"{m['ciou@0.5']:.3f}" for m in found)
        lines.append(f"| {variant} | {len(found)} | " + " | ".join(cells) + f" | {per_seed} |")
    for other in VARIANTS[1:]:
        for key, name in (("ciou@0.5", "cIoU@0.5"), ("auc", "AUC")):
            margins = [r["trimap"]["model"][key] - r[other]["model"][key] for r in runs if "trimap" in r and other in r]
            if margins:
                lines.append(f"\ntrimap - {other}, {name} per seed: " + ", ".join(f"{m:+.3f}" for m in margins)
                             + _interval(margins))
    return "\n".join(lines)


if __name__ == "__main__":
    folders = [Path(a) for a in sys.argv[1:]] or [HERE]
    print(ablation_table(folders[0]) if len(folders) == 1 else seeds_table(folders))
