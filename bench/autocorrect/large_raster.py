"""Predicting a large GeoTIFF: time and peak memory of `predict autocorrect` on one 20,000 x 20,000 px raster.

The raster (3-band uint8, tiled, deflate) and its 2,000 noisy building footprints are generated block
by block, so making them needs little memory either. The project is imported into a fresh SQLite
database and predicted in a child process whose peak RSS the OS reports (ru_maxrss).

    python bench/autocorrect/large_raster.py --size 20000 --instances 2000 --workdir /tmp/large --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window
from shapely.geometry import box

from core.autocorrect.se2 import affine_matrix, apply_to_points

GSD = 0.3  # m/px: the bundled buildings model's
# the predict command in a child that reports its own peak resident memory (ru_maxrss, KiB on Linux)
PREDICT = """
import contextlib, io, json, resource
from training.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = main(["predict", "autocorrect", "--project", "large", "--json"])
assert status == 0, status
print(json.dumps({"proposals": json.loads(out.getvalue())["proposals"],
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""
BLOCK = 512


def generate(out: Path, size: int, instances: int, seed: int) -> tuple[Path, Path]:
    """The raster and the noisy annotations (GeoJSON in the raster's CRS)."""
    rng = np.random.default_rng(seed)
    per_row = int(np.ceil(np.sqrt(instances)))
    spacing = size / per_row
    centres = [((i % per_row + 0.5) * spacing + rng.uniform(-0.2, 0.2) * spacing,
                (i // per_row + 0.5) * spacing + rng.uniform(-0.2, 0.2) * spacing) for i in range(instances)]
    halves = rng.uniform(10, 25, (instances, 2))
    transform = from_origin(440000.0, 4480000.0, GSD, GSD)
    (out / "rasters").mkdir(parents=True, exist_ok=True)
    raster = out / "rasters" / "large.tif"
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 3, "dtype": "uint8",
               "crs": "EPSG:32630", "transform": transform, "tiled": True, "blockxsize": BLOCK,
               "blockysize": BLOCK, "compress": "deflate", "BIGTIFF": "YES"}
    grid = {}
    for n, (x, y) in enumerate(centres):
        grid.setdefault((int(x // BLOCK), int(y // BLOCK)), []).append(n)
    with rasterio.open(raster, "w", **profile) as dst:
        for by in range(0, size, BLOCK):
            for bx in range(0, size, BLOCK):
                h, w = min(BLOCK, size - by), min(BLOCK, size - bx)
                block = rng.integers(60, 110, (3, h, w), dtype=np.uint8)
                for gx in (bx // BLOCK - 1, bx // BLOCK, bx // BLOCK + 1):
                    for gy in (by // BLOCK - 1, by // BLOCK, by // BLOCK + 1):
                        for n in grid.get((gx, gy), []):
                            (cx, cy), (hx, hy) = centres[n], halves[n]
                            x0, x1 = int(max(cx - hx - bx, 0)), int(min(cx + hx - bx, w))
                            y0, y1 = int(max(cy - hy - by, 0)), int(min(cy + hy - by, h))
                            if x0 < x1 and y0 < y1:
                                block[:, y0:y1, x0:x1] = 200
                dst.write(block, window=Window(bx, by, w, h))
    pixel_to_map = affine_matrix(tuple(transform)[:6])
    shift = rng.uniform(-6, 6, (instances, 2))
    rows = [{"instance_id": n, "geometry": box(*apply_to_points(pixel_to_map, np.array(
        [[cx - hx + dx, cy + hy + dy], [cx + hx + dx, cy - hy + dy]])).ravel())}
            for n, ((cx, cy), (hx, hy), (dx, dy)) in enumerate(zip(centres, halves, shift))]
    annotations = out / "annotations.geojson"
    gpd.GeoDataFrame(rows, crs="EPSG:32630").to_file(annotations, driver="GeoJSON")
    return out / "rasters", annotations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATA_DIR": str(args.workdir / "var"), "SEED_DEMO": "0",
           "DATABASE_URL": f"sqlite:///{args.workdir / 'var' / 'large.db'}"}
    started = time.perf_counter()
    rasters, annotations = generate(args.workdir, args.size, args.instances, args.seed)
    made = time.perf_counter() - started
    python = [sys.executable, "-m"]  # init and import in their own processes, as a researcher would
    subprocess.run([*python, "annotation_db", "init"], env=env, check=True, capture_output=True)
    subprocess.run([*python, "annotation_db", "import-geo", "--project", "large", "--kind", "buildings",
                    "--rasters", str(rasters), "--annotations", str(annotations)], env=env, check=True,
                   capture_output=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PREDICT], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return done.returncode
    result = json.loads(done.stdout.strip().splitlines()[-1])
    report = {"raster_px": args.size, "instances": args.instances, "generate_seconds": round(made, 1),
              "predict_seconds": round(seconds, 1), "predict_peak_rss_mib": round(result["peak_kib"] / 1024, 1),
              "proposals": result["proposals"],
              "raster_file_mib": round((rasters / "large.tif").stat().st_size / 2**20, 1)}
    print(json.dumps(report) if args.json else report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
