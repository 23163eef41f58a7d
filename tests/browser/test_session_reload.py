"""A login survives a reload and a deep link (signed token in the URL); a forged token does not log in."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from annotation_db.engine import session_scope
from annotation_db.models import Role
from annotation_db.users import create_user

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
