"""Real clips and held-out generated clips through `predict localizer --clip`: who is confident, and how
well the confident ones are localised against all of them.

    python -m core.synthetic localization --clips 300 --seed 2 --duration 3 --out /tmp/loc_test300
    python bench/localizer/real_clips.py --data /tmp/loc_test300 --out bench/localizer/real_clips_2026-12-07.json

The real clips are the three videos of the `gradio` wheel (core/samples.py): a globe turning to
music and two motion-graphics clips, all 16:9, none with a visible sounding object. The generated
clips are also run with their audio replaced by silence or noise (no source anywhere), and
self-checked as a project of 64 of them would be (`predict_project` calibrates on its own clips).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core.localizer.dataset import load_clip_set, media_file
from core.localizer.metrics import clip_ciou, summarise
from core.calibration import ConfidenceThreshold
from core.samples import GRADIO_MEDIA, SampleUnavailable, fetch
from training.localizer.predict import load_predictor, predict_clip
from training.options import PredictOptions

REAL = ("a", "b", "world")


def replaced_audio(samples: int, count: int, seed: int = 11) -> dict[str, np.ndarray]:
    """(count, samples) audio windows without a source: silence, white noise and pink noise."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.normal(size=(count, samples)), axis=1)
    pink = np.fft.irfft(spectrum / np.sqrt(np.maximum(np.arange(spectrum.shape[1]), 1)), samples, axis=1)
    return {"silence": np.zeros((count, samples), np.float32),
            "white noise": rng.normal(0.0, 0.05, (count, samples)).astype(np.float32),
            "pink noise": (0.3 * pink / np.abs(pink).max(axis=1, keepdims=True)).astype(np.float32)}


def _metrics(cious: list[float]) -> dict | None:
    return summarise(cious) if cious else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="held-out generated clips with vggss.json")
    parser.add_argument("--samples", type=Path, default=Path("/tmp/samples"), help="cache of the wheel samples")
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: the bundled localizer-demo")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N generated clips")
    parser.add_argument("--project-clips", type=int, default=64,
                        help="clips of the project-style self-check (as predict_project calibrates)")
    parser.add_argument("--subsets", type=int, default=12,
                        help="random projects of 32 and of 64 clips self-checked to see how often a threshold is found")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    options = dict(checkpoint=args.checkpoint, device="cpu")
    real = []
    try:
        root = fetch(GRADIO_MEDIA, args.samples)
        for name in REAL:
            result = predict_clip(PredictOptions(clip=root / f"gradio/media_assets/videos/{name}.mp4", **options))
            real.append({"name": f"{name}.mp4", **{k: result[k] for k in (
                "frame_size", "confident", "specificity", "uncertainty", "boxes", "model_boxes")}})
    except SampleUnavailable as error:
        print(f"real clips skipped: {error}", file=sys.stderr)

    predictor = load_predictor(args.checkpoint, "cpu")
    clips = load_clip_set(args.data, predictor.config.network.image_size, predictor.config.audio,
                          require_boxes=True, limit=args.limit, cache=False)
    rows = []
    for key, boxes in zip(clips.keys, clips.annotations):
        path = media_file(args.data / "clips", key)
        result = predict_clip(PredictOptions(clip=path, **options))
        heatmap = predictor.localize_file(path).heatmap  # the map predict_clip's boxes came from
        rows.append({"clip": key, "confident": result["confident"], "specificity": result["specificity"],
                     "uncertainty": result["uncertainty"],
                     "ciou": clip_ciou(heatmap, boxes), "boxes": len(result["boxes"]),
                     "model_boxes": len(result["model_boxes"])})
    calibration = result["calibration"]
    card = ConfidenceThreshold.from_dict(calibration)
    replaced = {}
    for name, audio in replaced_audio(clips.waveforms.shape[1], len(clips)).items():
        results = predictor.localize_arrays(clips.images, audio)
        replaced[name] = {"confident_share": float(np.mean([card.confident(r.uncertainty) for r in results])),
                          "max_specificity": round(max(r.specificity for r in results), 5)}
    sure = [r["ciou"] for r in rows if r["confident"]]
    spaced = np.arange(len(clips))[:: max(1, len(clips) // args.project_clips)][: args.project_clips]
    check = predictor.self_check(clips.images[spaced], clips.waveforms[spaced], [clips.keys[i] for i in spaced])
    project_sure = [r["ciou"] for r in rows if check.calibration.confident(r["uncertainty"])]
    sizes = {}
    rng = np.random.default_rng(0)
    for size in (32, 64):
        thresholds, shares = [], []
        for _ in range(args.subsets if len(clips) > size else 0):
            picked = rng.choice(len(clips), size, replace=False)
            found = predictor.self_check(clips.images[picked], clips.waveforms[picked]).calibration
            thresholds.append(found.max_uncertainty)
            shares.append(float(np.mean([found.confident(r["uncertainty"]) for r in rows])))
        sizes[str(size)] = {"projects": len(thresholds),
                            "no_threshold": sum(t is None for t in thresholds) / max(1, len(thresholds)),
                            "thresholds": thresholds, "confident_share_mean": float(np.mean(shares)) if shares else None,
                            "confident_share_sd": float(np.std(shares)) if shares else None}
    report = {
        "checkpoint": str(args.checkpoint or "bundled localizer-demo"), "model_version": predictor.model_version,
        "card_calibration": calibration, "real_clips": real,
        "generated": {"data": str(args.data), "clips": len(rows),
                      "confident_share": len(sure) / len(rows),
                      "all": _metrics([r["ciou"] for r in rows]), "confident": _metrics(sure),
                      "not_confident": _metrics([r["ciou"] for r in rows if not r["confident"]])},
        "replaced_audio": replaced,
        "project_style": {"self_check": check.to_dict(), "confident_share": len(project_sure) / len(rows),
                          "confident": _metrics(project_sure), "random_projects": sizes},
        "per_clip": rows, "seconds": round(time.perf_counter() - started, 1)}
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "per_clip"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
