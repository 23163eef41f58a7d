"""Work assignment: lease an item to one annotator at a time (or N, for consensus projects)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from annotation_db.models import (Assignment, Clip, Instance, Project, Raster, User, as_utc,
                                  utcnow)
from annotation_db.verdicts import latest_proposals
from core.config import get_settings


@dataclass(frozen=True)
class ClipInfo:
    """A clip to review as the pages show it (plain values, no ORM object)."""

    id: int
    key: str
    label: str | None
    media_path: str | None

    @classmethod
    def of(cls, clip: Clip) -> ClipInfo:
        """The plain view of a stored clip."""
        return cls(clip.id, clip.key, clip.label, clip.media_path)


def next_assignment(session: Session, project: Project, user: User,
                    now: datetime | None = None,
                    among: Collection[int] | None = None) -> Assignment | None:
    """The user's open lease, else a new lease on the most uncertain free item, else None.

    `among` limits the items to these ids (rasters or clips, e.g. a sample); the user's open
    leases outside it are handed back. Call inside `session_scope(immediate=True)` so two
    annotators cannot lease one item.
    """
    now = now or utcnow()
    lease = timedelta(minutes=get_settings().lease_minutes)
    leases = session.exec(select(Assignment).where(Assignment.project_id == project.id)).all()
    mine = [a for a in leases if a.user_id == user.id and a.completed_at is None
            and as_utc(a.expires_at) > now]
    if among is not None:
        for outside in [a for a in mine if _item(a) not in among]:
            outside.expires_at = now
            session.add(outside)
        mine = [a for a in mine if _item(a) in among]
    if mine:
        mine[0].expires_at = now + lease
        session.add(mine[0])
        return mine[0]
    done_by_me = {_item(a) for a in leases if a.user_id == user.id and a.completed_at}
    taken = Counter(_item(a) for a in leases if a.user_id != user.id
                    and (a.completed_at is not None or as_utc(a.expires_at) > now))
    for item in _items_by_uncertainty(session, project):
        if among is not None and item not in among:
            continue
        if item not in done_by_me and taken[item] < project.annotators_per_item:
            assignment = Assignment(project_id=project.id, user_id=user.id, expires_at=now + lease,
                                    **{_item_field(project): item})
            session.add(assignment)
            session.flush()
            return assignment
    return None


def complete_assignment(session: Session, assignment: Assignment) -> None:
    """Mark a leased item as done by its annotator."""
    assignment.completed_at = utcnow()
    session.add(assignment)


def _items_by_uncertainty(session: Session, project: Project) -> list[int]:
    """Item ids, most uncertain latest proposal first, then in import order."""
    proposals = latest_proposals(session, project.id)
    if project.kind.is_geo:
        owner = dict(session.exec(select(Instance.id, Instance.raster_id)
                                  .where(Instance.project_id == project.id)).all())
        ids = session.exec(select(Raster.id).where(Raster.project_id == project.id)).all()
        score: dict[int, float] = {}
        for instance_id, proposal in proposals.items():
            if proposal.uncertainty is not None:
                raster = owner[instance_id]
                score[raster] = max(score.get(raster, float("-inf")), proposal.uncertainty)
    else:
        ids = session.exec(select(Clip.id).where(Clip.project_id == project.id)).all()
        score = {cid: p.uncertainty for cid, p in proposals.items() if p.uncertainty is not None}
    return sorted(ids, key=lambda i: (i not in score, -score.get(i, 0.0), i))


def _item(assignment: Assignment) -> int:
    return assignment.raster_id if assignment.raster_id is not None else assignment.clip_id


def _item_field(project: Project) -> str:
    return "raster_id" if project.kind.is_geo else "clip_id"
