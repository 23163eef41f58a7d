"""A researcher launches jobs from the Jobs page, watches them finish, compares and promotes versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.import_geo import import_geo
from annotation_db.models import Clip, JobStatus, ModelVersion, Proposal, Role, TrainingJob
from annotation_db.projects import get_project
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.synthetic.geo import generate_geo
from core.synthetic.sync import generate_sync
from training import cli
from training.registry import register_version

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
PASSWORD = "password123"


@pytest.fixture
def app_data(app_db, tmp_path_factory) -> Path:
    """A one-tile buildings project without proposals, and a researcher."""
    data = generate_geo(kind="buildings", tiles=1, size=128, seed=5, out=tmp_path_factory.mktemp("b"))
    with session_scope() as session:
        import_geo(session, "town", "buildings", data / "rasters", data / "annotations.geojson")
        create_user(session, "rita", Role.researcher, PASSWORD)
        create_user(session, "ann", Role.annotator, PASSWORD)
    return app_db


def _choose(page, label: str, option: str, nth: int = 0) -> None:
    """Pick an option of the nth select box whose text has `label` (the Launch tab's come first)."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).nth(nth).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_launch_a_predict_job_and_see_it_finish(log_in, page, streamlit_server, wait_for_app,
                                                app_data):
    url = streamlit_server(MAIN, env={"SEED_DEMO": "0"}, data_dir=app_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Jobs & models").click()
    wait_for_app(page, text="Launch job")
    _choose(page, "Kind", "predict")
    wait_for_app(page)
    _choose(page, "Project", "town")
    wait_for_app(page)
    page.get_by_role("button", name="Launch job").click()
    wait_for_app(page, text="Queued job 1.")
    page.get_by_role("tab", name="Jobs").click()
    expect(page.get_by_text("status succeeded")).to_be_visible(timeout=120_000)
    with session_scope() as session:
        job = session.get(TrainingJob, 1)
        proposals = session.exec(select(Proposal)).all()
    assert job.status is JobStatus.succeeded and job.kind.value == "predict"
    assert proposals and all(p.model == "autocorrect" and p.model_version for p in proposals)


def test_annotators_do_not_see_the_jobs_page(log_in, page, streamlit_server, app_data):
    url = streamlit_server(MAIN, env={"SEED_DEMO": "0"}, data_dir=app_data)
    log_in(page, url, "ann", PASSWORD)
    expect(page.get_by_role("link", name="Jobs & models")).to_have_count(0)


@pytest.fixture
def judged_sync(app_db, tmp_path_factory) -> Path:
    """A small sync project whose clips carry verdicts with the generator's truth, and a researcher."""
    data = generate_sync(clips=10, seed=21, out=tmp_path_factory.mktemp("sync"), min_duration=2.0,
                         max_duration=2.2, size=64)
    truth = {row["file"]: row["category"] for row in json.loads((data / "sync.json").read_text())}
    with session_scope() as session:
        import_clips(session, "sync", "sync", data / "clips", data / "labels.csv")
        project = get_project(session, "sync")
        ann = create_user(session, "ann", Role.annotator, PASSWORD)
        create_user(session, "rita", Role.researcher, PASSWORD)
        for clip in session.exec(select(Clip)):
            extra = {"in_sync": True} if truth[clip.key] == "evident" else {}
            record_verdict(session, ann, project, "sync", clip_id=clip.id, category=truth[clip.key], **extra)
        parent = app_db / "parent.pt"  # a one-step tiny AVST: the version the retrain starts from
        assert cli.main(["train", "avst", "--data", str(data), "--out", str(parent), "--config", "tiny",
                         "--variant", "enc-mp", "--epochs", "1", "--max-steps", "1", "--batch-size", "4"]) == 0
        project.active_model_version_id = register_version(session, "avst", parent).id
    return app_db


RETRAIN_PARAMS = {"config": "tiny", "variant": "enc-mp", "epochs": 1, "max_steps": 2, "batch_size": 4,
                  "benchmark": {"items": 3, "size": 64}, "eval": {"lengths": "1"}}


def test_retrain_from_verdicts_compare_parent_and_child_and_promote(log_in, page, streamlit_server,
                                                                    wait_for_app, judged_sync):
    url = streamlit_server(MAIN, env={"SEED_DEMO": "0", "HOLDOUT_SHARE": "0.5"}, data_dir=judged_sync)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Jobs & models").click()
    wait_for_app(page, text="Launch job")
    _choose(page, "Model", "avst")
    wait_for_app(page)
    _choose(page, "Project", "sync")
    wait_for_app(page)
    params = page.get_by_label("Parameters (JSON: the command's options)")
    for _ in range(100):  # AVST's own box (its example params): a rerun shows the previous model's until it ends
        if params.count() == 1 and '"max_steps": 60' in params.input_value():
            break
        page.wait_for_timeout(100)
    params.fill(json.dumps(RETRAIN_PARAMS))
    params.press("Control+Enter")  # a text area commits its value on Ctrl+Enter (or blur)
    wait_for_app(page)
    page.get_by_role("button", name="Launch job").click()
    wait_for_app(page, text="Queued job 1.")
    page.get_by_role("tab", name="Jobs").click()
    expect(page.get_by_text("status succeeded")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("held-out verified items").filter(visible=True).first).to_be_visible()

    page.get_by_role("tab", name="Model versions").click()
    _choose(page, "Model", "avst", nth=1)
    wait_for_app(page, text="Parent vs child")
    expect(page.get_by_text("accuracy_general", exact=True).filter(visible=True).first).to_be_visible()  # a row of the table
    page.get_by_role("button", name="Promote and refresh proposals").click()
    wait_for_app(page, text="is active for sync")
    with session_scope() as session:
        version = session.exec(select(ModelVersion).where(ModelVersion.job_id == 1)).one()
        project = get_project(session, "sync")
        assert version.parent_id == 1 and version.verdict_ids and version.data_cutoff
        assert set(version.metrics["heldout"]) == {"parent", "child"}
        assert project.active_model_version_id == version.id
        assert session.get(TrainingJob, 2).kind.value == "predict"
