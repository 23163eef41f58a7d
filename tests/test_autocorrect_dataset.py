"""Training samples: the memory map skips only masks that cannot reach the window; one or two views."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.autocorrect.dataset import TrainingTiles, tiles_from_arrays
from core.autocorrect.geo_io import load_generated
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
