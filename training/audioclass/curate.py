"""`python -m training curate`: stages 3 and 4 of VGG-Sound curation on a folder of candidate clips.

Stage 3 (4.3.3): the speech / music / other classifier and per-class rules reject clips. Stage 4
(4.3.4, automatic part): two-fold filtering (per class two random halves, a classifier trained on
each half predicts the other, twice: every clip gets two predictions from models that never saw it;
easy positives are the clips whose label is in the ensemble's top 3); hard positives retrieved by
visual features among the rejected clips; a final classifier on easy + hard positives predicts the
clips still rejected (never trained on) and takes back those whose label is in its top 3; near-
duplicates removed by visual features. Clips without video have no visual feature: retrieval and
de-duplication then use the final classifier's audio embeddings instead (said in the report).

Every decision is recorded per clip with the scores behind it and the model versions
(KEPT.decisions.json); the models are saved under KEPT.models/. truth.csv is never read.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from core.audioclass.config import FAMILY, named_config
from core.audioclass.dataset import ClipSet, load_clip_set, spectrograms
from core.audioclass.filtering import ensemble, keep_top_k, label_ranks, near_duplicates, retrieve, two_fold_plan
from core.audioclass.predictor import AudioClassPredictor
from core.audioclass.verification import VerificationRules, load_rules
from core.audioclass.visual import visual_feature
from core.checkpoints import checkpoint_meta, checkpoint_version, save_checkpoint
from core.synthetic.localization import write_labels_csv
from training.audioclass import VERIFIER
from training.audioclass.options import CurateOptions
from training.audioclass.train import FitSettings, class_indices, fit_classifier
from training.family import bundled_checkpoint

Progress = Callable[[str, int, int], None] | None
TOP = 5  # classes recorded per prediction


def decisions_path(out: Path) -> Path:
    """Where the per-clip decisions of a curation go: KEPT.csv -> KEPT.decisions.json."""
    return Path(out).with_suffix(".decisions.json")


def models_dir(out: Path) -> Path:
    """Where a curation's classifiers go: KEPT.csv -> KEPT.models/."""
    return Path(out).with_suffix(".models")


def _top(probs: np.ndarray, classes: tuple[str, ...]) -> list[list]:
    order = np.argsort(-probs, kind="mergesort")[:TOP]
    return [[classes[i], round(float(probs[i]), 4)] for i in order]


def _save_model(result, config, path: Path, record: dict) -> str:
    """Save a curation classifier; returns its model version."""
    save_checkpoint(path, result.model.state_dict(), checkpoint_meta(FAMILY, config.to_dict(), record))
    return checkpoint_version(path)


def stage3(clips: ClipSet, rules: VerificationRules, verifier: AudioClassPredictor) -> tuple[np.ndarray, list[dict]]:
    """(passed mask, per-clip records): speech / music / other scores and the rule that rejected each clip."""
    probs, _ = verifier.outputs(spectrograms(clips.waveforms, verifier.config.audio))
    passed, records = np.ones(len(clips), dtype=bool), []
    for i, label in enumerate(clips.labels):
        scores = {name: round(float(p), 4) for name, p in zip(verifier.classes, probs[i])}
        rejections = rules.check(label, scores)
        passed[i] = not rejections
        records.append({"scores": scores, "rule": rules.rule_for(label).describe(label, rules.threshold),
                        "rejected": bool(rejections), "rejections": [asdict(r) for r in rejections],
                        "model_version": verifier.model_version})
    return passed, records


