"""A new project written by an import in short transactions, hidden until the last one.

One write transaction for a big file holds SQLite's single write lock for seconds (2.5 s for the
51,580 entries of VGG-SS x10) and every annotator's click waits for it. Instead the project row is
made with `importing` set, which hides it from every listing and lookup, its rows are written a part
at a time, and a last short transaction shows it. An error removes what was written, so the import
is still all or nothing; a project left hidden by an importer that died is removed by the next
import of the same name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlmodel import Session, select

from annotation_db.engine import session_scope
from annotation_db.models import Clip, Project, ProjectKind, Verdict, as_utc, utcnow
from annotation_db.projects import ProjectError, check_project_name
from core.processes import is_alive, local_pid, process_name

if TYPE_CHECKING:
    from annotation_db.reports import ImportPlan, ImportReport

FOREIGN_IMPORT_TIMEOUT = timedelta(hours=6)  # a hidden project of another host's importer is abandoned after
WRITTEN_TABLES = (Verdict, Clip)  # what a staged import writes besides the project row, children first


def write_new_project(plan: ImportPlan) -> ImportReport:
    """Write `plan` (whose project is new) part by part, each part its own short transaction, then show
    the project; on any error remove what was written and raise."""
    with session_scope(immediate=True) as session:
        project_id = _hidden_project(session, plan.report.project, plan.new_project)
    try:
        for done, part in enumerate(plan.parts, start=1):
            with session_scope(immediate=True) as session:
                part(session, project_id)
            if plan.progress:
                plan.progress(done, len(plan.parts), "writing")
        with session_scope(immediate=True) as session:
            session.get(Project, project_id).importing = None
    except BaseException:
        with session_scope(immediate=True) as session:
            _remove(session, project_id)
        raise
    return plan.report


def _hidden_project(session: Session, name: str, kind: ProjectKind) -> int:
    """The id of a new hidden project `name` for this importer, after removing one that an importer which
    died left behind; ProjectError if the name is taken or another importer is writing it now."""
    project = session.exec(select(Project).where(Project.name == name)).first()
    if project is not None and not project.importing:
        raise ProjectError(f"project {name!r} was created meanwhile; import again to add to it")
    if project is not None and _importer_alive(project):
        raise ProjectError(f"project {name!r} is being imported by another process ({project.importing})")
    if project is not None:
        _remove(session, project.id)
    project = Project(name=check_project_name(name), kind=kind, importing=process_name())
    session.add(project)
    session.flush()
    return project.id


def _importer_alive(project: Project) -> bool:
    pid = local_pid(project.importing)
    if pid is None:  # another host's importer: cannot look, so trust it for a while
        return utcnow() - as_utc(project.created_at) < FOREIGN_IMPORT_TIMEOUT
    return is_alive(pid)


def _remove(session: Session, project_id: int) -> None:
    for table in WRITTEN_TABLES:
        session.execute(delete(table).where(table.project_id == project_id))
    session.execute(delete(Project).where(Project.id == project_id))
