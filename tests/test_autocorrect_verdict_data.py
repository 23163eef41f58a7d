"""Training and held-out sets from a geo project's verdicts, read back by the real train/eval commands."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import affinity
from sqlmodel import select

from annotation_db.import_geo import import_geo
from annotation_db.models import Instance, Raster
from annotation_db.projects import get_project
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.autocorrect.dataset import TrainingTiles, tiles_from_arrays
from core.autocorrect.geo_io import load_generated
from core.synthetic.geo import generate_geo
from training.autocorrect import verdict_data
from training.cli import main


@pytest.fixture
def reviewed(session, tmp_path, monkeypatch):
    """A railway project of 5 small tiles with one verdict of each kind; one accepted instance held out."""
    data = generate_geo(kind="railway", tiles=5, size=128, seed=5, out=tmp_path / "geo")
    import_geo(session, "rail", "railway", data / "rasters", data / "annotations.geojson")
    project = get_project(session, "rail")
    person = create_user(session, "ann", "annotator", "pw-123456")
    ids = [i.id for i in session.exec(select(Instance).order_by(Instance.id))]
    assert len(ids) >= 6
    moved = {}

    def judge(instance_id, action, shift=None):
        fields = {}
        if shift is not None:
            geometry = affinity.translate(shapely.from_wkt(session.get(Instance, instance_id).geometry_wkt), *shift)
            moved[instance_id] = geometry.wkt
            fields["final_geometry_wkt"] = geometry.wkt
        record_verdict(session, person, project, "geometry", instance_id=instance_id, action=action, **fields)

    judge(ids[0], "accepted", (1.5, -0.5))
    judge(ids[1], "adjusted", (-1.0, 2.0))
    judge(ids[2], "original")
    judge(ids[3], "not_visible")
    judge(ids[4], "obsolete")
    judge(ids[5], "accepted", (0.5, 0.5))
    held = f"instance:{ids[5]}"
    monkeypatch.setattr(verdict_data, "is_held_out", lambda project_id, key: key == held)
    return project, ids, moved


def _rows(path):
    return gpd.read_file(path).set_index("instance_id")


def test_verified_instances_are_clean_at_their_final_geometry_and_held_out_ones_only_score(
        reviewed, session, tmp_path):
    project, ids, moved = reviewed
    result = verdict_data.build_training_set(session, project.id, tmp_path / "set")
    total = len(ids)
    assert result.counts == {"clean": 3, "noisy": total - 6, "left_out": 2, "held_out": 1}
    train = _rows(result.train_dir / "annotations.geojson")
    assert set(train.index) == set(ids) - {ids[3], ids[4], ids[5]}
    assert {i for i in train.index if train.loc[i, "verified"]} == {ids[0], ids[1], ids[2]}
    for instance_id in (ids[0], ids[1]):  # at the geometry the person gave, in the raster CRS
        crs = session.get(Raster, session.get(Instance, instance_id).raster_id).crs
        written = train.to_crs(crs).loc[instance_id].geometry
        assert written.equals_exact(shapely.from_wkt(moved[instance_id]), 0.01)  # 1 cm: GeoJSON degrees
    heldout = _rows(result.heldout_dir / "annotations.geojson")
    truth = _rows(result.heldout_dir / "truth.geojson")
    assert list(heldout.index) == [ids[5]] and bool(heldout.loc[ids[5], "noisy"])
    assert not heldout.geometry.iloc[0].equals_exact(truth.geometry.iloc[0], 1e-9)
    assert len(result.verdict_ids) == 5  # every verdict but the held-out one
    kind, tiles = load_generated(result.train_dir)
    assert kind == "railway"
    data = TrainingTiles(tiles_from_arrays([t.image for t in tiles], [t.shapes for t in tiles],
                                           [t.verified for t in tiles]), 64, 5.0, 5.0)
    assert sum(data.clean) == 3


def test_train_reads_the_set_and_eval_scores_the_held_out_verdicts(reviewed, session, tmp_path, capsys):
    project, _, _ = reviewed
    result = verdict_data.build_training_set(session, project.id, tmp_path / "set")
    out = tmp_path / "ck.pt"
    assert main(["train", "autocorrect", "--data", str(result.train_dir), "--out", str(out), "--config", "tiny",
                 "--max-steps", "2", "--batch-size", "4", "--loss", "joint"]) == 0
    record = json.loads(out.with_suffix(".train.json").read_text())
    assert record["verified"] == 3 and record["instances"] == sum(result.counts[k] for k in ("clean", "noisy"))
    capsys.readouterr()
    assert main(["eval", "autocorrect", "--data", str(result.heldout_dir), "--checkpoint", str(out), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["model"]["instances"] == 1 and scores["noisy_input"]["iou"] < 1.0
    assert np.isfinite(scores["model"]["iou"])
