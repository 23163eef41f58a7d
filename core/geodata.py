"""Reading and checking georeferenced rasters and vector annotations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rasterio.windows import Window
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from core.errors import InputError

RASTER_SUFFIXES = (".tif", ".tiff")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
GEOMETRY_TYPES = {
    "railway": {"LineString", "MultiLineString", "Polygon", "MultiPolygon"},
    "buildings": {"Polygon", "MultiPolygon"},
}


@dataclass(frozen=True)
class RasterMeta:
    """What the database records about a GeoTIFF tile."""

    path: Path
    crs_wkt: str
    width: int
    height: int
    band_count: int
    transform: tuple[float, float, float, float, float, float]

    @property
    def footprint(self) -> BaseGeometry:
        """The raster's extent as a polygon in its own CRS."""
        a, b, c, d, e, f = self.transform
        corners = [(c, f), (c + a * self.width, f + d * self.width),
                   (c + b * self.height, f + e * self.height),
                   (c + a * self.width + b * self.height, f + d * self.width + e * self.height)]
        xs, ys = zip(*corners)
        return box(min(xs), min(ys), max(xs), max(ys))


def find_rasters(path: str | Path) -> list[Path]:
    """The GeoTIFFs at `path`: the file itself, or every .tif/.tiff in the folder (sorted)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(path, "no such file or folder")
    found = sorted(p for p in path.rglob("*") if p.suffix.lower() in RASTER_SUFFIXES)
    if not found:
        raise InputError(path, "folder holds no .tif/.tiff rasters")
    return found


def read_raster_meta(path: str | Path, check_pixels: bool = True) -> RasterMeta:
    """Open and check one GeoTIFF; InputError if it is unreadable, truncated or not georeferenced."""
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputError(path, "raster has no CRS (not georeferenced)")
            if src.transform.is_identity:
                raise InputError(path, "raster has no geotransform (not georeferenced)")
            if src.crs.is_geographic:
                raise InputError(path, f"raster CRS {src.crs.to_string()} is geographic; "
                                       "a projected CRS (metres) is needed")
            if check_pixels:
                _read_every_block(src)
            return RasterMeta(path=path.resolve(), crs_wkt=src.crs.to_wkt(), width=src.width,
                              height=src.height, band_count=src.count,
                              transform=tuple(src.transform)[:6])
    except InputError:
        raise
    except (RasterioError, OSError) as exc:
        raise InputError(path, f"unreadable or truncated GeoTIFF ({exc})") from exc


def _read_every_block(src: rasterio.io.DatasetReader, rows_per_read: int = 512) -> None:
    # A truncated file opens fine; only reading its last blocks fails.
    for row in range(0, src.height, rows_per_read):
        window = Window(0, row, src.width, min(rows_per_read, src.height - row))
        src.read(window=window, out_dtype=np.uint8 if src.dtypes[0] == "uint8" else None)


def read_vectors(path: str | Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON / GeoPackage / Shapefile; InputError if unreadable, empty or without CRS."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise InputError(path, f"unsupported vector format {path.suffix!r}; "
                               "use GeoJSON, GeoPackage or Shapefile")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types for bad files
        raise InputError(path, f"cannot be read as vector data ({exc})") from exc
    if frame.crs is None:
        raise InputError(path, "vectors have no CRS; set one (e.g. a .prj file or a GeoJSON "
                               "crs member) so they can be placed on the rasters")
    if frame.empty:
        raise InputError(path, "file holds no features")
    frame = frame.reset_index(drop=True)
    frame["source_id"] = _source_ids(frame)
    return frame


def _source_ids(frame: gpd.GeoDataFrame) -> list[str]:
    for column in ("instance_id", "id", "fid", "osm_id"):
        if column in frame.columns and frame[column].notna().all():
            return [str(v) for v in frame[column]]
    return [str(i) for i in range(len(frame))]


def geometry_problem(geometry: BaseGeometry | None, kind: str) -> str | None:
    """Why a geometry cannot be an annotation of `kind`, or None if it can."""
    if geometry is None or geometry.is_empty:
        return "empty geometry"
    if geometry.geom_type not in GEOMETRY_TYPES[kind]:
        return f"{geometry.geom_type} is not a {kind} annotation " \
               f"(expected {', '.join(sorted(GEOMETRY_TYPES[kind]))})"
    if not geometry.is_valid:
        from shapely.validation import explain_validity

        return f"invalid geometry ({explain_validity(geometry)})"
    if not np.isfinite(np.asarray(geometry.bounds, dtype=float)).all():
        return "non-finite coordinates"
    return None