def curate(options: CurateOptions, progress: Progress = None) -> dict:
    """Run stages 3 and 4 on options.data; write the kept clips' CSV, the decisions and the models; returns
    the report (per-stage counts, seconds per stage, paths)."""
    say = progress or (lambda stage, done, total: print(f"{stage} {done}/{total}", file=sys.stderr, flush=True))
    if options.threads:
        torch.set_num_threads(options.threads)
    out, timings = Path(options.out), {}
    out.parent.mkdir(parents=True, exist_ok=True)
    models = models_dir(out)
    models.mkdir(parents=True, exist_ok=True)
    base = named_config(options.config)
    started = time.perf_counter()
    clips = load_clip_set(options.data, base.audio)
    n = len(clips)
    timings["decode"] = time.perf_counter() - started
    decisions = [{"key": k, "label": label, "split": s} for k, label, s in zip(clips.keys, clips.labels, clips.splits)]

    # stage 3: audio verification
    started = time.perf_counter()
    rules_path = options.rules or (Path(options.data) / "rules.json" if (Path(options.data) / "rules.json").is_file()
                                   else None)
    rules = load_rules(rules_path)
    if options.skip_stage3:
        passed = np.ones(n, dtype=bool)
    else:
        verifier = AudioClassPredictor.from_checkpoint(options.verifier or bundled_checkpoint(VERIFIER), options.device)
        passed, records = stage3(clips, rules, verifier)
        for decision, record in zip(decisions, records):
            decision["stage3"] = record
    timings["stage3"] = time.perf_counter() - started
    say("stage3", 1, 1)

    # stage 4a: two-fold noise filtering
    started = time.perf_counter()
    survivors = np.flatnonzero(passed)
    labels = [clips.labels[i] for i in survivors]
    if len(survivors) < 2:
        raise ValueError(f"stage 4 needs at least 2 clips: {len(survivors)} of {n} passed stage 3; "
                         "check the stage-3 rules")
    classes = tuple(sorted(set(labels)))
    config = named_config(options.config, classes)
    targets, _ = class_indices(labels, classes)
    specs = spectrograms(clips.waveforms[survivors], config.audio)
    settings = FitSettings(options.epochs, options.batch_size, options.lr, options.seed, device=options.device)
    plan = two_fold_plan(labels, repetitions=2, seed=options.seed)
    if any(len(fold.train) == 0 or len(fold.predict) == 0 for fold in plan):
        raise ValueError(f"stage 4 needs clips in both random halves: {len(survivors)} of {n} clip(s) passed "
                         f"stage 3 ({', '.join(f'{c} {labels.count(c)}' for c in classes) or 'none'}); "
                         "check the stage-3 rules")
    predictions, fold_records = [], {}
    for k, fold in enumerate(plan):
        fit = fit_classifier(config, specs[fold.train], targets[fold.train],
                             FitSettings(**{**asdict(settings), "seed": options.seed + 1 + k}))
        version = _save_model(fit, config, models / f"twofold-{fold.name}.pt",
                              {"role": "two-fold", "fold": fold.name, "trained_on": len(fold.train),
                               "steps": fit.steps, "final_loss": fit.losses[-1]})
        probs, _ = AudioClassPredictor(fit.model, version, options.device).outputs(specs[fold.predict])
        predictions.append((fold.predict, probs))
        fold_records[fold.name] = {"model_version": version, "trained_on": len(fold.train),
                                   "predicted": len(fold.predict)}
        for j, p in zip(fold.predict, probs):
            decisions[survivors[j]].setdefault("twofold", {"predictions": []})["predictions"].append(
                {"model": fold.name, "model_version": version, "top": _top(p, classes),
                 "label_probability": round(float(p[targets[j]]), 4)})
        say("twofold", k + 1, len(plan))
    mean, count = ensemble(len(survivors), predictions)
    if not (count == 2).all():
        raise RuntimeError("two-fold plan: every clip must get exactly two predictions")
    ranks = label_ranks(mean, targets)
    easy = keep_top_k(mean, targets, options.top_k)
    for j, i in enumerate(survivors):
        decisions[i]["twofold"].update({"ensemble_top": _top(mean[j], classes), "label_rank": int(ranks[j]),
                                        "label_probability": round(float(mean[j, targets[j]]), 4),
                                        "easy_positive": bool(easy[j])})
    timings["twofold"] = time.perf_counter() - started

    # stage 4b: hard positives by visual retrieval
    started = time.perf_counter()
    visual = [visual_feature(clips.paths[i]) for i in survivors]
    has_video = all(v is not None for v in visual)
    features = np.stack(visual) if has_video else None
    hard = np.zeros(len(survivors), dtype=bool)
    if has_video:
        hard, votes = retrieve(features, labels, easy, ~easy, options.neighbours, options.min_votes)
        for j in np.flatnonzero(~easy):
            decisions[survivors[j]]["retrieval"] = {"features": "visual", "votes": int(votes[j]),
                                                    "neighbours": options.neighbours, "hard_positive": bool(hard[j])}
    timings["retrieval"] = time.perf_counter() - started
    say("retrieval", 1, 1)

    # stage 4c: final classifier on easy + hard positives, then the clips still rejected
    started = time.perf_counter()
    positives = easy | hard
    fit = fit_classifier(config, specs[positives], targets[positives],
                         FitSettings(**{**asdict(settings), "seed": options.seed + 100}))
    final_path = models / "final.pt"
    final_version = _save_model(fit, config, final_path, {"role": "final", "trained_on": int(positives.sum()),
                                                          "steps": fit.steps, "final_loss": fit.losses[-1]})
    final = AudioClassPredictor(fit.model, final_version, options.device)
    rest = np.flatnonzero(~positives)
    recovered = np.zeros(len(survivors), dtype=bool)
    if len(rest):
        probs, _ = final.outputs(specs[rest])
        final_ranks = label_ranks(probs, targets[rest])
        for j, p, rank in zip(rest, probs, final_ranks):
            recovered[j] = rank <= options.top_k
            decisions[survivors[j]]["final"] = {"model_version": final_version, "top": _top(p, classes),
                                                "label_rank": int(rank), "recovered": bool(recovered[j])}
    if not has_video:  # no pictures: retrieval and de-duplication fall back to the final model's embeddings
        _, features = final.outputs(specs)
    timings["final"] = time.perf_counter() - started
    say("final", 1, 1)

    # stage 4d: near-duplicates
    started = time.perf_counter()
    kept_4 = positives | recovered
    duplicate_of, similarity = near_duplicates(features, labels, kept_4, options.duplicate_similarity)
    for j in np.flatnonzero(duplicate_of >= 0):
        decisions[survivors[j]]["duplicate"] = {"of": clips.keys[survivors[duplicate_of[j]]],
                                                "similarity": round(float(similarity[j]), 5)}
    kept_4 &= duplicate_of < 0
    timings["dedup"] = time.perf_counter() - started

    kept = np.zeros(n, dtype=bool)
    kept[survivors[kept_4]] = True
    for i, decision in enumerate(decisions):
        decision["kept"] = bool(kept[i])
        decision["decided_by"] = _decided_by(decision)
    rows = [(clips.keys[i].rsplit("_", 1)[0], int(clips.keys[i].rsplit("_", 1)[1]), clips.labels[i], clips.splits[i])
            for i in np.flatnonzero(kept)]
    write_labels_csv(out, rows)
    counts = {"clips": n, "stage3_rejected": int(n - passed.sum()), "stage4_input": len(survivors),
              "easy_positives": int(easy.sum()), "hard_positives": int(hard.sum()),
              "final_recovered": int(recovered.sum()), "duplicates": int((duplicate_of >= 0).sum()),
              "kept": int(kept.sum())}
    report = {"data": str(options.data), "out": str(out), "decisions": str(decisions_path(out)),
              "counts": counts, "per_class": _per_class(decisions),
              "seconds": {k: round(v, 2) for k, v in timings.items()},
              "retrieval_features": "visual" if has_video else "audio embeddings of the final classifier (no video)",
              "rules": rules.to_dict(), "rules_file": None if rules_path is None else str(rules_path),
              "models": {"twofold": fold_records, "final": final_version, "final_checkpoint": str(final_path)},
              "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}}
    decisions_path(out).write_text(json.dumps({**report, "clips": decisions}, indent=1), encoding="utf-8")
    return report


def _decided_by(decision: dict) -> str:
    """The stage that settled a clip: stage3, easy, hard, final, duplicate or rejected."""
    if decision.get("stage3", {}).get("rejected"):
        return "stage3"
    if "duplicate" in decision:
        return "duplicate"
    if decision.get("twofold", {}).get("easy_positive"):
        return "easy"
    if decision.get("retrieval", {}).get("hard_positive"):
        return "hard"
    if decision.get("final", {}).get("recovered"):
        return "final"
    return "rejected"


def _per_class(decisions: list[dict]) -> dict[str, dict[str, int]]:
    """{class: {clips, kept, and a count per deciding stage}} (what a curation page plots)."""
    table: dict[str, dict[str, int]] = {}
    for d in decisions:
        row = table.setdefault(d["label"], {"clips": 0, "kept": 0})
        row["clips"] += 1
        row["kept"] += int(d["kept"])
        row[d["decided_by"]] = row.get(d["decided_by"], 0) + 1
    return dict(sorted(table.items()))

