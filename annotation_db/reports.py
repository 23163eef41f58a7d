"""What an import did: counts, repairs, refusals and warnings, in words a person can act on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from annotation_db.engine import session_scope
from annotation_db.models import ProjectKind
from annotation_db.staged_import import write_new_project
from core.errors import InputError

# progress(done, total, what) for progress bars in the app and the CLI
Progress = Optional[Callable[[int, int, str], None]]
MAX_LISTED = 20


@dataclass
class ImportReport:
    """The outcome of one import, printed by the CLI and shown by the import page."""

    project: str
    source: str
    created: Counter = field(default_factory=Counter)
    repaired: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    warnings: list[str] = field(default_factory=list)

    def refuse(self, problems: list[tuple[str, str]], skip_bad: bool, path: str) -> None:
        """Record refused parts with --skip-bad; otherwise stop the import with one InputError."""
        if not problems:
            return
        if not skip_bad:
            listed = "; ".join(f"{what}: {why}" for what, why in problems[:MAX_LISTED])
            more = f"; ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
            raise InputError(path, f"{len(problems)} problem(s): {listed}{more}. Nothing was "
                                   "imported; use --skip-bad to import the rest")
        self.refused.extend(problems)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"project": self.project, "source": self.source, "created": dict(self.created),
                "repaired": self.repaired, "refused": [{"what": w, "why": y} for w, y in self.refused],
                "warnings": self.warnings}

    @property
    def headline(self) -> str:
        """One line: what went into which project."""
        made = ", ".join(f"{n} {what}" for what, n in self.created.items()) or "nothing"
        return f"Imported {made} into project {self.project!r}"

    def summary(self) -> str:
        """A few lines for a terminal or a page."""
        lines = [f"{self.source}: {self.headline}"]
        lines += _listed("repaired", self.repaired)
        lines += _listed("refused", [f"{w}: {y}" for w, y in self.refused])
        lines += _listed("warning", self.warnings)
        return "\n".join(lines)


def _listed(label: str, items: list[str]) -> list[str]:
    shown = [f"  {label}: {item}" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        shown.append(f"  ... and {len(items) - MAX_LISTED} more {label} lines")
    return shown


@dataclass
class ImportPlan:
    """An import read and checked in full, ready to be written.

    `write(session, report)` adds the rows (bulk inserts) and their counts to the report in the caller's
    transaction; it may still refuse (e.g. everything already imported by someone else meanwhile) by
    raising. A plan that makes a new project (`new_project`, its kind) may also offer `parts`: the same
    rows as pieces `part(session, project_id)`, each written in a short transaction of its own while the
    project stays hidden (staged_import.py), with `progress(parts written, parts, "writing")` after each.
    """

    report: ImportReport
    write: Callable[[Session, ImportReport], None]
    new_project: Optional[ProjectKind] = None
    parts: list[Callable[[Session, int], None]] = field(default_factory=list)
    progress: Progress = None

    def apply(self, session: Session) -> ImportReport:
        """Write the plan in the caller's transaction; returns the report."""
        self.write(session, self.report)
        session.flush()
        return self.report


@contextmanager
def reading(session: Session | None) -> Iterator[Session]:
    """`session` if given (an import inside the caller's transaction), else a short read-only one."""
    if session is not None:
        yield session
        return
    with session_scope() as own:
        yield own


def planned(planner: Callable[..., ImportPlan]) -> Callable:
    """Mark an importer `f(session, *args)` as `planner(*args, session=session).apply(session)`.

    run_import() then calls the planner first, outside any write transaction (files parsed, media
    probed, everything checked), and holds the write lock only for the bulk write.
    """
    def mark(importer: Callable[..., ImportReport]) -> Callable[..., ImportReport]:
        importer.plan = planner
        return importer
    return mark


def run_import(importer: Callable[..., ImportReport], *args: Any) -> ImportReport:
    """Run an import (a function taking a session, then `args`); all of it is kept or none of it.

    A planned importer (see planned()) reads and checks its input first with no write transaction
    open, so annotators keep working meanwhile; then write_plan() stores it. On any error nothing is
    kept and the error is raised.
    """
    planner = getattr(importer, "plan", None)
    if planner is None:
        with session_scope(immediate=True) as session:
            return importer(session, *args)
    return write_plan(planner(*args))


def write_plan(plan: ImportPlan) -> ImportReport:
    """Store a checked plan: a new project in short transactions, hidden until done, if the plan has parts;
    else in one transaction."""
    if plan.new_project is not None and plan.parts:
        return write_new_project(plan)
    with session_scope(immediate=True) as session:
        return plan.apply(session)


def row_values(row: SQLModel) -> dict:
    """A new model object as the column values of a bulk insert (its defaults filled in, no id)."""
    return row.model_dump(exclude={"id"})


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict]) -> None:
    """Bulk INSERT of `rows` (column values) in the session's transaction (one executemany)."""
    if rows:
        session.connection().execute(insert(model.__table__), rows)

