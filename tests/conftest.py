"""Shared fixtures: a fresh database per test, pointed to by DATABASE_URL.

`database` is SQLite unless a test asks for more: tests marked `@pytest.mark.both_databases` run once
on SQLite and once on PostgreSQL (a throwaway cluster on 127.0.0.1, started once per test run; each
test gets its own database, copied from a migrated template). Without PostgreSQL binaries the
PostgreSQL runs are skipped, except under CI=true, where they fail: CI installs PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from annotation_db.engine import get_engine
from core.config import get_settings

VGGSS_JSON = Path(__file__).resolve().parents[2] / "shared" / "data" / "vggss" / "vggss.json"
DATABASES = ("sqlite", "postgresql")
TEMPLATE = "migrated_template"
_numbers = itertools.count(1)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "both_databases: run the test on SQLite and on PostgreSQL "
                                       "(the `database` fixture's two params)")


def pytest_generate_tests(metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_databases") and "database" in metafunc.fixturenames:
        metafunc.parametrize("database", DATABASES, indirect=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    """A started throwaway PostgreSQL cluster with a migrated template database (one per test run)."""
    from annotation_db.migrate import upgrade_database
    from annotation_db.pgcluster import PostgresCluster, PostgresUnavailable

    try:
        cluster = PostgresCluster()
    except PostgresUnavailable as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI runs the PostgreSQL tests, but {missing}")
        pytest.skip(f"PostgreSQL tests skipped: {missing}")
    cluster.start()
    try:
        template = cluster.create_database(TEMPLATE)
        upgrade_database(template)
        get_engine(template).dispose()
        get_engine.cache_clear()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def database(request, tmp_path, monkeypatch) -> str:
    """A migrated, empty database (SQLite in tmp_path, or a fresh PostgreSQL one); returns its URL."""
    from annotation_db.migrate import upgrade_database

    kind = getattr(request, "param", "sqlite")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    if kind == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        name = f"test_{os.getpid()}_{next(_numbers)}"
        url = cluster.create_database(name, template=TEMPLATE)
    else:
        cluster, name = None, None
        url = f"sqlite:///{tmp_path / 'test.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    if cluster is None:
        upgrade_database(url)
    yield url
    get_engine().dispose()
    get_engine(url).dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
    if cluster is not None:
        cluster.drop_database(name)


@pytest.fixture
def session(database):
    """A session on the test database, committed at the end of the test."""
    from annotation_db.engine import session_scope

    with session_scope() as session:
        yield session
