"""Image windows for the network: from an array in memory, or read on demand from a GeoTIFF at the model's GSD.

Windows are addressed in *model pixels*: a raster of ground sample distance g_r (m/px) seen by a
model trained at g_m is scaled by s = g_r / g_m, so raster pixel (x, y) is model pixel (s x, s y).
Nothing reads a raster whole: each window is one rasterio windowed read resampled to the window
size, so memory stays bounded by the batch of windows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import rasterio
import torch
from rasterio.enums import Resampling
from rasterio.env import set_gdal_config
from rasterio.windows import Window

from core.config import get_settings


STRETCH_PERCENTILES = (1.0, 99.0)  # contrast stretch of non-8-bit imagery, over the whole raster
OVERVIEW_PX = 1024  # the stretch limits are taken from a read decimated to at most this many px a side


def normalise(data: np.ndarray, valid: np.ndarray, limits: tuple[float, float] | None = None) -> torch.Tensor:
    """(bands, h, w) pixels of any dtype as (3, h, w) float in [-0.5, 0.5]; invalid pixels 0.

    uint8 imagery keeps its scale (/255, as the bundled models were trained); any other dtype is
    stretched between `limits` (the raster's percentiles, see stretch_limits; default: this
    window's). One band is replicated to three; bands past the third are dropped.
    """
    eight_bit = data.dtype == np.uint8
    data = data.astype(np.float32)
    if data.shape[0] < 3:
        data = np.repeat(data[:1], 3, axis=0)
    data = data[:3]
    if eight_bit:
        scaled = data / 255.0
    elif limits is not None or valid.any():
        lo, hi = limits if limits is not None else np.percentile(data[:, valid], STRETCH_PERCENTILES)
        scaled = np.clip((data - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    else:
        scaled = np.full_like(data, 0.5)
    out = scaled - 0.5
    out[:, ~valid] = 0.0
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))


def overview(src: rasterio.io.DatasetReader) -> tuple[np.ndarray, np.ndarray]:
    """(bands, h, w) pixels of a raster decimated (nearest) to at most OVERVIEW_PX a side, and their valid
    mask. A raster without internal overviews is read whole by GDAL for this (minutes at 20,000 px), so
    the result is kept in the cache folder, keyed by the file's path, size and modification time."""
    cached = get_settings().cache_dir / "overviews" / f"{_file_key(src)}.npz"
    if cached.is_file():
        with np.load(cached) as stored:
            return stored["data"], stored["valid"]
    step = max(1, int(np.ceil(max(src.width, src.height) / OVERVIEW_PX)))
    shape = (src.count, max(1, src.height // step), max(1, src.width // step))
    data = src.read(out_shape=shape, resampling=Resampling.nearest)
    valid = np.ones(shape[1:], dtype=bool) if src.nodata is None else np.any(data != src.nodata, axis=0)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part.npz")
        np.savez(partial, data=data, valid=valid)
        partial.replace(cached)
    except OSError:
        pass  # a read-only cache: computed again next time
    return data, valid


def stretch_limits(src: rasterio.io.DatasetReader) -> tuple[float, float] | None:
    """(low, high) percentiles of a non-8-bit raster's valid pixels, from its overview (None for uint8);
    kept in memory per file version, as every chip and window of a raster is stretched alike."""
    if src.dtypes[0] == "uint8":
        return None
    key = _file_key(src)
    if key not in _LIMITS:
        data, valid = overview(src)
        _LIMITS[key] = (0.0, 1.0) if not valid.any() else tuple(
            float(v) for v in np.percentile(data[:, valid].astype(np.float64), STRETCH_PERCENTILES))
    return _LIMITS[key]


_LIMITS: dict[str, tuple[float, float]] = {}


def _file_key(src: rasterio.io.DatasetReader) -> str:
    """Names one version of a raster file: its path, size and modification time."""
    stat = Path(src.name).stat()
    return hashlib.sha256(f"{Path(src.name).resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:24]


class RasterWindows:
    """Windows read from a GeoTIFF on demand, resampled by `scale` (model px per raster px)."""

    def __init__(self, path: str | Path, scale: float = 1.0) -> None:
        self.path, self.scale = Path(path), float(scale)
        # bounded memory: GDAL would otherwise cache up to 5 % of RAM in decompressed blocks
        set_gdal_config("GDAL_CACHEMAX", get_settings().gdal_cache_mb * 2**20)
        try:
            self._src = rasterio.open(self.path)
        except rasterio.errors.RasterioIOError as error:
            raise ValueError(f"{path}: cannot read the raster ({error})") from error
        self.size = (int(self._src.height * self.scale), int(self._src.width * self.scale))
        self.limits = stretch_limits(self._src)
        self._resampling = Resampling.nearest if self.scale == 1.0 else Resampling.bilinear

    def window(self, centre: tuple[int, int], size: int) -> torch.Tensor:
        """One windowed read of the part inside the raster (bilinear when resampling), normalised."""
        ox, oy = centre[0] - size // 2, centre[1] - size // 2  # on the pixel grid, as windows.window_origin
        height, width = self.size
        x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + size, width), min(oy + size, height)
        data = np.zeros((self._src.count, size, size), dtype=self._src.dtypes[0])
        valid = np.zeros((size, size), dtype=bool)
        if x0 < x1 and y0 < y1:
            source = Window(x0 / self.scale, y0 / self.scale, (x1 - x0) / self.scale, (y1 - y0) / self.scale)
            part = self._src.read(window=source, out_shape=(self._src.count, y1 - y0, x1 - x0),
                                  resampling=self._resampling)
            data[:, y0 - oy:y1 - oy, x0 - ox:x1 - ox] = part
            inside = np.ones(part.shape[1:], dtype=bool)
            if self._src.nodata is not None:
                inside = np.any(part != self._src.nodata, axis=0)
            valid[y0 - oy:y1 - oy, x0 - ox:x1 - ox] = inside
        return normalise(data, valid, self.limits)

    def close(self) -> None:
        """Release the file."""
        self._src.close()


def read_rgb(path: str | Path, window: tuple[int, int, int, int] | None = None, max_side: int = OVERVIEW_PX
             ) -> np.ndarray:
    """(h, w, 3) uint8 of a raster px window (col0, row0, col1, row1; default: the whole raster) for people
    to look at: one windowed read, decimated only if the window is over `max_side` px a side (the whole
    raster comes from its cached overview), stretched as the models see it; nodata mid-grey."""
    set_gdal_config("GDAL_CACHEMAX", get_settings().gdal_cache_mb * 2**20)
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as error:
        raise ValueError(f"{path}: cannot read the raster ({error})") from error
    with src:
        col0, row0, col1, row1 = window or (0, 0, src.width, src.height)
        col0, row0, col1, row1 = max(col0, 0), max(row0, 0), min(col1, src.width), min(row1, src.height)
        if col1 <= col0 or row1 <= row0:
            raise ValueError(f"{path}: window {window} lies outside the {src.width}x{src.height} px raster")
        step = max(1, int(np.ceil(max(col1 - col0, row1 - row0) / max_side)))
        if step > 1 and (col0, row0, col1, row1) == (0, 0, src.width, src.height) and max_side >= OVERVIEW_PX:
            data, valid = overview(src)
        else:
            shape = (src.count, max(1, (row1 - row0) // step), max(1, (col1 - col0) // step))
            data = src.read(window=Window(col0, row0, col1 - col0, row1 - row0), out_shape=shape,
                            resampling=Resampling.average if step > 1 else Resampling.nearest)
            valid = np.ones(shape[1:], dtype=bool) if src.nodata is None else np.any(data != src.nodata, axis=0)
        pixels = normalise(data, valid, stretch_limits(src)).numpy() + 0.5
    return np.ascontiguousarray(np.moveaxis(np.round(pixels * 255), 0, -1).astype(np.uint8))
