"""A researcher launches a predict job from the Jobs page and watches it finish."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_geo import import_geo
from annotation_db.models import JobStatus, Proposal, Role, TrainingJob
from annotation_db.users import create_user
from core.synthetic.geo import generate_geo

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


def _choose(page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
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
