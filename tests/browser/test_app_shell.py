"""Login, first admin, projects home, import & export, users: clicked through in chromium."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.models import Clip, Instance, Project, Role, User
from annotation_db.users import create_user
from core.synthetic.geo import generate_geo

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}


def _add_user(name: str, role: Role, password: str = "password123") -> None:
    with session_scope() as session:
        create_user(session, name, role, password)


def test_first_start_creates_the_first_admin(page, streamlit_server, wait_for_app, app_db):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    page.goto(url)
    wait_for_app(page, text="create the first admin account")
    page.get_by_label("Password", exact=True).fill("first-admin-pw")
    page.get_by_label("Repeat password").fill("first-admin-pw")
    page.get_by_role("button", name="Create admin and log in").click()
    wait_for_app(page, text="No projects yet")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    with session_scope() as session:
        admin = session.exec(select(User)).one()
    assert admin.name == "admin" and admin.role is Role.admin
    assert admin.password_hash.startswith("$2") and "first-admin-pw" not in admin.password_hash


def test_login_shows_projects_and_hides_researcher_pages_from_annotators(
        page, streamlit_server, wait_for_app, app_db):
    _add_user("ann", Role.annotator)
    with session_scope() as session:
        session.add(Project(name="birds", kind="localization"))
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    page.goto(url)
    wait_for_app(page, text="Log in")
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    wait_for_app(page, text="Unknown user name or wrong password")
    page.get_by_label("Password", exact=True).fill("password123")
    page.get_by_role("button", name="Log in").click()
    wait_for_app(page, text="Signed in as")
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.get_by_text("birds · localization")).to_be_visible()
    expect(page.get_by_role("link", name="Import & export")).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)


def test_import_page_reports_bad_input_then_imports(log_in, page, streamlit_server, wait_for_app,
                                                    app_db, tmp_path_factory):
    _add_user("rita", Role.researcher)
    boxes = tmp_path_factory.mktemp("vggss") / "boxes.json"
    boxes.write_text(json.dumps([
        {"file": "abc_000010", "class": "dog barking", "bbox": [[0.1, 0.1, 0.5, 0.6]]},
        {"file": "def_000020", "class": "cat", "bbox": [[0.1, 0.1, float("nan"), 0.6]]}]))
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    log_in(page, url, "rita", "password123")
    page.get_by_role("link", name="Import & export").click()
    wait_for_app(page, text="Import & export")
    page.get_by_role("tab", name="VGG-SS boxes").click()
    panel = page.get_by_role("tabpanel", name="VGG-SS boxes")
    panel.get_by_role("textbox", name="Project").fill("vggss-test")
    panel.get_by_label("VGG-SS JSON: path on the server").fill(str(boxes))
    panel.get_by_label("VGG-SS JSON: path on the server").press("Enter")
    panel.get_by_role("button", name="Import boxes").click()
    wait_for_app(page, text="Nothing was imported")
    expect(panel.get_by_text("non-finite")).to_be_visible()
    with session_scope() as session:
        assert session.exec(select(Clip)).all() == []
    panel.get_by_text("Skip unusable boxes").click()
    panel.get_by_role("button", name="Import boxes").click()
    wait_for_app(page, text="Imported 2 clips, 1 boxes into project 'vggss-test'")
    with session_scope() as session:
        assert sorted(c.key for c in session.exec(select(Clip))) == ["abc_000010", "def_000020"]

    tiles = generate_geo(kind="buildings", tiles=1, size=128, seed=3,
                         out=tmp_path_factory.mktemp("geo"))
    page.get_by_role("tab", name="Aerial tiles").click()
    panel = page.get_by_role("tabpanel", name="Aerial tiles")
    panel.get_by_role("textbox", name="Project").fill("town")
    panel.get_by_text("buildings", exact=True).click()
    panel.get_by_label("Rasters: a GeoTIFF or a folder").fill(str(tiles / "rasters"))
    panel.get_by_label("Annotations: path on the server").fill(str(tiles / "annotations.geojson"))
    panel.get_by_label("Annotations: path on the server").press("Enter")
    panel.get_by_role("button", name="Import tiles").click()
    wait_for_app(page, text="Imported 1 rasters")
    with session_scope() as session:
        town = session.exec(select(Project).where(Project.name == "town")).one()
        assert town.kind.value == "buildings"
        assert len(session.exec(select(Instance)).all()) > 0


def test_an_uploaded_file_is_imported_once_and_removed_after_its_import(
        log_in, page, streamlit_server, wait_for_app, app_db, tmp_path_factory):
    _add_user("rita", Role.researcher)
    boxes = tmp_path_factory.mktemp("upload") / "boxes.json"
    boxes.write_text(json.dumps([{"file": "abc_000010", "class": "dog barking", "bbox": [[0.1, 0.1, 0.5, 0.6]]}]))
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    log_in(page, url, "rita", "password123")
    page.get_by_role("link", name="Import & export").click()
    wait_for_app(page, text="Import & export")
    page.get_by_role("tab", name="VGG-SS boxes").click()
    panel = page.get_by_role("tabpanel", name="VGG-SS boxes")
    panel.get_by_role("textbox", name="Project").fill("uploaded")
    panel.get_by_role("textbox", name="Project").press("Enter")
    panel.locator("input[type=file]").set_input_files(str(boxes))
    expect(panel.get_by_text("boxes.json")).to_be_visible()
    stored = app_db / "uploads"
    deadline = time.monotonic() + 20
    while not list(stored.rglob("boxes.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(list(stored.rglob("boxes.json"))) == 1  # once, however often the page reruns
    panel.get_by_role("button", name="Import boxes").click()
    wait_for_app(page, text="Imported 1 clips, 1 boxes into project 'uploaded'")
    with session_scope() as session:
        assert [c.key for c in session.exec(select(Clip))] == ["abc_000010"]
    assert list(stored.iterdir()) == []
    panel.get_by_role("textbox", name="Project").fill("uploaded-2")  # the next run shows an empty uploader
    panel.get_by_role("textbox", name="Project").press("Enter")
    expect(panel.get_by_text("boxes.json")).to_have_count(0)


def test_an_oversize_upload_is_refused_with_the_limit_and_nothing_is_stored(
        log_in, page, streamlit_server, wait_for_app, app_db, tmp_path_factory):
    _add_user("rita", Role.researcher)
    big = tmp_path_factory.mktemp("big") / "boxes.json"
    big.write_bytes(b" " * (2 * 1024 * 1024))
    url = streamlit_server(MAIN, env={**NO_DEMO, "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "1"}, data_dir=app_db)
    log_in(page, url, "rita", "password123")
    page.get_by_role("link", name="Import & export").click()
    wait_for_app(page, text="Import & export")
    page.get_by_role("tab", name="VGG-SS boxes").click()
    panel = page.get_by_role("tabpanel", name="VGG-SS boxes")
    panel.locator("input[type=file]").set_input_files(str(big))
    expect(panel.get_by_text("1.0MB or smaller")).to_be_visible()
    expect(panel.get_by_role("button", name="Import boxes")).to_be_disabled()
    assert not (app_db / "uploads").exists() or not list((app_db / "uploads").rglob("*"))


def test_admin_adds_a_user(log_in, page, streamlit_server, wait_for_app, app_db):
    _add_user("boss", Role.admin)
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_db)
    log_in(page, url, "boss", "password123")
    page.get_by_role("link", name="Users").click()
    wait_for_app(page, text="Add a user")
    form = page.get_by_test_id("stForm")
    form.get_by_label("User name").fill("newbie")
    form.get_by_label("Password", exact=True).fill("newbie-password")
    form.get_by_role("button", name="Add user").click()
    wait_for_app(page, text="Added annotator 'newbie'")
    with session_scope() as session:
        user = session.exec(select(User).where(User.name == "newbie")).one()
    assert user.role is Role.annotator


@pytest.mark.slow
def test_first_start_seeds_the_five_demo_projects(page, streamlit_server, wait_for_app, app_db):
    url = streamlit_server(MAIN, data_dir=app_db)
    page.goto(url)
    wait_for_app(page, text="create the first admin account", timeout_ms=120_000)
    with session_scope() as session:
        names = {p.name for p in session.exec(select(Project))}
    assert names == {"demo-railway", "demo-buildings", "demo-localization", "demo-sync",
                     "demo-clip-verification"}
    page.get_by_label("Password", exact=True).fill("first-admin-pw")
    page.get_by_label("Repeat password").fill("first-admin-pw")
    page.get_by_role("button", name="Create admin and log in").click()
    wait_for_app(page, text="demo-railway · railway")
    for name in names:
        expect(page.get_by_text(name).first).to_be_visible()
