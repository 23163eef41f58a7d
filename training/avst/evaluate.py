"""The 6.4.2 protocol on a sync set: model, classical baseline and chance, overall and by input length."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.avst.config import INPUT_STRIDE, MIN_FRAMES, VIDEO_FPS
from core.avst.dataset import inner_length, load_clip, max_length, read_sync_set
from core.avst.evaluation import (accuracy, accuracy_by_length, chance_accuracy, classical_scores,
                                  is_correct, predicted_offset, scored)
from core.avst.predictor import AVSTPredictor
from core.calibration import ConfidenceThreshold
from training.avst import FAMILY
from training.avst.options import AVSTEvalOptions
from training.avst.predict import card_calibration
from training.benchmarks import BenchmarkSpec
from training.family import bundled_checkpoint

METHODS = ("model", "classical", "chance")


def evaluate_sync_set(predictor: AVSTPredictor, data: str | Path, lengths: list[float],
                      calibration: ConfidenceThreshold | None = None) -> dict:
    """{method: {accuracy, accuracy_by_length, accuracy_general, accuracy_speech}} over evident clips; the
    model also gets accuracy_confident and confident_share (whole-clip windows) under `calibration`."""
    entries = [e for e in read_sync_set(data) if scored(e.category)]
    if not entries:
        raise ValueError(f"{data}: no audio-visually evident clips to score")
    full = {m: [] for m in METHODS}
    by_kind = {m: {"general": [], "speech": []} for m in METHODS}
    by_length = {m: [] for m in METHODS}
    sure = []  # whole-clip model answers that the calibration calls confident
    for entry in entries:
        clip = load_clip(entry, predictor.config.image_size, predictor.spectrogram)
        frames = clip.frames.numpy()
        longest = inner_length(clip) if inner_length(clip) >= MIN_FRAMES else max_length(clip)
        windows = sorted({round(s * VIDEO_FPS / INPUT_STRIDE) for s in lengths} | {longest})
        for length in [w for w in windows if 1 <= w <= longest]:
            start = (clip.n_frames - INPUT_STRIDE * length) // 2  # centred in the clip
            model = predictor.offset_scores(clip, start, length)
            classical = classical_scores(frames, clip.audio, start, INPUT_STRIDE * length)
            results = {
                "model": float(is_correct(predicted_offset(model), entry.offset_frames, entry.speech)),
                "classical": float(is_correct(predicted_offset(classical), entry.offset_frames, entry.speech)),
                "chance": chance_accuracy(entry.offset_frames, entry.speech),
            }
            seconds = length * INPUT_STRIDE / VIDEO_FPS
            for method, value in results.items():
                if length == longest:
                    full[method].append(value)
                    if method == "model" and calibration is not None and calibration.confident(uncertainty(model)):
                        sure.append(value)
                    by_kind[method]["speech" if entry.speech else "general"].append(value)
                if any(abs(seconds - s) < 1e-6 for s in lengths):
                    by_length[method].append((seconds, value))
    report = {method: {"accuracy": accuracy(full[method]),
                     "accuracy_by_length": accuracy_by_length(by_length[method]),
                     "accuracy_general": accuracy(by_kind[method]["general"]),
                     "accuracy_speech": accuracy(by_kind[method]["speech"]),
                     "clips": len(full[method])} for method in METHODS}
    if calibration is not None:
        report["model"] |= {"accuracy_confident": accuracy(sure), "confident_share": len(sure) / len(entries),
                            "calibration": calibration.to_dict()}
    return report


def uncertainty(scores: np.ndarray) -> float:
    """1 - (p_best - p_second) of softmax-ed offset scores, as prediction reports it."""
    probabilities = np.exp(scores - scores.max())
    top = np.sort(probabilities / probabilities.sum())[::-1]
    return float(1 - (top[0] - top[1]))


def evaluate(options: AVSTEvalOptions) -> dict:
    """`eval avst --data DIR`: the checkpoint (default: the bundled one) with the baseline and chance on DIR."""
    checkpoint = options.checkpoint or bundled_checkpoint(FAMILY.bundled["sync"])
    predictor = AVSTPredictor.from_checkpoint(checkpoint, options.device)
    lengths = [float(x) for x in options.lengths.split(",") if x.strip()]
    calibration = card_calibration(checkpoint)
    return {**evaluate_sync_set(predictor, options.data, lengths, calibration), "checkpoint": str(checkpoint),
            "model_version": predictor.model_version}


def make_benchmark(kind: str, spec: BenchmarkSpec, out: Path) -> None:
    """Seeded generated clips of 4-6 s, 112 px unless spec.size says."""
    from core.synthetic.sync import generate_sync

    generate_sync(clips=spec.items, seed=spec.seed, out=out, min_duration=4.0, max_duration=6.0,
                  size=spec.size or 112)
