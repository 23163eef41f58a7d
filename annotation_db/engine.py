"""Engines and sessions; SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL uses psycopg 3."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from core.config import get_settings


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the configured DATABASE_URL), created once per process."""
    url = url or get_settings().database_url
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):  # plain postgresql:// means psycopg 3 here
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    _configure_sqlite(engine, get_settings().sqlite_busy_timeout_ms)
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN so write transactions can take the lock early.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # A claim (read then write) takes the write lock up front with BEGIN IMMEDIATE, so two
        # claimers queue on busy_timeout instead of both reading the same free row.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_postgres(session_or_engine) -> bool:
    """Whether a session (or engine / connection) talks to PostgreSQL."""
    bind = session_or_engine.get_bind() if hasattr(session_or_engine, "get_bind") else session_or_engine
    return bind.dialect.name == "postgresql"


@contextmanager
def session_scope(url: str | None = None, immediate: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error.

    Use `immediate=True` for every session that reads and then writes (claims, saves): on SQLite a
    deferred session whose read snapshot went stale fails its first write at once, busy_timeout or not.
    On PostgreSQL `immediate` changes nothing: claims and saves there lock the rows they change
    (SELECT ... FOR UPDATE [SKIP LOCKED]) and rely on the schema's unique indexes.
    """
    engine = get_engine(url)
    turn = _writer_turn(engine) if immediate else None
    if immediate:
        engine = engine.execution_options(sqlite_immediate=True)
    try:
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if turn is not None:
            os.close(turn)  # closing the file gives the turn to the next writer


def _writer_turn(engine: Engine) -> int | None:
    """Wait for this SQLite file's turn to write; returns the lock file to close when done (else None).

    Immediate sessions of every process queue on an flock of `<database>-writers.lock` before BEGIN
    IMMEDIATE. The kernel wakes the next writer the moment the previous one closes the file, where
    SQLite's own busy handler polls with growing sleeps (up to 100 ms each), which lets a loser of
    several races wait for seconds. Waiting longer than SQLITE_BUSY_TIMEOUT_MS raises "database is
    locked", as SQLite would.
    """
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    lock = os.open(f"{engine.url.database}-writers.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return lock
    except BlockingIOError:
        pass
    got, state = threading.Event(), {"abandoned": False}
    guard = threading.Lock()

    def wait() -> None:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with guard:
            if state["abandoned"]:
                os.close(lock)
            else:
                got.set()

    threading.Thread(target=wait, daemon=True, name="sqlite-writer-turn").start()
    if got.wait(get_settings().sqlite_busy_timeout_ms / 1000):
        return lock
    with guard:
        if got.is_set():
            return lock
        state["abandoned"] = True  # the waiting thread closes the file once it gets the lock
    raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
