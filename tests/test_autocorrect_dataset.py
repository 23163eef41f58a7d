"""Training samples: the memory map skips only masks that cannot reach the window; one or two views."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.autocorrect.dataset import TrainingTiles, tiles_from_arrays
from core.autocorrect.geo_io import load_generated
from core.autocorrect.rasterize import Shape
from core.synthetic.geo import generate_geo


@pytest.fixture(scope="module")
def buildings(tmp_path_factory):
    kind, tiles = load_generated(generate_geo(kind="buildings", tiles=1, size=256, seed=3,
                                              out=tmp_path_factory.mktemp("bld")))
    return TrainingTiles(tiles_from_arrays([t.image for t in tiles], [t.shapes for t in tiles]), 64, 10.0, 5.0)


def test_memory_map_equals_the_sum_over_all_masks(buildings, monkeypatch):
    assert len(buildings.items) >= 5
    touches, skipped = TrainingTiles._touches, []
    monkeypatch.setattr(TrainingTiles, "_touches",
                        lambda self, *a: touches(self, *a) or skipped.append(a) or False)
    fast = buildings.batch(np.random.default_rng(4), 6, views=2)
    assert skipped  # some masks were left out as too far away...
    monkeypatch.setattr(TrainingTiles, "_touches", lambda self, *args: True)  # sample every mask
    slow = buildings.batch(np.random.default_rng(4), 6, views=2)
    assert torch.equal(fast.x1, slow.x1) and torch.equal(fast.x2, slow.x2)
    assert fast.x1[:, 4].sum() > 0  # some neighbours do reach the windows


def test_one_view_for_j_s_two_for_j_c(buildings):
    one = buildings.batch(np.random.default_rng(0), 4, views=1)
    two = buildings.batch(np.random.default_rng(0), 4, views=2)
    assert one.x2 is None and one.labels is None and one.x1.shape == (4, 5, 64, 64)
    assert two.x2.shape == two.x1.shape and two.labels.shape == (4, 1, 64, 64)
    assert not one.clean.any()  # no `verified` property: every label is taken as noisy
    half = two.subset(slice(2, 4))
    assert torch.equal(half.x2, two.x2[2:]) and torch.equal(half.g1, two.g1[2:])


def _two_bars() -> TrainingTiles:
    """Two vertical bars on a blank 96 px tile; window 64, shifts up to 6 px, no turns."""
    bar = lambda x: Shape((np.array([[x, 30.0], [x + 4, 30.0], [x + 4, 60.0], [x, 60.0]]),), True)
    return TrainingTiles(tiles_from_arrays([np.zeros((3, 96, 96), np.uint8)], [[bar(30.0), bar(50.0)]]),
                         64, 6.0, 0.0)


def _memory_centre_x(view: dict, centre: np.ndarray) -> float:
    """x of the memory plane's blob, in tile pixels."""
    plane = view["x"][4]
    cols = torch.nonzero(plane)[:, 1].float()
    return float(cols.mean()) + 0.5 + centre[0] - 32


def test_without_model_memory_earlier_labels_are_exact_and_later_ones_perturbed():
    data = _two_bars()  # order: bar 0 (left) first
    rng = np.random.default_rng(0)
    assert np.allclose(data._neighbour_motion(rng, 0, 1, 0, None), np.eye(3))
    later = data._neighbour_motion(rng, 0, 0, 1, None)
    assert not np.allclose(later, np.eye(3)) and np.abs(later[:2, 2]).max() <= 6.0


def test_model_memory_shows_earlier_labels_where_the_network_put_them_and_later_ones_noisy():
    data = _two_bars()

    def predict(x: torch.Tensor) -> torch.Tensor:  # every correction: 4 px right (half-window 32)
        return torch.tensor([[0.125, 0.0, 0.0]]).repeat(len(x), 1)

    data.follow_model(predict, np.random.default_rng(1), rounds=1)
    (layout,) = data.layouts[0]
    assert list(layout.rank) == [0, 1]
    for noisy, corrected in zip(layout.noisy, layout.corrected):
        assert np.allclose(corrected[:2, 2] - noisy[:2, 2], [4.0, 0.0])
    # bar 1 corrected second: its M holds bar 0 at t g; bar 0 first: its M holds bar 1 at its noisy place
    rng = np.random.default_rng(2)
    for i, j, motion in ((1, 0, layout.corrected[0]), (0, 1, layout.noisy[1])):
        state = rng.bit_generator.state
        g = data.random_motion(rng, data.centroids[0][i])
        rng.bit_generator.state = state
        view = data._view(rng, 0, i)
        centre = np.round(g @ np.array([*data.centroids[0][i], 1.0]))[:2]
        expected = (motion @ np.array([*data.centroids[0][j], 1.0]))[0]
        assert abs(_memory_centre_x(view, centre) - expected) < 0.75


def test_each_tile_is_perturbed_within_its_own_bound():
    bar = Shape((np.array([[30.0, 30.0], [34.0, 30.0], [34.0, 60.0], [30.0, 60.0]]),), True)
    small, large = np.zeros((3, 96, 96), np.uint8), np.zeros((3, 192, 192), np.uint8)
    data = TrainingTiles(tiles_from_arrays([small, large], [[bar], [bar]]), 64, [3.0, 12.0], 0.0)
    rng = np.random.default_rng(0)
    shifts = [np.abs([data.random_motion(rng, np.zeros(2), k)[:2, 2] for _ in range(200)]).max() for k in (0, 1)]
    assert shifts[0] <= 3.0 < 6.0 < shifts[1] <= 12.0
    with pytest.raises(ValueError, match="2 perturbation bounds for 1 tiles"):
        TrainingTiles(tiles_from_arrays([small], [[bar]]), 64, [3.0, 12.0], 0.0)
