"""Projects: create, find and list."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from annotation_db.engine import session_scope
from annotation_db.models import Project, ProjectKind


class ProjectError(ValueError):
    """A project that does not exist, or exists with another kind."""


MAX_NAME_LENGTH = 64
NAME_RULE = (f"a project name has 1 to {MAX_NAME_LENGTH} characters: letters, digits, '-', '_' "
             "and '.' (not first)")
_SAFE_NAME = re.compile(rf"[A-Za-z0-9_-][A-Za-z0-9._-]{{0,{MAX_NAME_LENGTH - 1}}}")


def check_project_name(name: str) -> str:
    """`name` if it is safe for a new project (it becomes part of file names); ProjectError if not."""
    if not _SAFE_NAME.fullmatch(name):
        raise ProjectError(f"{name!r} is not allowed: {NAME_RULE}")
    return name


def get_project(session: Session, name: str) -> Project:
    """The project called `name`; ProjectError if there is none."""
    project = session.exec(select(Project).where(Project.name == name)).first()
    if project is None:
        raise ProjectError(f"no project named {name!r}")
    if project.importing:
        raise ProjectError(f"project {name!r} is still being imported")
    return project


def existing_project(session: Session, name: str, kind: ProjectKind | str) -> Project | None:
    """The project `name` if there is one (None if not, or if an import is still writing it as a new
    project); ProjectError if it has another kind."""
    kind = ProjectKind(kind)
    project = session.exec(select(Project).where(Project.name == name)).first()
    if project is not None and project.importing:
        return None
    if project is not None and project.kind != kind:
        raise ProjectError(f"project {name!r} is a {project.kind.value} project, not {kind.value}")
    return project


def ensure_project(session: Session, name: str, kind: ProjectKind | str, **fields) -> Project:
    """The project `name`, created with `kind` if new; ProjectError if it has another kind."""
    kind = ProjectKind(kind)
    project = session.exec(select(Project).where(Project.name == name)).first()
    if project is None:
        project = Project(name=check_project_name(name.strip()), kind=kind, **fields)
        session.add(project)
        session.flush()
    elif project.importing:
        raise ProjectError(f"project {name!r} is still being imported")
    elif project.kind != kind:
        raise ProjectError(f"project {name!r} is a {project.kind.value} project, not {kind.value}")
    return project


def list_projects(session: Session, *kinds: ProjectKind) -> list[Project]:
    """The projects (of `kinds`, if given), oldest first; not those an import is still writing."""
    query = select(Project).where(Project.importing.is_(None)).order_by(Project.id)
    return list(session.exec(query.where(Project.kind.in_(kinds)) if kinds else query))


def project_kinds() -> dict[str, str]:
    """{project name: kind} of every project, oldest first."""
    with session_scope() as session:
        return {project.name: project.kind.value for project in list_projects(session)}


SETTINGS = {"max_shift_m": "expected misalignment of a geo project's annotations, in metres (> 0)"}


def set_project_settings(session: Session, name: str, **values: float) -> dict:
    """Update a project's settings (names in SETTINGS); returns them all."""
    project = get_project(session, name)
    for key, value in values.items():
        if key not in SETTINGS:
            raise ProjectError(f"unknown project setting {key!r}; known: {', '.join(SETTINGS)}")
        if not float(value) > 0:
            raise ProjectError(f"{key} must be > 0, not {value}")
    project.settings = {**(project.settings or {}), **{k: float(v) for k, v in values.items()}}
    session.add(project)
    return dict(project.settings)
