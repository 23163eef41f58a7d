"""The geometry review map: real pixels around the selected instance over a decimated view of the tile,
annotations drawn in the raster's pixel frame. Nothing reads a large raster whole."""

from __future__ import annotations

import base64
import io

import folium
import numpy as np
import shapely
import streamlit as st
from PIL import Image
from shapely import affinity
from shapely.geometry import mapping, shape

from core.autocorrect.raster import read_rgb
from core.autocorrect.se2 import affine_matrix
from ui.maps import local_folium_map

MAX_SIDE = 1024  # px a side of the tile overview and of the chip around the selected instance
CHIP_MARGIN = 2.0  # the chip shows this many instance sizes of surroundings on each side
MIN_CHIP = 256  # px a side at least
JPEG_QUALITY = 85  # of the imagery sent to the map
STYLES = {  # layer -> (colour, weight)
    "Noisy annotation": ("#e53935", 2),
    "Model correction": ("#fdd835", 2),
    "Accepted": ("#43a047", 3),
    "Preview": ("#00e5ff", 3),
}


@st.cache_data(max_entries=64, show_spinner=False)
def view_image_url(path: str, window: tuple[int, int, int, int] | None = None) -> str:
    """A raster px window (default: the whole tile), at most MAX_SIDE a side, as a JPEG data URL (quality
    JPEG_QUALITY), read and encoded once per tile and window: about a tenth of folium's PNG."""
    buffer = io.BytesIO()
    Image.fromarray(read_rgb(path, window, MAX_SIDE)).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def chip_window(wkts: list[str], transform, width: int, height: int) -> tuple[int, int, int, int]:
    """(col0, row0, col1, row1) raster px around geometries: CHIP_MARGIN of their size each side, at least
    MIN_CHIP and at most MAX_SIDE px a side (full resolution), inside the tile."""
    points = np.concatenate([np.asarray(shapely.from_wkt(w).envelope.exterior.coords) for w in wkts])
    cols, rows = to_pixels(points, transform).T
    extent = max(cols.max() - cols.min(), rows.max() - rows.min(), 1.0)
    side = int(min(max(extent * (1 + 2 * CHIP_MARGIN), MIN_CHIP), MAX_SIDE, max(width, height)))
    col0 = int(np.clip((cols.min() + cols.max()) / 2 - side / 2, 0, max(width - side, 0)))
    row0 = int(np.clip((rows.min() + rows.max()) / 2 - side / 2, 0, max(height - side, 0)))
    return col0, row0, min(col0 + side, width), min(row0 + side, height)


def to_pixels(points: np.ndarray, transform) -> np.ndarray:
    """(n, 2) raster-CRS points as (n, 2) (column, row) px of the raster with that affine transform."""
    inverse = np.linalg.inv(affine_matrix(transform))
    return points @ inverse[:2, :2].T + inverse[:2, 2]


def pixel_frame(wkt: str, transform) -> dict:
    """GeoJSON of a raster-CRS geometry in the map's frame: x = column, y = -row (Leaflet 'Simple')."""
    inverse = np.linalg.inv(affine_matrix(transform))
    geometry = affinity.affine_transform(shapely.from_wkt(wkt), [inverse[0, 0], inverse[0, 1], -inverse[1, 0],
                                                                 -inverse[1, 1], inverse[0, 2], -inverse[1, 2]])
    return mapping(geometry)


def review_map(path: str, width: int, height: int, transform, layers: dict[str, list[tuple[int, str]]],
               selected: int | None) -> folium.Map:
    """The tile with one toggleable layer per entry of `layers` ({name: [(instance id, wkt)]}), zoomed to a
    full-resolution chip around the selected instance; only instances near the chip are drawn."""
    m = local_folium_map(crs="Simple", location=[-height / 2, width / 2], zoom_start=0, min_zoom=-3,
                         max_zoom=4, zoom_snap=0.25)
    whole = [[-height, 0], [0, width]]
    folium.raster_layers.ImageOverlay(view_image_url(path), bounds=whole, name="Tile overview").add_to(m)
    chosen = [wkt for features in layers.values() for i, wkt in features if i == selected]
    window = chip_window(chosen, transform, width, height) if chosen else (0, 0, width, height)
    col0, row0, col1, row1 = window
    chip = [[-row1, col0], [-row0, col1]]
    if max(width, height) > MAX_SIDE:  # else the overview is the full resolution already
        folium.raster_layers.ImageOverlay(view_image_url(path, window), bounds=chip, name="Imagery (full resolution)"
                                          ).add_to(m)
    near = shapely.box(col0 - (col1 - col0), -row1 - (row1 - row0), col1 + (col1 - col0), -row0 + (row1 - row0))
    for name, features in layers.items():
        colour, weight = STYLES[name]
        collection = []  # one GeoJson a layer: far less HTML to render and send than one per instance
        for instance_id, wkt in features:
            frame = pixel_frame(wkt, transform)
            if instance_id != selected and not near.intersects(shape(frame)):
                continue
            collection.append({"type": "Feature", "geometry": frame, "properties": {
                "label": f"#{instance_id} ({name.lower()})", "bold": instance_id == selected}})
        group = folium.FeatureGroup(name=name)
        if collection:
            folium.GeoJson({"type": "FeatureCollection", "features": collection},
                           tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
                           style_function=lambda feature, c=colour, w=weight: {
                               "color": c, "weight": w + 2 if feature["properties"]["bold"] else w,
                               "fillOpacity": 0.15,
                               "dashArray": None if feature["properties"]["bold"] else "4 3"}).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds(chip)
    return m
