"""mAP / AUC / d-prime / top-1 / top-5 (Table 4.4) of an audio classifier on a labelled folder."""

from __future__ import annotations

from pathlib import Path

from core.audioclass.dataset import load_clip_set, spectrograms
from core.audioclass.metrics import classification_metrics
from core.audioclass.predictor import AudioClassPredictor
from training.audioclass.options import AudioClassEvalOptions
from training.audioclass.predict import load_predictor
from training.audioclass.train import class_indices
from training.benchmarks import BenchmarkSpec

BENCHMARK_CLASSES = 20  # the bundled demo checkpoint's classes: the first 20 of core/synthetic/curation.py


def score_folder(predictor: AudioClassPredictor, data: Path, split: str | None = None,
                 limit: int | None = None) -> dict:
    """{"model": metrics or None, "clips", "unknown_labels"}: whole clips through the network (4.4.2)."""
    clips = load_clip_set(data, predictor.config.audio, limit=limit, split=split)
    targets, known = class_indices(clips.labels, predictor.classes)
    report: dict = {"clips": int(known.sum()), "unknown_labels": int((~known).sum()), "model": None}
    if known.any():
        probs, _ = predictor.outputs(spectrograms(clips.waveforms[known], predictor.config.audio))
        report["model"] = classification_metrics(probs, targets[known])
    return report


def evaluate(options: AudioClassEvalOptions) -> dict:
    """`eval audioclass --data DIR`: the checkpoint (default: the bundled demo) on DIR's labelled clips."""
    predictor = load_predictor(options.checkpoint, options.device)
    report = score_folder(predictor, Path(options.data), options.split, options.limit)
    return {**report, "checkpoint": str(options.checkpoint or "bundled"), "model_version": predictor.model_version}


def make_benchmark(kind: str, spec: BenchmarkSpec, out: Path) -> None:
    """Seeded generated 10 s clips with right labels over the demo's classes."""
    from core.synthetic.curation import generate_curation

    generate_curation(clips=spec.items, classes=BENCHMARK_CLASSES, seed=spec.seed, out=out, wrong_labels=0.0,
                      overlays=0.0, hard=0.0, duplicates=0.0)
