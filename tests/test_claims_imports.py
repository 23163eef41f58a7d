"""Imports read and check everything before they write, and keep all or nothing, on SQLite and on
PostgreSQL; a new project is written in short transactions, hidden until the last."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from annotation_db import reports
from annotation_db.engine import session_scope
from annotation_db.import_vggss import import_vggss
from annotation_db.models import Clip, Project, Role, User, Verdict
from annotation_db.reports import run_import
from annotation_db.users import create_user
from core.errors import InputError

pytestmark = pytest.mark.both_databases


def _boxes_file(tmp_path, entries: int, bad: int | None = None) -> str:
    rows = [{"file": f"clip{i:04d}_000000", "class": "dog", "bbox": [[0.1, 0.1, 0.5, 0.5]]}
            for i in range(entries)]
    if bad is not None:
        rows[bad]["bbox"] = [[0.1, 0.1, 1e9, 0.5]]
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps(rows))
    return str(path)


def _counts() -> tuple[int, int, int]:
    with session_scope() as session:
        return tuple(len(session.exec(select(model)).all()) for model in (Project, Clip, Verdict))


def test_others_can_write_while_an_import_reads_its_input(database, tmp_path, monkeypatch):
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "200")  # a held write lock would fail the write below
    from annotation_db.engine import get_engine
    from core.config import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    path = _boxes_file(tmp_path, 600)
    during = []

    def progress(done: int, total: int, what: str) -> None:
        if not during:  # the import is reading and checking: an annotator saves meanwhile
            with session_scope(immediate=True) as session:
                during.append(create_user(session, "ann", Role.annotator, "password1").id)

    report = run_import(import_vggss, "vggss", path, None, False, progress)
    assert during and report.created["clips"] == 600 and report.created["boxes"] == 600
    assert _counts() == (1, 600, 600)
    with session_scope() as session:
        assert session.exec(select(User.name).where(User.id == during[0])).one() == "ann"


def test_a_refused_input_writes_nothing(database, tmp_path):
    with pytest.raises(InputError, match="clip0007_000000"):
        run_import(import_vggss, "vggss", _boxes_file(tmp_path, 20, bad=7))
    assert _counts() == (0, 0, 0)


def test_a_failure_in_the_middle_of_the_write_keeps_nothing(database, tmp_path, monkeypatch):
    calls = []
    real = reports.insert_rows

    def failing(session, model, rows):
        real(session, model, rows)
        calls.append(model.__name__)
        if model is Verdict:  # the clips are in, the boxes too: then the disk fills up
            raise OSError("disk full")

    monkeypatch.setattr("annotation_db.import_vggss.insert_rows", failing)
    with pytest.raises(OSError, match="disk full"):
        run_import(import_vggss, "vggss", _boxes_file(tmp_path, 50))
    assert calls == ["Clip", "Verdict"]
    assert _counts() == (0, 0, 0)
    monkeypatch.setattr("annotation_db.import_vggss.insert_rows", real)
    again = run_import(import_vggss, "vggss", _boxes_file(tmp_path, 50))
    assert again.created["clips"] == 50 and _counts() == (1, 50, 50)
    twice = run_import(import_vggss, "vggss", _boxes_file(tmp_path, 55))
    assert twice.created["clips"] == 5 and _counts() == (1, 55, 55)
    assert sum("already in the project" in w for w in twice.warnings) == 50


def test_a_new_project_is_written_in_short_transactions_and_hidden_until_the_last(database, tmp_path,
                                                                                 monkeypatch):
    from annotation_db.projects import ProjectError, get_project, list_projects

    monkeypatch.setattr("annotation_db.import_vggss.PART_ROWS", 10)
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "200")  # a write lock held across parts would fail the write below
    from annotation_db.engine import get_engine
    from core.config import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    seen = []

    def progress(done: int, total: int, what: str) -> None:
        if what != "writing" or done == total:
            return
        with session_scope(immediate=True) as session:  # between two parts: others write, and see nothing
            create_user(session, f"ann{done}", Role.annotator, "password1")
            with pytest.raises(ProjectError, match="still being imported"):
                get_project(session, "vggss")
            seen.append((done, [p.name for p in list_projects(session)]))

    report = run_import(import_vggss, "vggss", _boxes_file(tmp_path, 45), None, False, progress)
    assert report.created["clips"] == 45 and _counts() == (1, 45, 45)
    assert seen == [(1, []), (2, []), (3, []), (4, [])]  # after each of the 5 parts but the last
    with session_scope() as session:
        assert get_project(session, "vggss").importing is None
        assert len(session.exec(select(User)).all()) == 4 + 1  # the four annotators and the reference user


def test_a_failing_part_removes_the_parts_before_it(database, tmp_path, monkeypatch):
    monkeypatch.setattr("annotation_db.import_vggss.PART_ROWS", 10)
    real, parts = reports.insert_rows, []

    def failing(session, model, rows):
        parts.append(model.__name__)
        if len(parts) == 6:  # the verdicts of the third part
            raise OSError("disk full")
        real(session, model, rows)

    monkeypatch.setattr("annotation_db.import_vggss.insert_rows", failing)
    with pytest.raises(OSError, match="disk full"):
        run_import(import_vggss, "vggss", _boxes_file(tmp_path, 50))
    assert _counts() == (0, 0, 0)


def test_a_project_left_hidden_by_a_dead_importer_is_replaced_and_a_live_one_is_left_alone(database, tmp_path):
    import subprocess
    import sys

    from annotation_db.models import ProjectKind
    from annotation_db.projects import ProjectError, existing_project
    from core.processes import process_name

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = process_name().rpartition(":")[0]
    with session_scope() as session:
        session.add(Project(name="vggss", kind=ProjectKind.localization, importing=f"{host}:{dead.pid}"))
        session.add(Project(name="busy", kind=ProjectKind.localization, importing=process_name()))
    with session_scope() as session:
        assert existing_project(session, "vggss", ProjectKind.localization) is None
    report = run_import(import_vggss, "vggss", _boxes_file(tmp_path, 12))
    assert report.created["clips"] == 12
    with pytest.raises(ProjectError, match="being imported by another process"):
        run_import(import_vggss, "busy", _boxes_file(tmp_path, 12))
    with session_scope() as session:
        names = {p.name: p.importing for p in session.exec(select(Project))}
    assert names == {"vggss": None, "busy": process_name()}
