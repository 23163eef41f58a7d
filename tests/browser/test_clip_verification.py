"""Clip verification page: an annotator answers Yes, No and Not sure; a researcher exports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Assignment, Clip, Role, User, Verdict, VerdictKind
from annotation_db.users import create_user
from core.synthetic.localization import generate_localization

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}
PASSWORD = "password123"


@pytest.fixture
def app_data(app_db, tmp_path, tmp_path_factory) -> Path:
    """A database shared with the server, holding a small clip-verification project and users."""
    data = generate_localization(clips=6, seed=11, out=tmp_path_factory.mktemp("verify"),
                                 duration=1.0, size=64, label_noise=0.3)
    with session_scope() as session:
        import_clips(session, "curation", "clip-verification", data / "clips",
                     data / "labels.csv")
        create_user(session, "ann", Role.annotator, PASSWORD)
        create_user(session, "rita", Role.researcher, PASSWORD)
    return tmp_path


def _leased_clip(user_name: str) -> Clip:
    """The clip the page has leased to the user and is showing."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.name == user_name)).one()
        lease = session.exec(select(Assignment).where(Assignment.user_id == user.id,
                                                      Assignment.completed_at.is_(None))).one()
        return session.get(Clip, lease.clip_id)


def test_annotator_answers_each_way_and_researcher_exports(log_in, page, streamlit_server,
                                                           wait_for_app, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "ann", PASSWORD)
    page.get_by_role("link", name="Clip verification").click()
    wait_for_app(page, text="Does this clip show")
    expect(page.get_by_role("tab", name="Class report")).to_have_count(0)  # researchers only

    shown = {}
    for answer, word, by_keyboard in (("yes", "Yes", False), ("no", "No", True),
                                      ("not_sure", "Not sure", False)):
        clip = _leased_clip("ann")
        expect(page.get_by_text(clip.key).first).to_be_visible()
        expect(page.locator(".cv-label")).to_have_text(clip.label)
        expect(page.locator("video")).to_have_count(1)
        if by_keyboard:
            page.locator("body").press("n")
        else:
            page.locator(f".st-key-cv_{answer} button").click()
        wait_for_app(page, text=f"Saved {word} for")
        shown[clip.id] = answer
    expect(page.get_by_text("3 of 6 sampled clips of all classes answered · 3 by you")) \
        .to_be_visible()

    with session_scope() as session:
        ann = session.exec(select(User).where(User.name == "ann")).one()
        verdicts = session.exec(select(Verdict).where(Verdict.user_id == ann.id)).all()
        assert {v.clip_id: v.answer.value for v in verdicts} == shown
        assert all(v.kind is VerdictKind.clip and v.source == "app" for v in verdicts)
        done = session.exec(select(Assignment).where(Assignment.user_id == ann.id,
                                                     Assignment.completed_at.is_not(None))).all()
        assert {a.clip_id for a in done} == set(shown)

    # a misclick: bring the last clip back and answer it again; the new verdict supersedes
    last_clip = list(shown)[-1]
    page.get_by_role("button", name="Change").click()
    wait_for_app(page, text="Changing your answer")
    page.locator(".st-key-cv_yes button").click()
    wait_for_app(page, text="Saved Yes for")
    shown[last_clip] = "yes"
    with session_scope() as session:
        again = session.exec(select(Verdict).where(Verdict.clip_id == last_clip)
                             .order_by(Verdict.id)).all()
        assert [v.answer.value for v in again] == ["not_sure", "yes"]

    page.get_by_role("button", name="Log out").click()
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Clip verification").click()
    wait_for_app(page, text="Does this clip show")
    page.get_by_role("tab", name="Class report").click()
    panel = page.get_by_role("tabpanel", name="Class report")
    expect(panel.get_by_text("Share of Yes").first).to_be_visible()
    expect(panel.get_by_test_id("stDataFrame")).to_be_visible()
    expect(panel.get_by_test_id("stVegaLiteChart")).to_be_visible()
    with page.expect_download() as download:
        panel.get_by_role("button", name="Per-clip verdicts (CSV)").click()
    assert download.value.suggested_filename == "curation-clip-verdicts.csv"
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with session_scope() as session:
        keys = {clip_id: session.get(Clip, clip_id).key for clip_id in shown}
    assert sorted((r["clip_key"], r["annotator"], r["answer"]) for r in rows) == \
        sorted((keys[clip_id], "ann", answer) for clip_id, answer in shown.items())
