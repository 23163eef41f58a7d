"""A retrain job: verdicts -> training set -> child of the active version -> parent vs child metrics."""

from __future__ import annotations

import contextlib
import io
import json

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely import affinity
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.import_geo import import_geo
from annotation_db.models import Clip, Instance, ModelVersion, Raster, Role, User
from annotation_db.projects import get_project
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.config import get_settings
from core.synthetic.geo import generate_geo
from core.synthetic.sync import generate_sync
from training import cli
from training.benchmarks import BenchmarkSpec
from training.families import get_family
from training.jobs import job_details, submit_job
from training.registry import register_version
from training.worker import run_worker


@pytest.fixture
def judged_sync_project(database, tmp_path, monkeypatch):
    """A sync project whose clips all carry a verdict with the generator's truth; half held out."""
    monkeypatch.setenv("HOLDOUT_SHARE", "0.5")  # read by the job's child process
    data = generate_sync(clips=10, seed=21, out=tmp_path / "gen", min_duration=2.0, max_duration=2.2, size=64)
    truth = {row["file"]: row["category"] for row in json.loads((data / "sync.json").read_text())}
    with session_scope() as session:
        import_clips(session, "sync", "sync", data / "clips", data / "labels.csv")
        project = get_project(session, "sync")
        person = create_user(session, "ann", Role.annotator, "password123")
        for clip in session.exec(select(Clip).order_by(Clip.id)):
            extra = {"in_sync": True, "offset_frames": 0} if truth[clip.key] == "evident" else {}
            record_verdict(session, person, project, "sync", clip_id=clip.id, category=truth[clip.key],
                           **extra)
        project.active_model_version_id = tiny_avst_version(session, data, tmp_path / "parent.pt")
    return "sync"


def tiny_avst_version(session, data, out) -> int:
    """A one-step tiny AVST registered as a version: the parent the retrain starts from."""
    assert cli.main(["train", "avst", "--data", str(data), "--out", str(out), "--config", "tiny",
                     "--variant", "enc-mp", "--epochs", "1", "--max-steps", "1", "--batch-size", "4"]) == 0
    return register_version(session, "avst", out).id


def test_retrain_job_registers_a_child_with_parent_and_child_metrics(judged_sync_project):
    params = {"config": "tiny", "variant": "enc-mp", "epochs": 1, "max_steps": 2, "batch_size": 4,
              "benchmark": {"items": 3, "size": 64}, "eval": {"lengths": "1"}}
    with session_scope() as session:
        rita = create_user(session, "rita", Role.researcher, "password123")
        job = submit_job(session, rita, "avst", "train", get_project(session, judged_sync_project), params)
    assert run_worker(until_idle=True) == 1

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        assert cli.main(["jobs", "show", str(job.id), "--json"]) == 0
    details = json.loads(shown.getvalue())
    assert details["status"] == "succeeded", details["error"]
    version = details["version"]
    assert version["parent_version"].startswith("parent") and version["job_id"] == job.id
    assert version["data_cutoff"] and version["verdict_ids"]
    metrics = version["metrics"]
    assert metrics["training_data"]["held_out"] >= 1 and metrics["training_data"]["left_out"] >= 1
    assert metrics["training_data"]["positives"] == len(version["verdict_ids"])
    for split in ("heldout", "synthetic"):
        for who in ("parent", "child"):
            assert 0.0 <= get_family("avst").headline_of(metrics[split][who]) <= 1.0
    assert metrics["heldout"]["parent"]["model"]["clips"] == metrics["training_data"]["held_out"]
    assert metrics["benchmark"]["items"] == 3
    headlines = details["progress"]["last_metric"]
    assert headlines["heldout"]["child"] == get_family("avst").headline_of(metrics["heldout"]["child"])
    with session_scope() as session:
        parent = session.get(ModelVersion, version["parent_id"])
        assert parent.path.endswith("parent.pt")
        assert session.get(ModelVersion, version["id"]).project_id == get_project(session, "sync").id


def test_benchmark_spec_comes_from_the_params_and_refuses_unknown_fields():
    params = {"benchmark": {"seed": 3, "items": 5}, "epochs": 1}
    assert BenchmarkSpec.from_params(params) == BenchmarkSpec(seed=3, items=5)
    assert params == {"epochs": 1}
    with pytest.raises(ValueError, match="clips"):
        BenchmarkSpec.from_params({"benchmark": {"clips": 3}})


