"""The real entry points on tiny generated data: train (loss falls), eval JSON, predict proposals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from sqlmodel import select

from annotation_db.import_geo import import_geo
from annotation_db.models import Instance, Proposal, Raster
from annotation_db.projects import get_project
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.autocorrect.geo_io import geometry_to_shape
from core.autocorrect.se2 import se2_matrix
from core.synthetic.geo import generate_geo
from core.checkpoints import load_checkpoint
from training.cli import main


@pytest.fixture(scope="module")
def rail(tmp_path_factory):
    return generate_geo(kind="railway", tiles=2, size=128, seed=5, out=tmp_path_factory.mktemp("rail"),
                        exact_share=1.0)


@pytest.fixture(scope="module")
def trained(rail, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    assert main(["train", "autocorrect", "--data", str(rail), "--out", str(out), "--config", "tiny",
                 "--max-steps", "40", "--batch-size", "8", "--loss", "joint", "--seed", "1",
                 "--gate-dilate", "2"]) == 0  # gated on grown masks for the last 20 steps
    return out


def test_two_steps_run_and_save_a_loadable_checkpoint(rail, tmp_path):
    out = tmp_path / "two.pt"
    assert main(["train", "autocorrect", "--data", str(rail), "--out", str(out), "--config", "tiny",
                 "--max-steps", "2", "--batch-size", "4", "--no-memory-map", "--loss", "self"]) == 0
    state, config = load_checkpoint(out)
    assert config["family"] == "autocorrect" and config["model"]["memory_map"] is False
    assert state["features.0.weight"].shape[1] == 4  # RGB + mask, no memory channel


def test_loss_falls_over_a_short_run(trained):
    record = json.loads(trained.with_suffix(".train.json").read_text())
    losses = record["losses"]
    assert record["gate_dilate"] == 2
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:5])


def test_eval_prints_one_json_object_with_each_method(trained, rail, capsys):
    capsys.readouterr()
    assert main(["eval", "autocorrect", "--data", str(rail), "--checkpoint", str(trained), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for method in ("model", "noisy_input", "global_shift"):
        assert 0 <= result[method]["iou"] <= 1
        assert set(result[method]["pck"]) == {str(k) for k in range(1, 17)}
    assert result["noisy_input"]["iou"] == pytest.approx(1.0)  # exact_share=1: input is the truth


def test_bad_data_directory_is_named(tmp_path, capsys):
    assert main(["train", "autocorrect", "--data", str(tmp_path), "--out", str(tmp_path / "x.pt")]) == 2
    assert "meta.json" in capsys.readouterr().err


def test_predict_project_writes_proposals_and_keeps_human_fixes(trained, tmp_path, session):
    data = generate_geo(kind="railway", tiles=2, size=128, seed=6, out=tmp_path / "geo")
    import_geo(session, "rail", "railway", data / "rasters", data / "annotations.geojson")
    from training.autocorrect.predict import predict_project

    project = get_project(session, "rail")
    instances = session.exec(select(Instance).order_by(Instance.id)).all()
    person = create_user(session, "ann", "annotator", "pw-123456")
    first = instances[0]
    record_verdict(session, person, project, "geometry", instance_id=first.id, action="original")
    seen = []
    count = predict_project(session, project, checkpoint=trained, progress=lambda d, t: seen.append((d, t)))
    assert count == len(instances) - 1 and seen[-1] == (count, count)
    proposals = session.exec(select(Proposal)).all()
    assert {p.instance_id for p in proposals} == {i.id for i in instances[1:]}
    for p in proposals:
        assert p.model_version and p.uncertainty is not None and p.uncertainty >= 0
        assert len(p.payload["transform"]) == 3
        moved = shapely.from_wkt(p.payload["model_geometry_wkt"])
        noisy = shapely.from_wkt(session.get(Instance, p.instance_id).geometry_wkt)
        raster = session.get(Raster, session.get(Instance, p.instance_id).raster_id)
        # the proposal is the noisy geometry moved by its payload transform, in the raster CRS
        assert moved.length == pytest.approx(noisy.length, rel=1e-6)
        noisy_px = geometry_to_shape(noisy, raster.transform, 1.0)
        dx, dy, theta = p.payload["transform"]
        expected = noisy_px.moved(se2_matrix(dx, dy, theta, tuple(noisy_px.centroid())))
        assert np.allclose(geometry_to_shape(moved, raster.transform, 1.0).vertices(), expected.vertices(),
                           atol=1e-6)
        # what is proposed: the model's geometry when it is confident, else the input as it was
        proposed = p.payload["model_geometry_wkt"] if p.payload["confident"] else noisy.wkt
        assert shapely.from_wkt(p.payload["geometry_wkt"]).equals_exact(shapely.from_wkt(proposed), 1e-6)
