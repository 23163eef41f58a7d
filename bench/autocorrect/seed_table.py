"""Markdown summary of `bench.py accuracy` output for runs repeated over training seeds.

Checkpoints named ROW_s<seed>.pt (as consistency_seeds.sh writes them) are grouped by ROW; per data
set it prints each row's mean (sample sd) IoU over seeds, then the paired differences named with
--pair (e.g. E_d6-D: the joint loss minus J_s alone, seed by seed) with a 95 % t-interval.

Usage: python bench/autocorrect/seed_table.py ACCURACY_JSON --pair E_d6-D --pair G_d6-F
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

from scipy import stats

SEEDED = re.compile(r"^(?P<row>.+)_s(?P<seed>\d+)$")


def iou_by_row(results: list[dict]) -> dict[str, dict[str, dict[int, float]]]:
    """{data set: {row: {seed: model IoU}}} from bench.py accuracy's JSON list."""
    table: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for entry in results:
        match = SEEDED.match(Path(entry["checkpoint"]).stem)
        if match:
            table[Path(entry["data"]).name][match["row"]][int(match["seed"])] = entry["model"]["iou"]
    return table


def interval(values: list[float]) -> str:
    """Mean and 95 % t-interval of `values`."""
    mean = statistics.mean(values)
    if len(values) < 2:
        return f"{mean:+.3f}"
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return f"{mean:+.3f} [{mean - half:+.3f}, {mean + half:+.3f}]"


def summary(results: list[dict], pairs: list[str]) -> str:
    """One table per data set: rows' means over seeds, then the paired differences."""
    lines = []
    reference = {Path(e["data"]).name: e for e in results}
    for data, rows in iou_by_row(results).items():
        noisy, shift = (reference[data][k]["iou"] for k in ("noisy_input", "global_shift"))
        lines += [f"\n{data} (noisy input {noisy:.3f}, global shift {shift:.3f})", "",
                  "| row | seeds | IoU mean (sd) | per seed |", "|---|---|---|---|"]
        for row, by_seed in sorted(rows.items()):
            values = [by_seed[s] for s in sorted(by_seed)]
            sd = f" ({statistics.stdev(values):.3f})" if len(values) > 1 else ""
            lines.append(f"| {row} | {len(values)} | {statistics.mean(values):.3f}{sd} | "
                         + " / ".join(f"{v:.3f}" for v in values) + " |")
        for pair in pairs:
            a, b = pair.split("-")
            seeds = sorted(set(rows.get(a, {})) & set(rows.get(b, {})))
            if seeds:
                diffs = [rows[a][s] - rows[b][s] for s in seeds]
                lines.append(f"\n{a} - {b} over seeds {seeds}: {interval(diffs)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accuracy_json", type=Path)
    parser.add_argument("--pair", action="append", default=[], help="ROW_A-ROW_B: paired difference")
    args = parser.parse_args()
    print(summary(json.loads(args.accuracy_json.read_text()), args.pair))


if __name__ == "__main__":
    main()
