"""Model versions: registration (file, sha256, parent, job, data, config, metrics) and promotion."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from sqlmodel import select

from annotation_db.models import JobKind, JobStatus, ModelVersion, ProjectKind, Role, TrainingJob, utcnow
from annotation_db.projects import ensure_project
from annotation_db.users import AccessDenied, create_user
from core.checkpoints import config_path
from training.jobs import version_details
from training.family import bundled_checkpoint
from training.families import get_family
from training.registry import promote_version, register_version, resolve_model


def _copy_checkpoint(name: str, target) -> str:
    source = bundled_checkpoint(name)
    shutil.copyfile(source, target)
    shutil.copyfile(config_path(source), config_path(target))
    return str(target)


def test_register_records_file_hash_parent_data_and_metrics(session, tmp_path):
    project = ensure_project(session, "s", ProjectKind.sync)
    parent = resolve_model(session, project, get_family("avst"))
    path = _copy_checkpoint("avst-demo", tmp_path / "child.pt")
    (tmp_path / "child.pt").open("ab").write(b"\0")  # other weights, same name
    cutoff = utcnow()
    child = register_version(session, "avst", path, project_id=project.id, parent_id=parent.version_id,
                             metrics={"heldout": {"parent": {}, "child": {}}}, data_cutoff=cutoff,
                             verdict_ids=[3, 5])
    details = version_details(session, child)
    assert details["sha256"] == hashlib.sha256((tmp_path / "child.pt").read_bytes()).hexdigest()
    assert details["parent_version"] == parent.version and details["verdict_ids"] == [3, 5]
    assert details["config"]["model"]["variant"] == "enc-mp"  # read from the JSON beside the weights
    assert details["data_cutoff"].startswith(cutoff.isoformat()[:19])
    assert child.version != parent.version  # distinct names even though both files are "avst-demo"-like


def test_promote_activates_the_version_and_queues_a_predict_job(session):
    project = ensure_project(session, "s", ProjectKind.sync)
    version = resolve_model(session, project, get_family("avst"))
    rita = create_user(session, "rita", Role.researcher, "password1")
    job = promote_version(session, rita, project, version.version_id)
    assert project.active_model_version_id == version.version_id
    assert job.kind is JobKind.predict and job.project_id == project.id and job.status is JobStatus.queued
    assert resolve_model(session, project, get_family("avst")).version_id == version.version_id


def test_annotators_cannot_promote_and_versions_must_fit_the_project(session):
    sync = ensure_project(session, "s", ProjectKind.sync)
    town = ensure_project(session, "t", ProjectKind.buildings)
    version = resolve_model(session, sync, get_family("avst"))
    ann = create_user(session, "ann", Role.annotator, "password1")
    with pytest.raises(AccessDenied):
        promote_version(session, ann, sync, version.version_id)
    rita = create_user(session, "rita", Role.researcher, "password1")
    with pytest.raises(ValueError, match="cannot serve"):
        promote_version(session, rita, town, version.version_id)
    with pytest.raises(ValueError, match="no model version"):
        promote_version(session, rita, sync, 999)
    assert sync.active_model_version_id is None and town.active_model_version_id is None
    assert session.exec(select(TrainingJob)).all() == []
    assert session.exec(select(ModelVersion)).one().id == version.version_id


def test_parent_vs_child_rows_and_headlines():
    from training.comparison import headline_row, parent_vs_child

    report = lambda acc: {"model": {"accuracy": acc, "clips": 4, "accuracy_by_length": {"1": acc / 2}},
                          "chance": {"accuracy": 0.3}}
    version = ModelVersion(id=7, model="avst", version="v7", path="x", sha256="0", parent_id=3,
                           metrics={"heldout": {"parent": report(0.5), "child": report(0.75)},
                                    "synthetic": None}, verdict_ids=[1, 2], created_at=utcnow())
    rows = parent_vs_child(version)
    assert [(r["split"], r["metric"]) for r in rows] == [
        ("heldout", "accuracy"), ("heldout", "accuracy_by_length.1"), ("heldout", "clips")]  # no baselines
    assert rows[0]["parent"] == 0.5 and rows[0]["child"] == 0.75 and rows[0]["change"] == 0.25
    row = headline_row(version)
    assert row["heldout model.accuracy"] == 0.75 and row["heldout model.accuracy (parent)"] == 0.5
    assert row["synthetic model.accuracy"] is None and row["verdicts"] == 2
    plain = ModelVersion(id=8, model="avst", version="v8", path="x", sha256="0", metrics=report(0.4),
                         created_at=utcnow())
    assert parent_vs_child(plain) == [] and headline_row(plain)["eval model.accuracy"] == 0.4
