"""Merge generated geo directories (e.g. 512 px and 256 px tiles) into one training directory.

Usage: python bench/autocorrect/merge_tiles.py DIR [DIR ...] --out MERGED
Rasters are copied with the source's index as a prefix; annotations and truth follow them.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd


def merge(sources: list[Path], out: Path) -> Path:
    """One directory with every source's rasters, annotations.geojson, truth.geojson and a meta.json."""
    metas = [json.loads((s / "meta.json").read_text()) for s in sources]
    if len({m["kind"] for m in metas}) != 1:
        raise ValueError("all sources must hold the same kind of annotation")
    (out / "rasters").mkdir(parents=True, exist_ok=True)
    frames: dict[str, list] = {"annotations": [], "truth": []}
    for index, source in enumerate(sources):
        for raster in sorted((source / "rasters").glob("*.tif")):
            shutil.copy(raster, out / "rasters" / f"s{index}_{raster.name}")
        for name in frames:
            frame = gpd.read_file(source / f"{name}.geojson")
            frame["tile"] = f"s{index}_" + frame["tile"]
            frames[name].append(frame)
    for name, parts in frames.items():
        gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs).to_file(
            out / f"{name}.geojson", driver="GeoJSON")
    meta = {"kind": metas[0]["kind"], "size": max(m["size"] for m in metas), "merged_from": [str(s) for s in sources],
            "tiles": sum(m["tiles"] for m in metas), "instances": sum(m["instances"] for m in metas)}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(merge(args.sources, args.out))


if __name__ == "__main__":
    main()
