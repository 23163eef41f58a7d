"""cIoU / AUC of a localizer and of the centre prior on clips with reference boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.localizer.centre_prior import centre_prior
from core.localizer.dataset import ClipSet, load_clip_set
from core.localizer.metrics import clip_ciou, summarise
from core.localizer.predictor import LocalizerPredictor
from training.benchmarks import BenchmarkSpec
from training.localizer.options import LocalizerEvalOptions
from training.localizer.predict import load_predictor


def predicted_heatmaps(predictor: LocalizerPredictor, clips: ClipSet, batch_size: int = 32) -> np.ndarray:
    """(n, h, w) maps of every clip, in batches."""
    return np.concatenate([predictor.heatmaps(clips.images[i:i + batch_size], clips.waveforms[i:i + batch_size])
                           for i in range(0, len(clips), batch_size)])


def score_heatmaps(heatmaps: np.ndarray, clips: ClipSet) -> dict:
    """Metrics of per-clip heatmaps (median binarisation, as the public code) and, under
    "fixed_threshold", with the thesis 5.A binarisation p > 0.5 of the normalised map."""
    scores = summarise([clip_ciou(h, a) for h, a in zip(heatmaps, clips.annotations)])
    fixed = summarise([clip_ciou(h, a, threshold=0.5) for h, a in zip(heatmaps, clips.annotations)])
    return {**scores, "fixed_threshold": fixed}


def evaluate_methods(predictor: LocalizerPredictor | None, clips: ClipSet) -> dict[str, dict[str, float]]:
    """{"model": ..., "centre_prior": ...} metrics on clips that all have boxes."""
    if any(not a for a in clips.annotations):
        raise ValueError("every evaluated clip needs reference boxes")
    results = {}
    if predictor is not None:
        results["model"] = score_heatmaps(predicted_heatmaps(predictor, clips), clips)
    prior = centre_prior()
    results["centre_prior"] = score_heatmaps(np.broadcast_to(prior, (len(clips), *prior.shape)), clips)
    return results


def evaluate(options: LocalizerEvalOptions) -> dict:
    """`eval localizer --data DIR`: the checkpoint (default: the bundled one) and the centre prior on DIR."""
    predictor = load_predictor(options.checkpoint, options.device)
    clips = load_clip_set(options.data, predictor.config.network.image_size, predictor.config.audio,
                          require_boxes=True, limit=options.limit)
    return {**evaluate_methods(predictor, clips), "checkpoint": str(options.checkpoint or "bundled"),
            "model_version": predictor.model_version}


def make_benchmark(kind: str, spec: BenchmarkSpec, out: Path) -> None:
    """Seeded generated 3 s clips with reference boxes, 224 px unless spec.size says."""
    from core.synthetic.localization import generate_localization

    generate_localization(clips=spec.items, seed=spec.seed, out=out, duration=3.0, size=spec.size or 224)
