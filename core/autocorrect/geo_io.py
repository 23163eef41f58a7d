"""Geo IO for AutoCorrect: GeoTIFF tiles and vector annotations <-> pixel-space shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from core.autocorrect.rasterize import Shape
from core.autocorrect.se2 import affine_matrix, pixel_to_map_motion


@dataclass
class GeoTile:
    """One raster read whole, and its annotations as pixel-space shapes."""

    name: str
    image: np.ndarray  # (bands, H, W) uint8
    transform: tuple[float, ...]  # affine a..f
    crs: str
    ids: list[int]
    shapes: list[Shape]
    truth: list[Shape] | None = None
    perturbed: list[bool] | None = None  # the generator's `noisy` flag per instance, when present
    verified: list[bool] | None = None  # the `verified` property: a person confirmed the geometry


def geometry_to_shape(geom: BaseGeometry, transform, half_width: float = 0.0) -> Shape:
    """A map-space geometry (raster CRS) as a pixel-space shape."""
    inverse = np.linalg.inv(affine_matrix(transform))
    pixel = affinity.affine_transform(geom, [inverse[0, 0], inverse[0, 1], inverse[1, 0],
                                             inverse[1, 1], inverse[0, 2], inverse[1, 2]])
    if isinstance(pixel, Polygon | MultiPolygon):
        polys = list(pixel.geoms) if isinstance(pixel, MultiPolygon) else [pixel]
        rings = [np.asarray(r.coords)[:-1, :2] for p in polys for r in [p.exterior, *p.interiors]]
        return Shape(tuple(rings), True)
    if isinstance(pixel, LineString | MultiLineString):
        lines = list(pixel.geoms) if isinstance(pixel, MultiLineString) else [pixel]
        return Shape(tuple(np.asarray(l.coords)[:, :2] for l in lines), False, half_width)
    raise ValueError(f"AutoCorrect handles (multi)polygons and (multi)lines, not {pixel.geom_type}")


def move_geometry(geom: BaseGeometry, matrix_px: np.ndarray, transform) -> BaseGeometry:
    """A map-space geometry moved by a pixel-space correction, exactly (A m A^-1)."""
    m = pixel_to_map_motion(matrix_px, transform)
    return affinity.affine_transform(geom, [m[0, 0], m[0, 1], m[1, 0], m[1, 1], m[0, 2], m[1, 2]])


def read_image(path: str | Path) -> np.ndarray:
    """(bands, H, W) uint8 image of a GeoTIFF (1 or 3+ bands)."""
    try:
        with rasterio.open(path) as src:
            image = src.read()
    except rasterio.errors.RasterioIOError as error:
        raise ValueError(f"{path}: cannot read the raster ({error})") from error
    if image.dtype != np.uint8:
        lo, hi = np.percentile(image, [1, 99])
        image = np.clip((image - lo) / max(hi - lo, 1e-9) * 255, 0, 255).astype(np.uint8)
    return image


def half_width_px(kind: str, track_width_m: float, transform) -> float:
    """Mask half-width in pixels: railway centrelines are buffered to the track width."""
    return 0.0 if kind == "buildings" else track_width_m / 2 / abs(float(transform[0]))


def load_generated(root: str | Path, track_width_m: float = 4.0) -> tuple[str, list[GeoTile]]:
    """(kind, tiles) of a directory written by `python -m core.synthetic geo`."""
    root = Path(root)
    for needed in ("meta.json", "annotations.geojson", "rasters"):
        if not (root / needed).exists():
            raise FileNotFoundError(f"{root / needed}: missing (expected `python -m core.synthetic geo` output)")
    kind = json.loads((root / "meta.json").read_text())["kind"]
    noisy = gpd.read_file(root / "annotations.geojson")
    truth = gpd.read_file(root / "truth.geojson") if (root / "truth.geojson").exists() else None
    tiles = []
    for name, rows in noisy.groupby("tile", sort=True):
        with rasterio.open(root / "rasters" / name) as src:
            transform, crs = tuple(src.transform)[:6], src.crs.to_wkt()
        image = read_image(root / "rasters" / name)
        rows = rows.sort_values("instance_id").to_crs(crs)
        hw = half_width_px(kind, track_width_m, transform)
        ids = [int(v) for v in rows["instance_id"]]
        shapes = [geometry_to_shape(g, transform, hw) for g in rows.geometry]
        true_shapes = None
        if truth is not None:
            t = truth[truth["tile"] == name].set_index("instance_id").loc[ids].to_crs(crs)
            true_shapes = [geometry_to_shape(g, transform, hw) for g in t.geometry]
        flags = [bool(v) for v in rows["noisy"]] if "noisy" in rows else None
        verified = [v is True or v == 1 for v in rows["verified"]] if "verified" in rows else None
        tiles.append(GeoTile(name, image, transform, crs, ids, shapes, true_shapes, flags, verified))
    return kind, tiles
