"""Shared fixtures: a fresh database per test, pointed to by DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotation_db.engine import get_engine
from core.config import get_settings

VGGSS_JSON = Path(__file__).resolve().parents[2] / "shared" / "data" / "vggss" / "vggss.json"


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    """A migrated, empty SQLite database in tmp_path; returns its URL."""
    from annotation_db.migrate import upgrade_database

    url = f"sqlite:///{tmp_path / 'test.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade_database(url)
    yield url
    get_engine(url).dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def session(database):
    """A session on the test database, committed at the end of the test."""
    from annotation_db.engine import session_scope

    with session_scope() as session:
        yield session
