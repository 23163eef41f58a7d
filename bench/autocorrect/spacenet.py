"""AutoCorrect on the real SpaceNet Atlanta tile shipped in solaris 0.4.0 (900 x 900 px, 0.5 m, 43 footprints).

Each true footprint is shifted by up to --noise-px in x and y and turned by up to --noise-deg about its
centroid (uniform, seeded). Scores are PCK@1..16 in raster px against the true footprints, for the
noisy input, the model without abstention, and the model with the confidence threshold the
self-check calibrated on the same labels (the project's own data, no truth). `--truth-input` runs the
same on the true footprints. Regions: west (centroid column < 450, the only half tuned on), east, all.

    python bench/autocorrect/spacenet.py --checkpoint training/checkpoints/autocorrect-buildings.pt --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio

from core.autocorrect.geo_io import geometry_to_shape, model_scale, scaled, to_raster_motion
from core.autocorrect.memory_map import TileInput
from core.autocorrect.metrics import pck
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.raster import RasterWindows
from core.autocorrect.se2 import se2_matrix
from core.config import get_settings
from core.samples import SPACENET_ATLANTA, fetch

WEST_COLUMN = 450
K = tuple(range(1, 17))


def load_tile(root: Path) -> tuple[Path, list, tuple]:
    """(raster path, true footprints as raster-px shapes, raster affine)."""
    raster = root / "solaris/data/sample_geotiff.tif"
    with rasterio.open(raster) as src:
        transform, crs = tuple(src.transform)[:6], src.crs
    frame = gpd.read_file(root / "solaris/data/geotiff_labels.geojson").to_crs(crs)
    return raster, [geometry_to_shape(g, transform) for g in frame.geometry], transform


def noisy(shapes: list, shift_px: float, rot_deg: float, seed: int) -> list:
    """Each shape turned about its centroid and shifted, uniformly within the bounds."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        dx, dy = rng.uniform(-shift_px, shift_px, 2)
        theta = np.radians(rng.uniform(-rot_deg, rot_deg))
        out.append(shape.moved(se2_matrix(dx, dy, theta, tuple(shape.centroid()))))
    return out


def regions(truth: list) -> dict[str, list[int]]:
    """Instance indices of the west half, the east half and the whole tile."""
    west = [i for i, s in enumerate(truth) if s.centroid()[0] < WEST_COLUMN]
    return {"west": west, "east": [i for i in range(len(truth)) if i not in west], "all": list(range(len(truth)))}


def scores(shapes: list, truth: list, parts: dict[str, list[int]]) -> dict:
    """PCK@k (raster px) and mean vertex error per region."""
    out = {}
    for name, index in parts.items():
        errors = np.concatenate([np.hypot(*(shapes[i].vertices() - truth[i].vertices()).T) for i in index])
        out[name] = {"pck": pck(errors, K), "mean_error_px": float(errors.mean()), "instances": len(index)}
    return out


def moved(labels: list, result, scale: float) -> list:
    """Raster-px labels moved by a result's model-px corrections."""
    return [s.moved(to_raster_motion(m, scale)) for s, m in zip(labels, result.matrices)]


def run(predictor: AutoCorrectPredictor, raster: Path, transform, labels: list, truth: list, bound_m: float,
        rounds: int, seed: int) -> dict:
    """Self-check and calibrate on `labels`, then correct them with and without abstention."""
    scale = model_scale(transform, predictor.config.gsd_m)
    tile = TileInput(RasterWindows(raster, scale), [scaled(s, scale) for s in labels])
    bound_px = bound_m / (predictor.config.gsd_m or abs(transform[0]))
    started = time.perf_counter()
    check = predictor.self_check([tile], bound_px, rounds=rounds, seed=seed)
    raw = predictor.correct([tile], uncertainty=False, max_shift_px=bound_px)[0]
    sure = predictor.propose([tile], check.calibration, seed=seed)[0]
    seconds = time.perf_counter() - started
    parts = regions(truth)
    return {"input": scores(labels, truth, parts), "model": scores(moved(labels, raw, scale), truth, parts),
            "model_with_abstention": scores(moved(labels, sure, scale), truth, parts),
            "confident_share": float(np.mean(sure.confident)), "self_check": check.to_dict(),
            "seconds": round(seconds, 1)}


def write_project(raster: Path, transform, labels: list, out: Path) -> Path:
    """The noisy labels in the generator's layout (rasters/, annotations.geojson, meta.json), for `adapt`."""
    import shutil

    from shapely.geometry import Polygon

    from core.autocorrect.se2 import affine_matrix, apply_to_points

    (out / "rasters").mkdir(parents=True, exist_ok=True)
    shutil.copy(raster, out / "rasters" / "atlanta.tif")
    with rasterio.open(raster) as src:
        crs = src.crs
    a = affine_matrix(transform)
    rows = [{"tile": "atlanta.tif", "instance_id": i, "verified": False,
             "geometry": Polygon(apply_to_points(a, s.parts[0]), [apply_to_points(a, r) for r in s.parts[1:]])}
            for i, s in enumerate(labels)]
    gpd.GeoDataFrame(rows, crs=crs).to_crs("EPSG:4326").to_file(out / "annotations.geojson", driver="GeoJSON")
    (out / "meta.json").write_text(json.dumps({"kind": "buildings", "source": "SpaceNet Atlanta, noisy labels"}))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--noise-px", type=float, default=10.0)
    parser.add_argument("--noise-deg", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise")
    parser.add_argument("--bound-m", type=float, default=None,
                        help="the project's expected misalignment (default: the noise bound, in metres)")
    parser.add_argument("--rounds", type=int, default=4, help="self-check rounds (perturbed copies per label)")
    parser.add_argument("--truth-input", action="store_true", help="also run on the true footprints as input")
    parser.add_argument("--write-project", type=Path, help="only write the noisy labels as an adapt folder here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    raster, truth, transform = load_tile(fetch(SPACENET_ATLANTA, get_settings().cache_dir / "samples"))
    if args.write_project:
        write_project(raster, transform, noisy(truth, args.noise_px, args.noise_deg, args.seed),
                      args.write_project)
        print(args.write_project)
        return 0
    predictor = AutoCorrectPredictor.from_checkpoint(args.checkpoint, "cpu")
    bound_m = args.bound_m or args.noise_px * abs(transform[0])
    report = {"checkpoint": str(args.checkpoint), "model_version": predictor.model_version,
              "noise": {"px": args.noise_px, "deg": args.noise_deg, "seed": args.seed}, "bound_m": bound_m,
              "noisy": run(predictor, raster, transform, noisy(truth, args.noise_px, args.noise_deg, args.seed),
                           truth, bound_m, args.rounds, args.seed)}
    if args.truth_input:
        report["truth_input"] = run(predictor, raster, transform, truth, truth, bound_m, args.rounds, args.seed)
    if args.json:
        print(json.dumps(report))
    else:
        for case in ("noisy", "truth_input"):
            if case in report:
                for method in ("input", "model", "model_with_abstention"):
                    row = report[case][method]["all"]["pck"]
                    print(f"{case:12s} {method:22s} " + " ".join(f"{row[str(k)]:.2f}" for k in (1, 2, 3, 5, 8, 10)))
                print(f"{case:12s} confident share {report[case]['confident_share']:.2f}, "
                      f"self-check score {report[case]['self_check']['score']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
