"""Progress of one review queue for the review pages: "n of m, yours k", and what is left of it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, func, or_
from sqlmodel import Session, select

from annotation_db.engine import session_scope
from annotation_db.models import Clip, Instance, Project, User, Verdict, VerdictKind
from annotation_db.projects import get_project
from annotation_db.sync_review import TOLERANCE_NOTE
from annotation_db.verdicts import counted_verdict

QUEUES = ("geometry", "boxes", "sound", "sync")


@dataclass(frozen=True)
class QueueProgress:
    """m items in the queue, n of them with a person's verdict, k of them with this user's."""

    total: int
    done: int
    mine: int

    @property
    def share(self) -> float:
        """done / total in [0, 1] (0 for an empty queue)."""
        return self.done / self.total if self.total else 0.0

    def text(self, noun: str) -> str:
        """E.g. '12 of 78 instances reviewed · yours 5'."""
        return f"{self.done} of {self.total} {noun} · yours {self.mine}"


def _items(session: Session, project: Project, queue: str):
    """The select of the queue's item ids: instances (geometry), clips with media, boxed clips (sound)."""
    if queue == "geometry":
        return select(Instance.id).where(Instance.project_id == project.id)
    if queue == "sound":  # stage 3 asks about clips with people's boxes (not "cannot be localised")
        return (select(Verdict.clip_id).join(User, User.id == Verdict.user_id).join(Clip, Clip.id == Verdict.clip_id)
                .where(Verdict.project_id == project.id, Verdict.kind == VerdictKind.boxes,
                       User.is_system.is_(False), Verdict.cannot_localise.is_not(True), counted_verdict(),
                       Clip.media_path.is_not(None)).distinct())
    return select(Clip.id).where(Clip.project_id == project.id, Clip.media_path.is_not(None))


def queue_progress(session: Session, project: Project, user_id: int, queue: str) -> QueueProgress:
    """How far the project's `queue` (one of QUEUES) is: items, items with a person's verdict, with this user's."""
    if queue not in QUEUES:
        raise ValueError(f"unknown review queue {queue!r}; one of {', '.join(QUEUES)}")
    items = _items(session, project, queue).subquery()
    item_column = Verdict.instance_id if queue == "geometry" else Verdict.clip_id
    kind = VerdictKind.boxes if queue == "boxes" else VerdictKind(queue)
    condition = [Verdict.project_id == project.id, Verdict.kind == kind, counted_verdict(),
                 User.is_system.is_(False), item_column.in_(select(items.c[0]))]
    if queue == "sync":  # tolerance-study answers are about random offsets, not the review of a clip
        condition.append(or_(Verdict.note.is_(None), Verdict.note != TOLERANCE_NOTE))
    total = session.exec(select(func.count()).select_from(items)).one()
    counted = select(func.count(distinct(item_column))).join(User, User.id == Verdict.user_id).where(*condition)
    done = session.exec(counted).one()
    mine = session.exec(counted.where(Verdict.user_id == user_id)).one()
    return QueueProgress(total, done, mine)


def review_progress(project_name: str, user_id: int, queue: str) -> QueueProgress:
    """queue_progress() of the named project, read in one transaction."""
    with session_scope() as session:
        return queue_progress(session, get_project(session, project_name), user_id, queue)


def sound_checks_left(project_name: str, user_id: int, limit: int = 3) -> list[tuple[int, str]]:
    """(clip id, media path) of the next `limit` boxed clips this user has not checked, in the order the
    sound check asks them (lowest clip id first), so that the page can prepare their media ahead."""
    with session_scope() as session:
        project = get_project(session, project_name)
        boxed = _items(session, project, "sound").subquery()
        answered = select(Verdict.clip_id).where(Verdict.project_id == project.id, Verdict.kind == VerdictKind.sound,
                                                 Verdict.user_id == user_id, Verdict.clip_id.is_not(None),
                                                 counted_verdict())
        rows = session.exec(select(Clip.id, Clip.media_path).where(Clip.id.in_(select(boxed.c[0])),
                                                                    Clip.id.not_in(answered))
                            .order_by(Clip.id).limit(limit)).all()
        return [(clip_id, path) for clip_id, path in rows]
