"""Work assignment: lease an item to one annotator at a time (or N, for consensus projects).

A claim holds on both databases:

- SQLite: claims and saves run in short `BEGIN IMMEDIATE` transactions
  (`session_scope(immediate=True)`), so they take turns on the write lock.
- PostgreSQL: the next free item is read with `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent
  claimers lock different items instead of queueing on one; then the item's leases are locked.
- Both: an open lease holds one of its item's `annotators_per_item` slots, and a partial unique index
  on (item, slot) of open leases refuses a second one (a claim that loses that race takes the next
  item). A one-annotator item has slot 0 only: two open leases on it cannot exist.

A claim costs the same on a project of any size: the next item comes from the index
(project_id, queue_open, queue_rank, id) of rasters / clips, which is kept current when proposals
are written (models.refresh_queue_ranks) and when leases are completed; nothing loads the project.

A lease starts with the first action, not with a page view: a claim (a page showing the item) holds
it for the short view lease only (VIEW_LEASE_MINUTES, renewed on each claim while the page is open),
and the first save on it (hold_lease) extends it to the full lease (LEASE_MINUTES). A renewal never
shortens a lease.

A lease that expired stays its annotator's until someone else claims the item; that claim releases
it, and a save on a released lease is refused with ItemReassigned, the database unchanged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Session, select

from annotation_db.engine import is_postgres
from annotation_db.models import Assignment, Clip, Project, Raster, User, as_utc, utcnow
from annotation_db.verdicts import VerdictError
from core.config import get_settings

LEASE_REASSIGNED = "this item was reassigned; your answer was not saved"


class ItemReassigned(VerdictError):
    """A save on a lease that expired and went to someone else; nothing was stored."""

    def __init__(self, message: str = LEASE_REASSIGNED) -> None:
        super().__init__(message)


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
    """The user's open lease (renewed), else a new lease on the most uncertain free item, else None.

    A new lease lasts the short view lease; a renewal keeps it at least that long (a full lease,
    started by a save, stays full). `among` limits the items to these ids (rasters or clips, e.g. a sample); the user's open
    leases outside it are handed back. Call inside `session_scope(immediate=True)`.
    """
    now = now or utcnow()
    until = now + view_lease_length()
    mine = _open_leases(session, project, user)
    if among is not None:
        among = set(among)
        for outside in [a for a in mine if _item(a) not in among]:
            _release(session, outside, now)
        mine = [a for a in mine if _item(a) in among]
    for lease in mine:
        if _set_open_lease(session, lease, expires_at=max(as_utc(lease.expires_at), until)):
            return lease
    tried: set[int] = set()
    while (item := _next_free_item(session, project, user, now, among, tried)) is not None:
        tried.add(item.id)
        assignment = _take(session, project, user, item.id, now, until)
        if assignment is not None:
            return assignment
    return None


def lease_length() -> timedelta:
    """How long a lease lasts once its annotator saved on it (LEASE_MINUTES); each save renews it."""
    return timedelta(minutes=get_settings().lease_minutes)


def view_lease_length() -> timedelta:
    """How long a page view holds an item before any save (VIEW_LEASE_MINUTES); each claim renews it."""
    return timedelta(minutes=get_settings().view_lease_minutes)


def complete_assignment(session: Session, assignment: Assignment, now: datetime | None = None) -> None:
    """Mark a leased item as done by its annotator; the item leaves the queue once enough are done."""
    assignment.completed_at = now or utcnow()
    session.add(assignment)
    session.flush()
    project = session.get(Project, assignment.project_id)
    if project.annotators_per_item == 1:  # done: no need to count
        model, _ = _queue_of(project)
        session.execute(update(model).where(model.id == _item(assignment)).values(queue_open=False),
                        execution_options={"synchronize_session": False})
    else:
        refresh_queue_open(session, project, [_item(assignment)])


def release_assignment(session: Session, assignment: Assignment, now: datetime | None = None) -> bool:
    """Hand an open lease back without a verdict; False if it was no longer open."""
    return _release(session, assignment, now or utcnow())


def hold_lease(session: Session, project: Project, user: User, item_id: int,
               assignment_id: int | None = None, now: datetime | None = None) -> Assignment | None:
    """Before a verdict on `item_id` is stored: check the item is still this user's, and lock it.

    Starts the full lease: an open lease (a view lease, or a full one past its half) is extended to
    LEASE_MINUTES from now. Returns the user's lease on the item, or None when the user never had one
    (verdicts without leases, e.g. revisits). Raises ItemReassigned when the user's lease (the one
    given, or their latest on the item) expired and was released to someone else; VerdictError when
    `assignment_id` is not a lease of this user on this item.
    """
    now = now or utcnow()
    model, column = _queue_of(project)
    _keep(session, session.exec(select(model).where(model.id == item_id).with_for_update()  # claims' lock order
                                .execution_options(populate_existing=True)).first())
    leases = session.exec(select(Assignment).where(column == item_id, Assignment.user_id == user.id)
                          .order_by(Assignment.id.desc()).with_for_update()
                          .execution_options(populate_existing=True)).all()
    if assignment_id is not None:
        chosen = next((a for a in leases if a.id == assignment_id), None)
        if chosen is None:
            raise VerdictError(f"lease {assignment_id} is not {user.name}'s lease on item {item_id}")
    else:
        chosen = (next((a for a in leases if a.completed_at is None and a.released_at is None), None)
                  or next((a for a in leases if a.completed_at is not None), None)
                  or next(iter(leases), None))
    if chosen is None:
        return None
    if chosen.released_at is not None:
        raise ItemReassigned()
    if chosen.completed_at is None and as_utc(chosen.expires_at) < now + lease_length() / 2:
        _set_open_lease(session, chosen, expires_at=now + lease_length())  # still working on it: keep it
    return chosen


def refresh_queue_open(session: Session, project: Project, item_ids: Collection[int] | None = None) -> None:
    """queue_open of these items (all of the project's if None): fewer completed leases than needed."""
    model, column = _queue_of(project)
    done = select(func.count()).select_from(Assignment).where(
        column == model.id, Assignment.completed_at.is_not(None)).correlate(model).scalar_subquery()
    query = update(model).where(model.project_id == project.id)
    if item_ids is not None:
        query = query.where(model.id.in_(list(item_ids)))
    session.execute(query.values(queue_open=done < project.annotators_per_item),
                    execution_options={"synchronize_session": False})


def _open_leases(session: Session, project: Project, user: User) -> list[Assignment]:
    return list(session.exec(select(Assignment).where(
        Assignment.user_id == user.id, Assignment.project_id == project.id,
        Assignment.completed_at.is_(None), Assignment.released_at.is_(None)).order_by(Assignment.id)
        .execution_options(populate_existing=True)))


def _set_open_lease(session: Session, lease: Assignment, **values) -> bool:
    """Change a lease only while it is open (a concurrent claim may just have released it)."""
    changed = session.execute(update(Assignment).where(
        Assignment.id == lease.id, Assignment.completed_at.is_(None), Assignment.released_at.is_(None))
        .values(**values), execution_options={"synchronize_session": "fetch"}).rowcount
    if not changed:
        session.refresh(lease)
    return bool(changed)


def _release(session: Session, lease: Assignment, now: datetime) -> bool:
    return _set_open_lease(session, lease, released_at=now)


def _next_free_item(session: Session, project: Project, user: User, now: datetime,
                    among: set[int] | None, tried: set[int]) -> Raster | Clip | None:
    """The first item in queue order that has room and is not this user's: one index walk.

    On PostgreSQL the row is locked (FOR UPDATE SKIP LOCKED): concurrent claimers skip it.
    """
    model, column = _queue_of(project)
    held = select(func.count()).select_from(Assignment).where(
        column == model.id, Assignment.released_at.is_(None),
        or_(Assignment.completed_at.is_not(None), Assignment.expires_at > now)).correlate(model).scalar_subquery()
    mine = exists().where(column == model.id, Assignment.user_id == user.id,
                          Assignment.released_at.is_(None)).correlate(model)
    query = select(model).where(model.project_id == project.id, model.queue_open == True,  # noqa: E712
                                   held < project.annotators_per_item, ~mine)
    if among is not None:
        if not among:
            return None
        query = query.where(model.id.in_(sorted(among)))
    if tried:
        query = query.where(model.id.not_in(sorted(tried)))
    query = query.order_by(model.queue_rank, model.id).limit(1).with_for_update(skip_locked=True, of=model)
    return _keep(session, session.exec(query.execution_options(populate_existing=True)).first())


def _keep(session: Session, row):
    """Hold a locked row for the rest of the transaction: the identity map only holds rows weakly, and
    the pages read the item again (session.get), which then costs no query."""
    if row is not None:
        session.info.setdefault("locked_rows", []).append(row)
    return row


def _take(session: Session, project: Project, user: User, item_id: int, now: datetime,
          until: datetime) -> Assignment | None:
    """Lease `item_id` to the user if it still has room, releasing expired leases that are in the way."""
    _, column = _queue_of(project)
    leases = session.exec(select(Assignment).where(column == item_id, Assignment.released_at.is_(None))
                          .order_by(Assignment.id).with_for_update()
                          .execution_options(populate_existing=True)).all()
    if any(a.user_id == user.id for a in leases):
        return None
    completed = [a for a in leases if a.completed_at is not None]
    open_ = [a for a in leases if a.completed_at is None]
    live = [a for a in open_ if as_utc(a.expires_at) > now]
    places = project.annotators_per_item
    if len(completed) + len(live) >= places:
        return None
    expired = sorted((a for a in open_ if as_utc(a.expires_at) <= now), key=lambda a: as_utc(a.expires_at))
    in_the_way = expired[:max(len(completed) + len(open_) + 1 - places, 0)]
    used = {a.slot for a in open_ if a not in in_the_way}
    slot = min(set(range(places)) - used)  # completed + open stay below places: one is free
    values = dict(project_id=project.id, user_id=user.id, leased_at=now, expires_at=until, slot=slot,
                  **{column.key: item_id})
    for stale in in_the_way:
        if not _release(session, stale, now):  # it changed under us (PostgreSQL): next item
            return None
    if not is_postgres(session):  # SQLite: the claim holds the write lock (BEGIN IMMEDIATE), no race
        assignment = Assignment(**values)
        session.add(assignment)
        session.flush()
        return assignment
    # a concurrent claim may have taken the slot since our snapshot: the unique index says so, and
    # ON CONFLICT DO NOTHING turns that into "no row" (try the next item) without a savepoint
    taken = pg_insert(Assignment).values(**values).on_conflict_do_nothing(
        index_elements=[column.key, "slot"],
        index_where=and_(column.is_not(None), Assignment.completed_at.is_(None),
                         Assignment.released_at.is_(None))).returning(Assignment)
    return session.scalars(taken, execution_options={"populate_existing": True}).first()


def _queue_of(project: Project):
    """(item table, the assignments column naming it) of a project."""
    return (Raster, Assignment.raster_id) if project.kind.is_geo else (Clip, Assignment.clip_id)


def _item(assignment: Assignment) -> int:
    return assignment.raster_id if assignment.raster_id is not None else assignment.clip_id


def _item_field(project: Project) -> str:
    return "raster_id" if project.kind.is_geo else "clip_id"
