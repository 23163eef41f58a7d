"""Sync review page: change the offset, give each kind of verdict, answer the tolerance study; check the DB."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Clip, Role, Verdict, VerdictKind
from annotation_db.projects import get_project
from annotation_db.proposals import NewProposal, write_proposals
from annotation_db.sync_review import TOLERANCE_NOTE
from annotation_db.users import create_user
from core.synthetic.sync import generate_sync

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}
PASSWORD = "password123"
MODEL_OFFSET = 3


@pytest.fixture
def app_data(app_db, tmp_path, tmp_path_factory) -> Path:
    """A sync project of five short clips, each with a proposal at +3 frames, and an annotator."""
    data = generate_sync(clips=5, seed=4, out=tmp_path_factory.mktemp("sync"), min_duration=2.0,
                         max_duration=2.4, size=64)
    with session_scope() as session:
        import_clips(session, "syncproj", "sync", data / "clips", data / "labels.csv")
        project = get_project(session, "syncproj")
        scores = {str(o): -abs(o - MODEL_OFFSET) / 10 for o in range(-15, 16)}
        proposals = [NewProposal(payload={"offset_frames": MODEL_OFFSET, "scores": scores,
                                          "curve": [[0.5, 0.4], [1.0, 0.7]]}, clip_id=clip.id, uncertainty=0.5)
                     for clip in session.exec(select(Clip))]
        write_proposals(session, project, "avst", "avst-test", proposals)
        create_user(session, "ann", Role.annotator, PASSWORD)
    return tmp_path


def _verdicts() -> list[Verdict]:
    with session_scope() as session:
        rows = session.exec(select(Verdict).where(Verdict.kind == VerdictKind.sync).order_by(Verdict.id)).all()
        session.expunge_all()
        return rows


def test_review_each_verdict_and_the_tolerance_study(log_in, page, streamlit_server, wait_for_app, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "ann", PASSWORD)
    page.get_by_role("link", name="Sync review").click()
    wait_for_app(page, text="What is this clip?")
    expect(page.get_by_text("0 of 5 clips reviewed · yours 0")).to_be_visible()
    # playback is asked to start by itself, or has (no click on the player)
    page.wait_for_function("() => [...document.querySelectorAll('video')].some(v => v.autoplay || v.currentTime > 0)",
                           timeout=20000)
    expect(page.get_by_text("Spectrogram of the clip as recorded")).to_be_visible()
    # , and . pause the player and step it one frame (1/25 s)
    page.locator("h1").click()
    for _ in range(3):
        page.keyboard.press(",")  # pauses it, three frames back (room to step forward at the clip's end)
    state = "() => [document.querySelector('video').currentTime, document.querySelector('video').paused]"
    before, paused = page.evaluate(state)
    page.keyboard.press(".")
    page.keyboard.press(".")
    after, still_paused = page.evaluate(state)
    assert paused and still_paused and after == pytest.approx(before + 2 / 25, abs=1e-3)

    # the player starts at the model's best offset; one step right plays +4
    slider = page.get_by_role("slider")
    expect(slider).to_have_attribute("aria-valuetext", str(MODEL_OFFSET))
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_for_app(page, text="In sync as played (+4 frames)")
    page.get_by_role("button", name="In sync as played (+4 frames)").click()
    wait_for_app(page, text="evident, in sync at +4 frames")
    expect(page.get_by_text("1 of 5 clips reviewed · yours 1")).to_be_visible()
    assert list((app_data / "cache" / "sync").glob("*_-4.mp4"))  # the cut that was played

    # the main button records the offset that was played, here the model's
    page.get_by_role("button", name=f"In sync as played (+{MODEL_OFFSET} frames)").click()
    wait_for_app(page, text=f"evident, in sync at +{MODEL_OFFSET} frames")
    page.get_by_role("button", name="In sync without correction (0 frames)").click()
    wait_for_app(page, text="evident, in sync.")
    page.get_by_role("button", name="Uniform or ambient sound").click()
    wait_for_app(page, text="uniform or ambient sound.")  # the saved note, not the button
    page.get_by_role("button", name="No sound or no visible source").click()
    wait_for_app(page, text="No clip left to review")

    rows = _verdicts()
    assert [(v.category.value, v.in_sync, v.offset_frames) for v in rows] == [
        ("evident", False, 4), ("evident", False, MODEL_OFFSET), ("evident", True, 0),
        ("uniform_ambient", None, None), ("no_source", None, None)]
    assert len({v.clip_id for v in rows}) == 5 and all(v.proposal_id for v in rows)

    page.get_by_text("Tolerance study").click()
    wait_for_app(page, text="Is this in sync?")
    page.get_by_role("button", name="Yes, in sync").click()
    wait_for_app(page, text="1 answers so far")
    page.get_by_role("button", name="No, out of sync").click()
    wait_for_app(page, text="2 answers so far")
    study = [v for v in _verdicts() if v.note == TOLERANCE_NOTE]
    assert [v.in_sync for v in study] == [True, False]
    assert all(-15 <= v.offset_frames <= 15 for v in study)


def _shown_clip(page) -> str:
    """The key of the clip the Sync review page shows (bold beside the player)."""
    page.get_by_text("What is this clip?").wait_for()
    return page.locator('[data-testid="stMain"] p strong').filter(has_text="_").first.inner_text()


def _next_clip(page, answered: str) -> str | None:
    """The clip shown after `answered` (None once the page says none is left), waiting out the rerun."""
    for _ in range(100):
        if page.get_by_text("No clip left to review").count():
            return None
        if page.get_by_text("What is this clip?").count():
            shown = _shown_clip(page)
            if shown != answered:
                return shown
        page.wait_for_timeout(100)
    raise AssertionError(f"the page still shows {answered} after its answer")


def test_two_annotators_are_never_shown_the_same_clip(log_in, page, browser, streamlit_server, wait_for_app,
                                                      app_data):
    with session_scope() as session:
        create_user(session, "bea", Role.annotator, PASSWORD)
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        second = other.new_page()
        seen = {"ann": [], "bea": []}
        for tab, name in ((page, "ann"), (second, "bea")):
            log_in(tab, url, name, PASSWORD)
            tab.get_by_role("link", name="Sync review").click()
            wait_for_app(tab, text="What is this clip?")
            seen[name].append(_shown_clip(tab))
        for _ in range(2):  # each answers; the next clips differ again
            for tab, name in ((page, "ann"), (second, "bea")):
                answered = seen[name][-1]
                tab.get_by_role("button", name="Uniform or ambient sound").click()
                wait_for_app(tab, text=f"Saved {answered}: uniform or ambient sound.")
                following = _next_clip(tab, answered)
                if following is not None:
                    seen[name].append(following)
    finally:
        other.close()
    shown = seen["ann"] + seen["bea"]
    assert len(shown) == 5 and len(set(shown)) == 5, seen  # five clips, none shown to both
    answered = {(v.user_id, v.clip_id) for v in _verdicts()}
    assert len(answered) == 4 and len({clip for _, clip in answered}) == 4
