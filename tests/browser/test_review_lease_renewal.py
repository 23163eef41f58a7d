"""An open review page keeps its short view lease without any click (renewed in a fragment of its own)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.models import Assignment, Role, as_utc, utcnow

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
VIEW_LEASE_S = 15  # renewed every 7.5 s (half of it)
ENV = {"SEED_DEMO": "0", "VIEW_LEASE_MINUTES": str(VIEW_LEASE_S / 60)}
PASSWORD = "password123"


@pytest.fixture
def app_data(buildings_tile) -> Path:
    """A buildings project of one 256 px tile with AutoCorrect proposals, and an annotator."""
    return buildings_tile("ann", Role.annotator)


def _leases() -> list[Assignment]:
    with session_scope() as session:
        rows = session.exec(select(Assignment).order_by(Assignment.id)).all()
        session.expunge_all()
        return rows


def test_an_idle_geometry_page_keeps_its_tile(log_in, page, streamlit_server, wait_for_app, app_data):
    url = streamlit_server(MAIN, env=ENV, data_dir=app_data)
    log_in(page, url, "ann", PASSWORD)
    page.get_by_role("link", name="Geometry review").click()
    wait_for_app(page, text="Tile tile_000.tif")
    [lease] = _leases()
    first_expiry = as_utc(lease.expires_at)
    assert first_expiry <= utcnow() + timedelta(seconds=VIEW_LEASE_S + 1)  # a view lease, not a full one
    page.wait_for_timeout((VIEW_LEASE_S + 10) * 1000)  # past the first view lease, no click
    [still] = _leases()
    assert still.id == lease.id and still.released_at is None and still.completed_at is None
    assert as_utc(still.expires_at) > utcnow()  # renewed while the page stayed open
    assert as_utc(still.expires_at) > first_expiry
