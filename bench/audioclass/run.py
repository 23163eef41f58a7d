"""VGG-Sound curation benchmark (thesis 4.3.3-4.3.4, Table 4.4) on generated clips.

Curates a generated pool (labels partly wrong), then scores what it removed against the pool's
truth.csv (read here only, never by the curation), and trains average-pool and NetVLAD classifiers
on the kept clips, scored on a held-out generated test set:

    .venv/bin/python -m core.synthetic curation --clips 1000 --classes 20 --wrong-labels 0.3 --seed 11 --out POOL
    .venv/bin/python -m core.synthetic curation --clips 400 --classes 20 --wrong-labels 0 --overlays 0 \
        --hard 0 --duplicates 0 --seed 12 --out TEST
    .venv/bin/python bench/audioclass/run.py --pool POOL --test TEST --work WORK --out bench/audioclass/results.json
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import date
from pathlib import Path

import torch

from training.audioclass.curate import curate, decisions_path
from training.audioclass.evaluate import score_folder
from training.audioclass.options import AudioClassTrainOptions, CurateOptions
from training.audioclass.predict import load_predictor
from training.audioclass.train import train

RESULTS_DATE = date(2026, 12, 7)


def read_truth(folder: Path) -> dict[str, dict]:
    """truth.csv rows by clip key."""
    with open(folder / "truth.csv", newline="", encoding="utf-8") as handle:
        return {f"{r['youtube_id']}_{int(r['start_seconds']):06d}": r for r in csv.DictReader(handle)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _by_class(labels) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def score_curation(decisions: list[dict], truth: dict[str, dict], rules: dict) -> dict:
    """Shares of wrong-label clips removed and right-label clips kept, per stage, against the truth."""
    rows = [(d, truth[d["key"]]) for d in decisions]
    music_ok = {label for label, rule in rules["classes"].items() if "music" not in rule["reject"]}

    def should_reject(t: dict) -> bool:  # the overlay breaks the class's rule
        return bool(t["overlay"]) and not (t["overlay"] == "music" and t["label"] in music_ok)

    stage3 = [(d, t) for d, t in rows if "stage3" in d]
    bad3 = [d for d, t in stage3 if should_reject(t)]
    clean_right = [d for d, t in stage3 if not t["overlay"] and t["wrong"] == "0"]
    clean_wrong = [(d, t) for d, t in stage3 if not t["overlay"] and t["wrong"] == "1"]
    report = {"stage3": {
        "overlay_clips_the_rules_reject": len(bad3),
        "share_of_overlay_clips_rejected": _share(sum(d["stage3"]["rejected"] for d in bad3), len(bad3)),
        "right_label_clips_without_overlay": len(clean_right),
        "share_of_right_label_clips_rejected": _share(sum(d["stage3"]["rejected"] for d in clean_right),
                                                      len(clean_right)),
        "wrong_label_clips_without_overlay": len(clean_wrong),
        "share_of_them_rejected_(their_own_sound_is_an_instrument)": _share(
            sum(d["stage3"]["rejected"] for d, t in clean_wrong if t["true_label"] in music_ok), len(clean_wrong)),
        "share_of_them_rejected_(other_sounds)": _share(
            sum(d["stage3"]["rejected"] for d, t in clean_wrong if t["true_label"] not in music_ok), len(clean_wrong)),
        "right_label_clips_rejected_by_true_class": _by_class(
            t["true_label"] for d, t in stage3 if not t["overlay"] and t["wrong"] == "0" and d["stage3"]["rejected"])}}
    stage4 = [(d, t) for d, t in rows if "twofold" in d]
    wrong = [(d, t) for d, t in stage4 if t["wrong"] == "1"]
    right = [(d, t) for d, t in stage4 if t["wrong"] == "0" and not t["duplicate_of"]]
    steps = {"two-fold (easy positives)": lambda d: d["twofold"]["easy_positive"],
             "+ visual retrieval (hard positives)": lambda d: d["decided_by"] in ("easy", "hard")
             or (d["decided_by"] == "duplicate" and d["twofold"]["easy_positive"]),
             "stage 4 as a whole (+ final classifier, - duplicates)": lambda d: d["kept"]}
    report["stage4"] = {"input_clips": len(stage4), "wrong_label_clips": len(wrong),
                        "right_label_clips": len(right), "hard_right_label_clips": sum(t["hard"] == "1"
                                                                                       for _, t in right)}
    for name, kept in steps.items():
        report["stage4"][name] = {
            "wrong_removed": _share(sum(not kept(d) for d, _ in wrong), len(wrong)),
            "right_kept": _share(sum(bool(kept(d)) for d, _ in right), len(right)),
            "hard_right_kept": _share(sum(bool(kept(d)) for d, t in right if t["hard"] == "1"),
                                      sum(t["hard"] == "1" for _, t in right))}
    groups: dict[str, list[dict]] = {}
    for d, t in rows:
        if t["duplicate_of"]:
            groups.setdefault(t["duplicate_of"], []).append(d)
    for original, members in groups.items():
        members.extend(d for d, _ in rows if d["key"] == original)
    report["duplicates"] = {"groups": len(groups), "copies": sum(len(m) - 1 for m in groups.values()),
                            "groups_with_more_than_one_kept": sum(sum(d["kept"] for d in m) > 1
                                                                  for m in groups.values()),
                            "flagged_duplicate": sum("duplicate" in d for m in groups.values() for d in m),
                            "flagged_outside_groups": sum("duplicate" in d for d, t in rows
                                                          if not t["duplicate_of"] and t["youtube_id"] + "_000000"
                                                          not in groups)}
    kept_all = [t for d, t in rows if d["kept"]]
    report["kept_set"] = {"clips": len(kept_all), "wrong_label_share": _share(sum(t["wrong"] == "1" for t in kept_all),
                                                                              len(kept_all))}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=4, help="curation classifiers")
    parser.add_argument("--final-epochs", type=int, nargs="+", default=[6, 20],
                        help="the Table 4.4 classifiers on the kept clips, one pair per value")
    parser.add_argument("--test-hard", type=Path, help="a second test set (clips mixed under another class)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (one per run, as the other benches)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-curate", action="store_true", help="reuse WORK/kept.csv")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    kept_csv = args.work / "kept.csv"
    if not args.skip_curate:
        curate(CurateOptions(data=args.pool, out=kept_csv, epochs=args.epochs, seed=args.seed, threads=args.threads))
    decisions = json.loads(decisions_path(kept_csv).read_text())
    clips = decisions["counts"]["clips"]
    per_1000 = {stage: round(s * 1000 / clips, 1) for stage, s in decisions["seconds"].items()}
    results = {"date": RESULTS_DATE.isoformat(), "machine": "2-core CPU shared with other processes",
               "threads": args.threads, "pool": str(args.pool), "test": str(args.test),
               "curation": {"counts": decisions["counts"], "seconds": decisions["seconds"],
                            "seconds_per_1000_clips": per_1000, "retrieval_features": decisions["retrieval_features"],
                            "options": decisions["options"],
                            **score_curation(decisions["clips"], read_truth(args.pool), decisions["rules"])}}
    classifiers = {}
    for epochs in args.final_epochs:
        for name, config in (("average pool", "tiny-ap"), ("NetVLAD", "tiny-nv")):
            out = args.work / f"final-{config}-e{epochs}.pt"
            if out.is_file():  # trained by an earlier run of this script: scored again
                record = json.loads(out.with_suffix(".train.json").read_text())
                seconds = None
            else:
                started = time.perf_counter()
                record = train(AudioClassTrainOptions(data=args.pool, labels=kept_csv, out=out, config=config,
                                                      epochs=epochs, seed=args.seed, threads=args.threads))
                seconds = round(time.perf_counter() - started, 1)
            predictor = load_predictor(out)
            row = {"config": config, "epochs": epochs, "train_clips": record["clips"], "steps": record["steps"],
                   "final_loss": record["final_loss"], "train_seconds": seconds,
                   "test": score_folder(predictor, args.test)}
            if args.test_hard:
                row["test_hard"] = score_folder(predictor, args.test_hard)
            classifiers[f"{name}, {epochs} epochs"] = row
            print(name, epochs, row, flush=True)
    results["table_4_4_on_generated_clips"] = classifiers
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results["curation"]["stage4"], indent=1))


if __name__ == "__main__":
    main()