@pytest.fixture
def judged_geo_project(database, tmp_path, monkeypatch):
    """A buildings project with no model of its own; all instances but one adjusted by a person, half held out."""
    monkeypatch.setenv("HOLDOUT_SHARE", "0.5")  # read by the job's child process
    data = generate_geo(kind="buildings", tiles=2, size=256, seed=6, out=tmp_path / "geo")
    with session_scope() as session:
        import_geo(session, "bld", "buildings", data / "rasters", data / "annotations.geojson")
        project = get_project(session, "bld")
        person = create_user(session, "ann", Role.annotator, "password123")
        instances = list(session.exec(select(Instance).order_by(Instance.id)))
        for instance in instances[1:]:
            moved = affinity.translate(shapely.from_wkt(instance.geometry_wkt), 1.0, -1.0)
            record_verdict(session, person, project, "geometry", instance_id=instance.id, action="adjusted",
                           final_geometry_wkt=moved.wkt)
        rita = create_user(session, "rita", Role.researcher, "password123")
    return "bld", rita.id


def _run_train_job(user_id: int, project: str, params: dict) -> dict:
    with session_scope() as session:
        job = submit_job(session, session.get(User, user_id), "autocorrect", "train",
                         get_project(session, project), params)
    assert run_worker(until_idle=True) == 1
    with session_scope() as session:
        details = job_details(session, job.id)
    assert details["status"] == "succeeded", details["error"]
    return details


def test_first_version_from_scratch_and_the_verdict_free_control(judged_geo_project):
    project, rita = judged_geo_project
    params = {"config": "tiny", "max_steps": 2, "batch_size": 4, "threads": 1, "benchmark": {"items": 1, "size": 128}}
    first = _run_train_job(rita, project, {**params, "from_scratch": True})["version"]
    assert first["parent_id"] is None and first["metrics"]["from_scratch"]
    assert json.loads(Path(first["path"]).with_suffix(".train.json").read_text())["init"] is None
    assert set(first["metrics"]["heldout"]) == {"child"}
    with session_scope() as session:
        get_project(session, project).active_model_version_id = first["id"]

    control = _run_train_job(rita, project, {**params, "ignore_verdicts": True})
    version = control["version"]
    assert version["parent_id"] == first["id"] and version["verdict_ids"] == []
    counts = version["metrics"]["training_data"]
    assert counts["clean"] == 0 and counts["ignored_verdicts"] >= 1 and counts["held_out"] >= 1
    assert set(version["metrics"]["heldout"]) == {"parent", "child"}
    train = gpd.read_file(get_settings().data_dir / "jobs" / f"job-{control['id']}" / "data" / "train"
                          / "annotations.geojson")
    assert not train["verified"].any()
    with session_scope() as session:
        for row in train.itertuples():
            instance = session.get(Instance, int(row.instance_id))
            imported = gpd.GeoSeries([shapely.from_wkt(instance.geometry_wkt)],
                                     crs=session.get(Raster, instance.raster_id).crs).to_crs(train.crs).iloc[0]
            assert row.geometry.equals_exact(imported, 1e-9)


def test_a_rerun_retrain_job_trains_on_the_set_its_first_run_built(judged_sync_project):
    from training import job_runner

    family = get_family("avst")
    with session_scope() as session:
        project = get_project(session, judged_sync_project)
        first, cutoff = job_runner._verdict_set(session, family, project.id, 991, control=False)
        (first.train_dir / "marker").write_text("first run")
        person = session.exec(select(User).where(User.name == "ann")).one()
        for clip in session.exec(select(Clip).order_by(Clip.id)):  # people change their minds meanwhile
            record_verdict(session, person, project, "sync", clip_id=clip.id, category="evident", in_sync=True,
                           offset_frames=0)
        session.flush()
        again, cutoff_again = job_runner._verdict_set(session, family, project.id, 991, control=False)
        fresh, fresh_cutoff = job_runner._verdict_set(session, family, project.id, 992, control=False)
    assert (again.verdict_ids, again.counts, again.train_dir, cutoff_again) == \
        (first.verdict_ids, first.counts, first.train_dir, cutoff)
    assert (first.train_dir / "marker").is_file()  # read back, not built again
    assert fresh_cutoff > cutoff and fresh.verdict_ids != first.verdict_ids  # a new job sees the new verdicts
