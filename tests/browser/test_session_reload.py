"""A login survives a reload and a deep link (signed token in the URL), a review page keeps its item across a
reload; a forged token does not log in."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Assignment, Clip, Role
from annotation_db.projects import get_project
from annotation_db.proposals import NewProposal, write_proposals
from annotation_db.users import create_user
from core.synthetic.sync import generate_sync

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}


def test_reload_and_deep_link_stay_logged_in(log_in, page, streamlit_server, wait_for_app, app_db, browser):
    with session_scope() as session:
        create_user(session, "rita", Role.researcher, "password123")
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    log_in(page, url, "rita", "password123")
    assert "auth=" in page.url
    page.get_by_role("link", name="Import & export").click()
    wait_for_app(page, text="Import & export")
    page.wait_for_url("**/data?auth=*")

    page.reload()
    wait_for_app(page, text="Signed in as")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_role("heading", name="Import & export")).to_be_visible()  # the same page
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)

    deep_link = page.url
    other = browser.new_context()  # a new browser: the link alone logs in
    try:
        tab = other.new_page()
        tab.goto(deep_link)
        wait_for_app(tab, text="Signed in as")
        expect(tab.get_by_role("heading", name="Import & export")).to_be_visible()
    finally:
        other.close()

    page.get_by_role("button", name="Log out").click()
    wait_for_app(page, text="Log in")
    assert "auth=" not in page.url


def test_a_forged_token_shows_the_login_form(page, streamlit_server, wait_for_app, app_db):
    with session_scope() as session:
        create_user(session, "ann", Role.annotator, "password123")
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    page.goto(f"{url.rstrip('/')}/?auth=eyJ1IjogMSwgInQiOiAxfQ.forged")
    wait_for_app(page, text="Log in")
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def _open_leases(user_name: str) -> list[str]:
    """Keys of the clips `user_name` holds an open lease on."""
    with session_scope() as session:
        rows = session.exec(select(Clip.key).join(Assignment, Assignment.clip_id == Clip.id)
                            .where(Assignment.completed_at.is_(None), Assignment.released_at.is_(None))).all()
        return sorted(rows)


def test_a_reload_keeps_the_review_page_on_the_same_item(log_in, page, streamlit_server, wait_for_app, app_db,
                                                          tmp_path_factory):
    data = generate_sync(clips=4, seed=9, out=tmp_path_factory.mktemp("sync"), min_duration=2.0,
                         max_duration=2.4, size=64)
    with session_scope() as session:
        import_clips(session, "reloadsync", "sync", data / "clips", data / "labels.csv")
        project = get_project(session, "reloadsync")
        scores = {str(o): -abs(o) / 10 for o in range(-15, 16)}
        write_proposals(session, project, "avst", "avst-test",
                        [NewProposal(payload={"offset_frames": 0, "scores": scores}, clip_id=clip.id,
                                     uncertainty=0.1 * clip.id) for clip in session.exec(select(Clip))])
        create_user(session, "ann", Role.annotator, "password123")
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    log_in(page, url, "ann", "password123")
    page.get_by_role("link", name="Sync review").click()
    wait_for_app(page, text="What is this clip?")
    held = _open_leases("ann")
    assert len(held) == 1
    expect(page.get_by_text(held[0], exact=False).first).to_be_visible()

    page.reload()
    wait_for_app(page, text="What is this clip?")
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)
    expect(page.get_by_text(held[0], exact=False).first).to_be_visible()
    assert _open_leases("ann") == held  # the same item, no second lease taken
