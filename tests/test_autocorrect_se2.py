"""SE(2) transforms: composition, inverse, pixel <-> map round trip, masks and geometries."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from shapely.geometry import LineString, Polygon

from core.autocorrect.geo_io import geometry_to_shape, move_geometry
from core.autocorrect.rasterize import Shape, render
from core.autocorrect.se2 import (apply_to_points, compose, invert, invert_batch, matrices_to_params,
                                  params_to_matrices, se2_matrix, se2_params, shift_frame, warp)
from core.synthetic.geo import Motion, rigid_motion

TRANSFORM = (0.5, 0.0, 530000.0, 0.0, -0.5, 180000.0)  # 0.5 m/px, north up


def test_rotation_about_centre_keeps_the_centre_and_matches_the_generator():
    m = se2_matrix(3.0, -2.0, np.radians(4.0), centre=(10.0, 20.0))
    assert np.allclose(apply_to_points(m, [[10.0, 20.0]]), [[13.0, 18.0]])
    line = LineString([(0, 0), (40, 10), (60, 50)])
    moved = rigid_motion(line, Motion(3.0, -2.0, 4.0))
    c = line.centroid
    ours = apply_to_points(se2_matrix(3.0, -2.0, np.radians(4.0), (c.x, c.y)), np.asarray(line.coords))
    assert np.allclose(ours, np.asarray(moved.coords))


def test_quarter_turn_is_counter_clockwise_on_the_image():
    # y runs down the image: a point right of the centre goes to above it (smaller y)
    assert np.allclose(apply_to_points(se2_matrix(0, 0, np.pi / 2), [[1.0, 0.0]]), [[0.0, -1.0]])


def test_compose_and_invert():
    a = se2_matrix(1.0, 2.0, 0.3, (5, 5))
    b = se2_matrix(-4.0, 0.5, -0.1, (0, 3))
    pts = np.array([[1.0, 2.0], [7.0, -3.0]])
    assert np.allclose(apply_to_points(compose(a, b), pts), apply_to_points(a, apply_to_points(b, pts)))
    assert np.allclose(compose(a, invert(a)), np.eye(3))
    assert np.allclose(se2_params(a, (5, 5)), (1.0, 2.0, 0.3))


def test_batched_matrices_round_trip():
    params = torch.tensor([[0.1, -0.2, 0.05], [0.0, 0.3, -0.08]])
    m = params_to_matrices(params)
    assert torch.allclose(matrices_to_params(m), params, atol=1e-6)
    assert torch.allclose(m @ invert_batch(m), torch.eye(3).expand(2, 3, 3), atol=1e-6)
    # a pure shift conjugated by a frame shift stays the same shift
    shift = params_to_matrices(torch.tensor([[0.2, 0.1, 0.0]]))
    assert torch.allclose(shift_frame(shift, torch.tensor([[0.5, -0.5]])), shift, atol=1e-6)


def test_pixel_correction_is_written_back_exactly_in_map_space():
    polygon_px = Polygon([(10, 10), (30, 10), (30, 22), (10, 22)])
    a, b, c, d, e, f = TRANSFORM
    polygon_map = Polygon([(a * x + c, e * y + f) for x, y in polygon_px.exterior.coords])
    shape = geometry_to_shape(polygon_map, TRANSFORM)
    assert np.allclose(shape.parts[0], np.asarray(polygon_px.exterior.coords)[:-1])
    m = se2_matrix(4.0, -6.0, np.radians(3.0), tuple(shape.centroid()))
    moved_map = move_geometry(polygon_map, m, TRANSFORM)
    back = geometry_to_shape(moved_map, TRANSFORM)
    assert np.allclose(back.parts[0], apply_to_points(m, shape.parts[0]), atol=1e-6)
    # 4 px right and 6 px up the image is 2 m east and 3 m north
    assert moved_map.centroid.x - polygon_map.centroid.x == pytest.approx(2.0, abs=1e-6)
    assert moved_map.centroid.y - polygon_map.centroid.y == pytest.approx(3.0, abs=1e-6)


def test_warping_a_mask_equals_rendering_the_moved_shape():
    square = Shape((np.array([[24.0, 24.0], [40.0, 24.0], [40.0, 40.0], [24.0, 40.0]]),), True)
    mask = render(square, (0, 0), (64, 64))
    shift_px = se2_matrix(8.0, -4.0, 0.0)
    shift_n = params_to_matrices(torch.tensor([[8.0 / 32, -4.0 / 32, 0.0]]))  # half window = 32 px
    warped = warp(mask[None, None], shift_n)[0, 0]
    assert torch.equal(warped > 0.5, render(square.moved(shift_px), (0, 0), (64, 64)) > 0.5)
