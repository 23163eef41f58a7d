"""Map editing: shapes go to the map's pixel frame and back to the raster CRS exactly; edits are told apart."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))  # the app's own import root

from ui.geo_edit import from_pixel_frame, map_edits, snap_targets  # noqa: E402
from ui.geo_map import pixel_frame  # noqa: E402

SKEWED = (0.5, 0.1, 500000.0, 0.05, -0.5, 3700000.0)  # a rotated 0.5 m raster in UTM
SQUARE = "POLYGON ((500010 3699990, 500020 3699990, 500020 3699980, 500010 3699980, 500010 3699990))"


@pytest.mark.parametrize("transform", [SKEWED, (1.0, 0.0, 0.0, 0.0, -1.0, 0.0)])
def test_pixel_frame_and_back_is_exact(transform):
    for wkt in (SQUARE, "LINESTRING (500000 3700000, 500030 3699950)"):
        back = from_pixel_frame(shape(pixel_frame(wkt, transform)), transform)
        assert shapely.from_wkt(back).equals_exact(shapely.from_wkt(wkt), 1e-6)


def test_map_edits_reports_a_moved_vertex_and_a_drawn_shape_and_nothing_for_an_untouched_map():
    shown = pixel_frame(SQUARE, SKEWED)
    untouched = {"all_drawings": [{"type": "Feature", "properties": {"instance_id": 4}, "geometry": shown}]}
    assert map_edits(untouched, 4, SQUARE, SKEWED).reshaped is None
    assert map_edits({}, 4, SQUARE, SKEWED) == map_edits({"all_drawings": None}, 4, SQUARE, SKEWED)

    ring = [list(p) for p in shown["coordinates"][0]]
    ring[0] = ring[-1] = [ring[0][0] - 3.0, ring[0][1] + 2.0]  # the first vertex dragged 3 px left, 2 px up
    drawn = {"type": "Polygon", "coordinates": [[[0, 0], [5, 0], [5, -5], [0, 0]]]}
    state = {"all_drawings": [{"properties": {"instance_id": 4}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
                              {"properties": {}, "geometry": drawn}]}
    edits = map_edits(state, 4, SQUARE, SKEWED)
    moved = shapely.get_coordinates(shapely.from_wkt(edits.reshaped))[0]
    a, b, c, d, e, f = SKEWED
    col, row = -3.0, -2.0  # in px, relative to the original first vertex
    assert moved == pytest.approx([500010 + a * col + b * row, 3699990 + d * col + e * row])
    assert len(edits.drawn) == 1
    assert shapely.from_wkt(edits.drawn[0]).equals_exact(
        shapely.from_wkt(from_pixel_frame(shape(drawn), SKEWED)), 1e-9)


def test_snap_targets_are_the_distinct_vertices_of_shapes_near_the_selected_one_in_the_map_frame():
    near = "POLYGON ((500025 3699990, 500030 3699990, 500030 3699985, 500025 3699990))"  # 5 m east of it
    far = "POLYGON ((500400 3699600, 500405 3699600, 500405 3699595, 500400 3699600))"
    targets = snap_targets(SQUARE, [near, far], SKEWED)
    expected = shapely.get_coordinates(shape(pixel_frame(near, SKEWED)))[:3]
    assert sorted(map(tuple, targets)) == sorted(map(tuple, expected.round(3).tolist()))  # the closing vertex once
    assert snap_targets(None, [near], SKEWED) == [] and snap_targets(SQUARE, [], SKEWED) == []
