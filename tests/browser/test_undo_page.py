"""Undo on the geometry review page: accept, undo, the instance is to review again and both rows stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.models import Role, Verdict, VerdictKind
from annotation_db.projects import get_project
from annotation_db.verdicts import latest_verdicts

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}
PASSWORD = "password123"


@pytest.fixture
def app_data(buildings_tile) -> Path:
    """A buildings project of one 256 px tile with AutoCorrect proposals, and an annotator."""
    return buildings_tile("ann", Role.annotator)


def _geometry_rows() -> list[tuple[int, str | None, str]]:
    with session_scope() as session:
        return [(v.instance_id, v.action.value if v.action else None, v.source) for v in session.exec(
            select(Verdict).where(Verdict.kind == VerdictKind.geometry).order_by(Verdict.id))]


def _shown_instance(page) -> str:
    boxes = page.get_by_role("combobox", name="Instance")
    for _ in range(100):
        values = [boxes.nth(i).input_value() for i in range(boxes.count())]
        if len(values) == 1:
            return values[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"the instance dropdown shows {values}")


def test_accept_then_undo_puts_the_instance_back_to_review_and_keeps_both_rows(
        log_in, page, streamlit_server, wait_for_app, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "ann", PASSWORD)
    page.get_by_role("link", name="Geometry review").click()
    wait_for_app(page, text="Tile tile_000.tif")
    first = _shown_instance(page).split()[0]
    page.get_by_role("button", name="Accept correction").click()
    wait_for_app(page, text="accepted.")
    assert _geometry_rows() == [(int(first[1:]), "accepted", "app")]

    page.locator("h1").click()  # focus on the page, not on a widget
    page.keyboard.press("u")
    wait_for_app(page, text="Undid your verdict")
    shown = _shown_instance(page)
    assert shown.split()[0] == first and "to review" in shown  # the undone instance, selected again
    rows = _geometry_rows()
    assert rows == [(int(first[1:]), "accepted", "undone:app"), (int(first[1:]), None, "undo")]
    with session_scope() as session:
        assert latest_verdicts(session, get_project(session, "blocks").id, VerdictKind.geometry) == {}

    page.get_by_role("button", name="Undo").click()  # nothing more of hers to undo
    wait_for_app(page, text="Nothing of yours to undo")
    assert len(_geometry_rows()) == 2
