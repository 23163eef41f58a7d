"""Editing geometries on the review map: the selected shape is moved and rotated by its handles, its
vertices dragged, added (drag a midpoint) or deleted (click a vertex) with leaflet-draw (vendored),
snapping to other shapes' vertices; missing buildings or tracks are drawn. Shapes travel in the map's
pixel frame (x = column, y = -row) and are saved in the raster's CRS."""

from __future__ import annotations

from dataclasses import dataclass

import folium
import numpy as np
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Draw
from folium.template import Template
from shapely import affinity
from shapely.geometry import shape

from core.autocorrect.se2 import affine_matrix
from ui.geo_map import pixel_frame, to_pixels
from ui.maps import static_url

EDIT_LAYER = "Edit shape"
DRAW_TOOL = {"buildings": "polygon", "railway": "polyline"}
MOVED_PX = 0.05  # a vertex moved less than this (px) is not an edit (the map rounds coordinates)
SNAP_REACH = 3.0  # other shapes' vertices within this many sizes of the selected shape are snap targets


class ShapeHandles(JSCSSMixin, MacroElement):
    """Move and rotate handles on the edit layer's shape, and vertex snapping (app/static/map_tools)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        ShapeHandles.attach({{ this._parent.get_name() }}, {{ this.layer.get_name() }},
                            {snapTo: {{ this.snap_to|tojson }}});
        {% endmacro %}""")
    default_js = [("shape_handles_js", static_url("map_tools/shape_handles.js"))]
    default_css = [("shape_handles_css", static_url("map_tools/shape_handles.css"))]

    def __init__(self, layer: folium.GeoJson, snap_to: list[list[float]]) -> None:
        super().__init__()
        self._name = "ShapeHandles"
        self.layer, self.snap_to = layer, snap_to


@dataclass(frozen=True)
class MapEdits:
    """What the annotator changed on the map: the selected instance's new shape and newly drawn shapes,
    as raster-CRS WKT."""

    reshaped: str | None
    drawn: tuple[str, ...]


def add_editor(m: folium.Map, kind: str, instance_id: int | None, wkt: str | None, transform,
               others: list[str] = ()) -> None:
    """Make the selected shape (raster-CRS WKT) editable on the map, snapping to the `others` near it."""
    features = [] if wkt is None else [{"type": "Feature", "properties": {"instance_id": instance_id},
                                        "geometry": pixel_frame(wkt, transform)}]
    # control=False: the map's layer control is rendered before this layer exists; it stays always on
    layer = folium.GeoJson({"type": "FeatureCollection", "features": features}, name=EDIT_LAYER, control=False,
                           style_function=lambda _: {"color": "#00e5ff", "weight": 3, "fillOpacity": 0.1})
    layer.add_to(m)
    tools = dict.fromkeys(("polyline", "polygon", "rectangle", "circle", "marker", "circlemarker"), False)
    tools[DRAW_TOOL[kind]] = {"shapeOptions": {"color": "#00e5ff"}}
    Draw(feature_group=layer, draw_options=tools, edit_options={"edit": True, "remove": False},
         show_geometry_on_click=False).add_to(m)
    ShapeHandles(layer, snap_targets(wkt, others, transform)).add_to(m)


def snap_targets(wkt: str | None, others: list[str], transform) -> list[list[float]]:
    """Map-frame vertices of the `others` (raster-CRS WKT) within SNAP_REACH sizes of the shape `wkt`."""
    if wkt is None or not others:
        return []
    selected, shapes = shapely.from_wkt(wkt), shapely.from_wkt(others)  # vectorised: no loop per shape
    minx, miny, maxx, maxy = selected.bounds
    reach = SNAP_REACH * max(maxx - minx, maxy - miny)
    near = shapes[shapely.distance(shapes, selected) <= reach]
    if not near.size:
        return []
    cols, rows = to_pixels(shapely.get_coordinates(near), transform).T
    return np.unique(np.round(np.column_stack([cols, -rows]), 3), axis=0).tolist()


def map_edits(state: dict, instance_id: int | None, wkt: str | None, transform) -> MapEdits:
    """The edits in a map's returned state (streamlit-folium's all_drawings) against the shape shown."""
    reshaped, drawn = None, []
    for feature in state.get("all_drawings") or []:
        geometry = shape(feature["geometry"])
        if (feature.get("properties") or {}).get("instance_id") == instance_id and wkt is not None:
            shown = shape(pixel_frame(wkt, transform))
            if not geometry.equals_exact(shown, MOVED_PX):
                reshaped = from_pixel_frame(geometry, transform)
        elif geometry.geom_type in ("Polygon", "LineString"):
            drawn.append(from_pixel_frame(geometry, transform))
    return MapEdits(reshaped, tuple(drawn))


def from_pixel_frame(geometry, transform) -> str:
    """A map-frame geometry (x = column, y = -row) as raster-CRS WKT: the inverse of pixel_frame()."""
    forward = affine_matrix(transform)
    a, b, c = forward[0]
    d, e, f = forward[1]
    # x = a*col + b*row + c with row = -y
    return shapely.to_wkt(affinity.affine_transform(geometry, [a, -b, d, -e, c, f]), rounding_precision=-1)

