"""Undo of a person's own last verdict on a review page, the history kept.

Nothing is deleted: the verdict taken back keeps its row and content, its source becomes
"undone:<source>", and a marker row (source "undo", no answer, note "undo of verdict #N") records who
took it back and when. Neither counts as a verdict (verdicts.counted_verdict), so the person's earlier
verdict on that item, if any, is theirs again, and without one the item is to review again. The item is
reopened for that person: their completed lease on it becomes open again (the full lease), and the item
goes back into the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from annotation_db.assignment import lease_length, refresh_queue_open
from annotation_db.engine import session_scope
from annotation_db.models import Assignment, Instance, Project, User, Verdict, VerdictKind, utcnow
from annotation_db.projects import get_project
from annotation_db.users import get_user
from annotation_db.verdicts import UNDO, UNDONE, counted_verdict


@dataclass(frozen=True)
class Undone:
    """What an undo took back: the verdict, its item and the marker row."""

    verdict_id: int
    marker_id: int
    kind: str
    instance_id: int | None
    clip_id: int | None
    raster_id: int | None  # the tile of a geometry verdict


def last_verdict(session: Session, project: Project, user: User, kind: VerdictKind | str) -> Verdict | None:
    """The person's latest verdict of `kind` in the project that still counts (None if there is none)."""
    return session.exec(select(Verdict).where(
        Verdict.project_id == project.id, Verdict.user_id == user.id, Verdict.kind == VerdictKind(kind),
        counted_verdict()).order_by(Verdict.id.desc()).limit(1).with_for_update()).first()


def undo_verdict(session: Session, project: Project, user: User, kind: VerdictKind | str) -> Undone | None:
    """Take back the person's last verdict of `kind` and reopen its item for them; None if none is left."""
    verdict = last_verdict(session, project, user, kind)
    if verdict is None:
        return None
    now = utcnow()
    verdict.source = f"{UNDONE}:{verdict.source}"
    marker = Verdict(project_id=project.id, user_id=user.id, kind=verdict.kind, instance_id=verdict.instance_id,
                     clip_id=verdict.clip_id, source=UNDO, created_at=now, note=f"undo of verdict #{verdict.id}")
    session.add_all([verdict, marker])
    session.flush()
    raster_id = None
    if verdict.instance_id is not None:
        raster_id = session.get(Instance, verdict.instance_id).raster_id
    if verdict.kind in (VerdictKind.geometry, VerdictKind.sync, VerdictKind.boxes, VerdictKind.clip):
        _reopen(session, project, user, raster_id if raster_id is not None else verdict.clip_id, now)
    return Undone(verdict.id, marker.id, verdict.kind.value, verdict.instance_id, verdict.clip_id, raster_id)


def _reopen(session: Session, project: Project, user: User, item_id: int, now) -> None:
    """The person's completed lease on the item open again (if a slot is free), the item back in the queue."""
    column = Assignment.raster_id if project.kind.is_geo else Assignment.clip_id
    leases = session.exec(select(Assignment).where(column == item_id, Assignment.released_at.is_(None))
                          .order_by(Assignment.id.desc()).with_for_update()).all()
    if any(a.user_id == user.id and a.completed_at is None for a in leases):
        return  # still open: the item is theirs already
    done = next((a for a in leases if a.user_id == user.id and a.completed_at is not None), None)
    if done is not None:
        used = {a.slot for a in leases if a.completed_at is None}
        free = sorted(set(range(project.annotators_per_item)) - used)
        if free:
            done.completed_at, done.expires_at, done.slot = None, now + lease_length(), free[0]
            session.add(done)
            session.flush()
    refresh_queue_open(session, project, [item_id])


# ---- page service: ids and names in, plain values out, one transaction ----


def undo_last(project_name: str, user_id: int, kind: VerdictKind | str) -> Undone | None:
    """Undo the person's last verdict of `kind` in the named project; None when there is nothing to undo."""
    with session_scope(immediate=True) as session:
        return undo_verdict(session, get_project(session, project_name), get_user(session, user_id), kind)
