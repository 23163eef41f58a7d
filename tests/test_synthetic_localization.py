"""The localisation generator places the sounding object where real VGG-SS boxes sit."""

from __future__ import annotations

import colorsys
import json

import numpy as np
import pytest

from core.synthetic.localization import (VGGSS_X_POSITION, VGGSS_Y_POSITION, generate_localization,
                                         make_clip, relative_position)
from core.synthetic.shapes import SCENES, background


def _quartiles(values) -> np.ndarray:
    return np.percentile(values, [25, 50, 75])


def _table_quartiles(table) -> np.ndarray:
    return np.interp([0.25, 0.5, 0.75], np.linspace(0, 1, len(table)), table)


def test_relative_position_follows_the_vggss_quantiles():
    rng = np.random.default_rng(0)
    xs, ys = np.array([relative_position(rng) for _ in range(4000)]).T
    assert np.allclose(_quartiles(xs), _table_quartiles(VGGSS_X_POSITION), atol=0.02)
    assert np.allclose(_quartiles(ys), _table_quartiles(VGGSS_Y_POSITION), atol=0.02)
    assert xs.min() >= 0 and xs.max() <= 1 and ys.min() >= 0 and ys.max() <= 1


@pytest.fixture(scope="module")
def unions(tmp_path_factory):
    out = generate_localization(clips=160, seed=21, out=tmp_path_factory.mktemp("pos"), duration=1.0,
                                size=224, video=False)
    entries = json.loads((out / "vggss.json").read_text())
    boxes = [np.array(e["bbox"]) for e in entries]
    return np.array([[b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()] for b in boxes])


def test_sounding_boxes_are_as_spread_as_vggss(unions):
    width, height = unions[:, 2] - unions[:, 0], unions[:, 3] - unions[:, 1]
    x = unions[width < 0.98, 0] / (1 - width[width < 0.98])
    y = unions[height < 0.98, 1] / (1 - height[height < 0.98])
    # the tight boxes land where the drawn positions asked (multi-instance clips blur this a little)
    assert np.allclose(_quartiles(x), _table_quartiles(VGGSS_X_POSITION), atol=0.08)
    assert np.allclose(_quartiles(y), _table_quartiles(VGGSS_Y_POSITION), atol=0.08)
    # a third of the real unions touch the frame edge; padded uniform placement gave none
    touches = (unions[:, :2] <= 0.01).any(1) | (unions[:, 2:] >= 0.99).any(1)
    assert 0.1 < touches.mean() < 0.5


def test_boxes_stay_inside_the_frame(unions):
    assert unions.min() >= 0 and unions.max() <= 1
    assert np.all(unions[:, 2] > unions[:, 0]) and np.all(unions[:, 3] > unions[:, 1])


@pytest.mark.parametrize("category", sorted(SCENES))
def test_a_typical_scene_has_its_hues(category):
    scene = SCENES[category]
    image = background(120, 120, np.random.default_rng(0), scene).astype(float) / 255
    # the horizon lies between 30 % and 60 % of the height, so these bands are always one region
    for band, hue in ((image[:30], scene.upper_hue), (image[80:], scene.lower_hue)):
        drawn = colorsys.rgb_to_hsv(*band.reshape(-1, 3).mean(0))[0]
        assert min(abs(drawn - hue), 1 - abs(drawn - hue)) < 0.06


def test_scene_context_changes_the_setting_only():
    plain = make_clip(np.random.default_rng(4), 0.4, 96)
    typical = make_clip(np.random.default_rng(4), 0.4, 96, scene_context=1.0)
    assert typical.categories == plain.categories
    assert np.array_equal(typical.centre_boxes, plain.centre_boxes)
    assert np.array_equal(typical.audio, plain.audio)
    assert not np.array_equal(typical.frames, plain.frames)
