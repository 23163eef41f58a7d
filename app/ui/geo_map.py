"""The geometry review map: the GeoTIFF tile as an inline image, annotations drawn in its pixel frame."""

from __future__ import annotations

import folium
import numpy as np
import shapely
import streamlit as st
from shapely import affinity
from shapely.geometry import mapping

from core.autocorrect.geo_io import read_image
from core.autocorrect.se2 import affine_matrix
from ui.maps import local_folium_map

MAX_SIDE = 1024  # larger tiles are shown subsampled
STYLES = {  # layer -> (colour, weight)
    "Noisy annotation": ("#e53935", 2),
    "Model correction": ("#fdd835", 2),
    "Accepted": ("#43a047", 3),
    "Preview": ("#00e5ff", 3),
}


@st.cache_data(max_entries=16, show_spinner=False)
def tile_rgb(path: str) -> np.ndarray:
    """(h, w, 3) uint8 view of a GeoTIFF, subsampled to at most MAX_SIDE a side."""
    image = read_image(path)
    image = np.repeat(image, 3, 0) if image.shape[0] == 1 else image[:3]
    step = max(1, int(np.ceil(max(image.shape[1:]) / MAX_SIDE)))
    return np.ascontiguousarray(np.moveaxis(image[:, ::step, ::step], 0, -1))


def pixel_frame(wkt: str, transform) -> dict:
    """GeoJSON of a raster-CRS geometry in the map's frame: x = column, y = -row (Leaflet 'Simple')."""
    inverse = np.linalg.inv(affine_matrix(transform))
    geometry = affinity.affine_transform(shapely.from_wkt(wkt), [inverse[0, 0], inverse[0, 1], -inverse[1, 0],
                                                                 -inverse[1, 1], inverse[0, 2], -inverse[1, 2]])
    return mapping(geometry)


def review_map(path: str, width: int, height: int, transform, layers: dict[str, list[tuple[int, str]]],
               selected: int | None) -> folium.Map:
    """The tile with one toggleable layer per entry of `layers` ({name: [(instance id, wkt)]})."""
    m = local_folium_map(crs="Simple", location=[-height / 2, width / 2], zoom_start=0, min_zoom=-3,
                         max_zoom=4, zoom_snap=0.25)
    bounds = [[-height, 0], [0, width]]
    folium.raster_layers.ImageOverlay(tile_rgb(path), bounds=bounds, name="Imagery").add_to(m)
    for name, features in layers.items():
        colour, weight = STYLES[name]
        group = folium.FeatureGroup(name=name)
        for instance_id, wkt in features:
            bold = instance_id == selected
            folium.GeoJson(pixel_frame(wkt, transform), tooltip=f"#{instance_id} ({name.lower()})",
                           style_function=lambda _, c=colour, w=weight, b=bold: {
                               "color": c, "weight": w + 2 if b else w, "fillOpacity": 0.15,
                               "dashArray": None if b else "4 3"}).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds(bounds)
    return m
