"""Progress counts per project: items, proposals, verdicts by kind, per annotator."""

from __future__ import annotations

from sqlalchemy import distinct, func
from sqlmodel import Session, select

from annotation_db.engine import session_scope
from annotation_db.models import Clip, Instance, Project, Proposal, Raster, User, Verdict
from annotation_db.projects import get_project, list_projects
from annotation_db.verdicts import counted_verdict


def project_stats(session: Session, project: Project) -> dict:
    """Counts for one project (people's verdicts only; imported reference boxes counted apart)."""
    items = _item_counts(session, project)
    proposals = session.exec(select(func.count()).select_from(Proposal)
                             .where(Proposal.project_id == project.id)).one()
    human = (Verdict.project_id == project.id) & User.is_system.is_(False) & counted_verdict()
    by_kind = dict(session.exec(select(Verdict.kind, func.count()).join(User)
                                .where(human).group_by(Verdict.kind)).all())
    item_column = Verdict.instance_id if project.kind.is_geo else Verdict.clip_id
    reviewed = session.exec(select(func.count(distinct(item_column))).join(User)
                            .where(human)).one()
    per_user = session.exec(select(User.name, func.count(), func.count(distinct(item_column)))
                            .join(User).where(human).group_by(User.name)).all()
    reference = session.exec(select(func.count()).select_from(Verdict).join(User).where(
        (Verdict.project_id == project.id) & User.is_system.is_(True))).one()
    return {
        "project": project.name,
        "kind": project.kind.value,
        "items": items,
        "proposals": proposals,
        "verdicts": {kind.value: n for kind, n in by_kind.items()},
        "reference_verdicts": reference,
        "reviewed_items": reviewed,
        "review_target": items.get("instances", items.get("clips", 0)) * project.annotators_per_item,
        "annotators": {name: {"verdicts": n, "items": k} for name, n, k in per_user},
    }


def _item_counts(session: Session, project: Project) -> dict:
    if project.kind.is_geo:
        rasters = session.exec(select(func.count()).select_from(Raster)
                               .where(Raster.project_id == project.id)).one()
        instances = session.exec(select(func.count()).select_from(Instance)
                                 .where(Instance.project_id == project.id)).one()
        return {"rasters": rasters, "instances": instances}
    clips, playable = session.exec(select(func.count(), func.count(Clip.media_path))
                                   .where(Clip.project_id == project.id)).one()
    return {"clips": clips, "clips_with_media": playable}


def stats(session: Session, project: str | None = None) -> list[dict]:
    """Counts for one named project, or for every project."""
    projects = [get_project(session, project)] if project else list_projects(session)
    return [project_stats(session, p) for p in projects]


def read_stats(project: str | None = None) -> list[dict]:
    """Counts for one named project, or for every project, read in one transaction."""
    with session_scope() as session:
        return stats(session, project)
