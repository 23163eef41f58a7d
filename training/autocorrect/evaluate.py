"""Score a checkpoint on held-out tiles beside the noisy input and the global-shift baseline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from core.autocorrect.baseline import global_shift
from core.autocorrect.geo_io import GeoTile, at_model_gsd, load_generated, model_scale, raster_gsd, scaled
from core.autocorrect.memory_map import TileInput
from core.autocorrect.metrics import score
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.windows import image_to_float
from training.autocorrect import FAMILY
from training.autocorrect.options import AutoCorrectEvalOptions
from training.benchmarks import BenchmarkSpec


def corrected_shapes(predictor: AutoCorrectPredictor, tiles: list[GeoTile], uncertainty: bool = False,
                     passes: int | None = None) -> list[list]:
    """Every tile's shapes after correction (all tiles corrected together, step by step)."""
    inputs = [TileInput(image_to_float(t.image), t.shapes) for t in tiles]
    results = predictor.correct(inputs, uncertainty=uncertainty, passes=passes)
    return [[s.moved(m) for s, m in zip(t.shapes, r.matrices)] for t, r in zip(tiles, results)]


def abstaining_shapes(predictor: AutoCorrectPredictor, tiles: list[GeoTile]) -> tuple[list[list], float]:
    """Every tile's shapes after correction with abstention calibrated by a self-check on the tiles' own
    (noisy) labels, as prediction on a project does; and the share of confident corrections."""
    bound = predictor.bound_px(max(max(t.image.shape[1:]) for t in tiles), raster_gsd(tiles[0].transform))
    inputs = [TileInput(t.image, t.shapes) for t in tiles]
    calibration = predictor.self_check(inputs, bound, rounds=2).calibration
    results = predictor.propose(inputs, calibration)
    share = float(np.mean([c for r in results for c in r.confident])) if results else 0.0
    return [[s.moved(m) for s, m in zip(t.shapes, r.matrices)] for t, r in zip(tiles, results)], share


def evaluate_directory(checkpoint: str | Path, data: str | Path, device: str | None = None,
                       passes: int | None = None, abstain: bool = False) -> dict:
    """{"model", "noisy_input", "global_shift"}: each {"iou", "pck", "instances"}; plus run facts.

    `passes` overrides the checkpoint config's number of Phi applications per instance; `abstain`
    adds "model_with_abstention" (unsure corrections leave the label as it was).
    """
    predictor = AutoCorrectPredictor.from_checkpoint(checkpoint, device)
    kind, tiles = load_generated(data, predictor.config.track_width_m)
    if any(t.truth is None for t in tiles):
        raise FileNotFoundError(f"{Path(data) / 'truth.geojson'}: evaluation needs the true annotations")
    truth = [t.truth for t in tiles]
    sizes = [t.image.shape[1:] for t in tiles]
    start = time.time()
    passes = passes or predictor.config.passes
    scales = [model_scale(t.transform, predictor.config.gsd_m) for t in tiles]  # scored in raster px
    model_tiles = at_model_gsd(tiles, predictor.config.gsd_m)
    corrected = [[scaled(s, 1 / k) for s in shapes] for shapes, k in
                 zip(corrected_shapes(predictor, model_tiles, passes=passes), scales)]
    seconds = time.time() - start
    shifted = [global_shift(t.shapes, t.truth, t.image.shape[1:],
                            int(np.ceil(predictor.max_shift(max(t.image.shape[1:])))))[0] for t in tiles]
    methods = {"model": corrected, "noisy_input": [t.shapes for t in tiles], "global_shift": shifted}
    confident_share = None
    if abstain:
        kept, confident_share = abstaining_shapes(predictor, model_tiles)
        methods["model_with_abstention"] = [[scaled(s, 1 / k) for s in shapes] for shapes, k in zip(kept, scales)]
    result = {name: score(shapes, truth, sizes) for name, shapes in methods.items()}
    if all(t.perturbed is not None for t in tiles):  # the same scores on the perturbed instances only
        for name, shapes in methods.items():
            result[name]["perturbed_only"] = score(_perturbed(shapes, tiles), _perturbed(truth, tiles), sizes)
    return {**result,
            "checkpoint": str(checkpoint), "model_version": predictor.model_version, "data": str(data),
            "kind": kind, "tiles": len(tiles), "passes": passes, "correct_seconds": round(seconds, 2),
            "confident_share": confident_share}


def _perturbed(per_tile: list[list], tiles: list[GeoTile]) -> list[list]:
    """Only the entries of instances whose annotation the generator moved."""
    return [[s for s, moved in zip(shapes, t.perturbed) if moved] for shapes, t in zip(per_tile, tiles)]


def evaluate(options: AutoCorrectEvalOptions) -> dict:
    """`eval autocorrect --data DIR`: the checkpoint (default: the bundled one for DIR's kind) on DIR."""
    checkpoint = options.checkpoint or _bundled_for(options.data)
    return evaluate_directory(checkpoint, options.data, options.device, options.passes, options.abstain)


def _bundled_for(data: Path) -> Path:
    meta = Path(data) / "meta.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: missing (expected `python -m core.synthetic geo` output)")
    return FAMILY.bundled_for(json.loads(meta.read_text())["kind"])


def make_benchmark(kind: str, spec: BenchmarkSpec, out: Path) -> None:
    """Seeded generated tiles of a project kind (railway or buildings), 256 px unless spec.size says."""
    from core.synthetic.geo import generate_geo

    generate_geo(kind=kind, tiles=spec.items, size=spec.size or 256, seed=spec.seed, out=out)
