"""Geo IO for AutoCorrect: GeoTIFF tiles and vector annotations <-> pixel-space shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from core.autocorrect.raster import stretch_limits
from core.autocorrect.rasterize import Shape
from core.autocorrect.se2 import affine_matrix, pixel_to_map_motion


@dataclass
class GeoTile:
    """One raster read whole, and its annotations as pixel-space shapes."""

    name: str
    image: np.ndarray | None  # (bands, H, W) uint8; None when only the labels were loaded
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
    """(bands, H, W) uint8 image of a whole GeoTIFF (training sets; prediction reads windows, raster.py).

    Non-8-bit imagery is stretched between the limits raster.RasterWindows uses, so training and
    prediction see the same values.
    """
    try:
        with rasterio.open(path) as src:
            image, limits = src.read(), stretch_limits(src)
    except rasterio.errors.RasterioIOError as error:
        raise ValueError(f"{path}: cannot read the raster ({error})") from error
    if limits is not None:
        lo, hi = limits
        image = np.clip((image - lo) / max(hi - lo, 1e-9) * 255, 0, 255).astype(np.uint8)
    return image


def half_width_px(kind: str, track_width_m: float, transform) -> float:
    """Mask half-width in pixels: railway centrelines are buffered to the track width."""
    return 0.0 if kind == "buildings" else track_width_m / 2 / abs(float(transform[0]))


def load_generated(root: str | Path, track_width_m: float = 4.0, with_truth: bool = True,
                   with_images: bool = True) -> tuple[str, list[GeoTile]]:
    """(kind, tiles) of a directory written by `python -m core.synthetic geo` (truth.geojson left unread
    unless `with_truth`; rasters left unread, `image` None, unless `with_images`)."""
    root = Path(root)
    for needed in ("meta.json", "annotations.geojson", "rasters"):
        if not (root / needed).exists():
            raise FileNotFoundError(f"{root / needed}: missing (expected `python -m core.synthetic geo` output)")
    kind = json.loads((root / "meta.json").read_text())["kind"]
    noisy = gpd.read_file(root / "annotations.geojson")
    truth = gpd.read_file(root / "truth.geojson") if with_truth and (root / "truth.geojson").exists() else None
    tiles = []
    for name, rows in noisy.groupby("tile", sort=True):
        with rasterio.open(root / "rasters" / name) as src:
            transform, crs = tuple(src.transform)[:6], src.crs.to_wkt()
        image = read_image(root / "rasters" / name) if with_images else None
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


def raster_gsd(transform) -> float:
    """Ground sample distance (m/px, or CRS units) of a raster affine (a, b, c, d, e, f)."""
    a, b, _, d, e, _ = (float(v) for v in list(transform)[:6])
    return float(np.sqrt(abs(a * e - b * d)))


def model_scale(transform, gsd_m: float | None) -> float:
    """Model px per raster px: the raster resampled to the model's GSD (1 when the model has none)."""
    return 1.0 if not gsd_m else raster_gsd(transform) / gsd_m


def scaled(shape: Shape, scale: float) -> Shape:
    """A raster-px shape in model px (line widths scaled too)."""
    return Shape(tuple(p * scale for p in shape.parts), shape.closed, shape.half_width * scale)


def to_raster_motion(matrix_model: np.ndarray, scale: float) -> np.ndarray:
    """A model-px correction as the same motion in raster px: S^-1 m S with S = diag(s, s, 1)."""
    s = np.diag([scale, scale, 1.0])
    return np.linalg.inv(s) @ matrix_model @ s


def at_model_gsd(tiles: list[GeoTile], gsd_m: float | None) -> list[GeoTile]:
    """Tiles read whole (training sets) resampled to the model's GSD, their shapes in model px."""
    import torch

    out = []
    for tile in tiles:
        scale = model_scale(tile.transform, gsd_m)
        if abs(scale - 1.0) < 1e-6:
            out.append(tile)
            continue
        image = torch.from_numpy(tile.image).float()[None]
        size = (int(tile.image.shape[1] * scale), int(tile.image.shape[2] * scale))
        image = torch.nn.functional.interpolate(image, size=size, mode="bilinear", antialias=scale < 1,
                                                align_corners=False)[0].round().clamp(0, 255).byte().numpy()
        truth = None if tile.truth is None else [scaled(s, scale) for s in tile.truth]
        out.append(replace(tile, image=image, shapes=[scaled(s, scale) for s in tile.shapes], truth=truth))
    return out
