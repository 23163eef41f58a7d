"""Model versions as the Jobs page shows them: which projects a family serves, versions side by side, promotion."""

from __future__ import annotations

from annotation_db.engine import session_scope
from annotation_db.projects import get_project, list_projects
from annotation_db.users import get_user
from training.comparison import headline_row, parent_vs_child
from training.families import family_for_kind, get_family
from training.registry import promote_version, versions_of


def projects_served(family: str) -> list[str]:
    """Names of the projects a family proposes for, oldest first."""
    with session_scope() as session:
        return [p.name for p in list_projects(session) if p.kind.value in get_family(family).project_kinds]


def version_table(family: str) -> list[dict]:
    """Every version of a family, newest first: its headline row plus "parent_vs_child" rows."""
    with session_scope() as session:
        return [{**headline_row(v), "parent_vs_child": parent_vs_child(v)} for v in versions_of(session, family)]


def promote(user_id: int, project: str, version_id: int) -> int:
    """Make a version a project's active model on a researcher's behalf; returns the predict job's id."""
    with session_scope(immediate=True) as session:
        return promote_version(session, get_user(session, user_id), get_project(session, project), version_id).id


def project_versions(project: str) -> list[dict]:
    """The versions of a project's family that serve it (its own and the bundled ones), newest first,
    with the active one marked and each one's self-check score where it has one."""
    with session_scope() as session:
        target = get_project(session, project)
        family = family_for_kind(target.kind.value)
        if family is None:
            raise ValueError(f"no model family serves {project!r} ({target.kind.value})")
        rows = []
        for version in versions_of(session, family.name):
            if version.project_id not in (None, target.id):
                continue
            metrics = version.metrics or {}
            check = (metrics.get("self_check") or {}).get("child")
            rows.append({**{k: v for k, v in headline_row(version).items() if v is not None},
                         "active": version.id == target.active_model_version_id,
                         "adapted": bool(metrics.get("adapted")), "activated": metrics.get("activated"),
                         "self_check": None if check is None else check.get("score")})
        return rows
