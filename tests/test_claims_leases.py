"""Leases under concurrency, on SQLite and on PostgreSQL: one annotator per one-annotator item, saves on a
reassigned lease refused with the database unchanged, and the constraint that backs both."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from annotation_db import sync_review as sr
from annotation_db.assignment import LEASE_REASSIGNED, ItemReassigned, next_assignment
from annotation_db.engine import session_scope
from annotation_db.localization_review import change_overlap, claim_box_task, save_box_verdict
from annotation_db.models import (Assignment, Clip, Project, ProjectKind, Proposal, Role, User, Verdict,
                                  utcnow)
from annotation_db.projects import ensure_project
from annotation_db.users import create_user

pytestmark = pytest.mark.both_databases


def _project(clips: int, kind: ProjectKind = ProjectKind.sync, name: str = "p") -> None:
    with session_scope() as session:
        project = ensure_project(session, name, kind)
        session.add_all([Clip(project_id=project.id, key=f"c{i:03d}", media_path=f"/media/c{i:03d}.mp4")
                         for i in range(clips)])


def _users(count: int) -> list[int]:
    with session_scope() as session:
        return [create_user(session, f"ann{i}", Role.annotator, "password1").id for i in range(count)]


def _annotate(user_id: int, barrier: threading.Barrier, saved: list, errors: list) -> None:
    barrier.wait()
    try:
        while (item := sr.claim_sync_item("p", user_id)) is not None:
            sr.save_sync("p", user_id, item, "no_source")
            saved.append((user_id, item.clip_id))
    except Exception as error:  # any lock error or constraint failure fails the test below
        errors.append(repr(error))


def test_concurrent_annotators_never_share_a_one_annotator_item(database):
    _project(clips=40)
    users = _users(6)
    barrier, saved, errors = threading.Barrier(len(users)), [], []
    threads = [threading.Thread(target=_annotate, args=(u, barrier, saved, errors)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(clip for _, clip in saved) == list(range(1, 41))  # every clip once, none twice
    with session_scope() as session:
        per_clip = Counter(session.exec(select(Verdict.clip_id)).all())
        assert set(per_clip.values()) == {1} and len(per_clip) == 40
        leases = session.exec(select(Assignment).where(Assignment.released_at.is_(None))).all()
        assert Counter(a.clip_id for a in leases).most_common(1)[0][1] == 1
        assert all(a.completed_at is not None for a in leases)
        assert session.exec(select(func.count()).select_from(Clip).where(Clip.queue_open == True)  # noqa: E712
                            ).one() == 0


def test_the_database_refuses_a_second_open_lease_on_a_one_annotator_item(database):
    _project(clips=1)
    first, second = _users(2)
    until = utcnow() + timedelta(minutes=30)
    with session_scope() as session:
        session.add(Assignment(project_id=1, user_id=first, clip_id=1, expires_at=until))
    with pytest.raises(IntegrityError):
        with session_scope() as session:
            session.add(Assignment(project_id=1, user_id=second, clip_id=1, expires_at=until))
    with session_scope() as session:  # once completed, the place is free for history rows
        session.execute(update(Assignment).values(completed_at=utcnow()))
        session.add(Assignment(project_id=1, user_id=second, clip_id=1, expires_at=until))


def test_a_save_on_a_reassigned_lease_is_refused_and_changes_nothing(database):
    _project(clips=1)
    ann, bob = _users(2)
    mine = sr.claim_sync_item("p", ann)
    with session_scope() as session:  # ann went for lunch: the lease ran out
        session.execute(update(Assignment).values(expires_at=utcnow() - timedelta(minutes=1)))
    theirs = sr.claim_sync_item("p", bob)
    assert theirs.clip_id == mine.clip_id and theirs.assignment_id != mine.assignment_id
    with session_scope() as session:
        before = [(a.id, a.user_id, a.expires_at, a.completed_at, a.released_at)
                  for a in session.exec(select(Assignment).order_by(Assignment.id))]
    with pytest.raises(ItemReassigned, match="this item was reassigned; your answer was not saved"):
        sr.save_sync("p", ann, mine, "no_source")
    assert str(ItemReassigned()) == LEASE_REASSIGNED
    with session_scope() as session:
        assert session.exec(select(Verdict)).all() == []
        after = [(a.id, a.user_id, a.expires_at, a.completed_at, a.released_at)
                 for a in session.exec(select(Assignment).order_by(Assignment.id))]
    assert after == before
    sr.save_sync("p", bob, theirs, "no_source")  # the new holder's save goes through
    with session_scope() as session:
        assert [v.user_id for v in session.exec(select(Verdict))] == [bob]


def test_an_expired_lease_nobody_took_still_saves(database):
    _project(clips=2)
    (ann,) = _users(1)
    item = sr.claim_sync_item("p", ann)
    with session_scope() as session:
        session.execute(update(Assignment).values(expires_at=utcnow() - timedelta(hours=1)))
    sr.save_sync("p", ann, item, "uniform_ambient")
    with session_scope() as session:
        lease = session.get(Assignment, item.assignment_id)
        assert lease.completed_at is not None and lease.released_at is None
        assert len(session.exec(select(Verdict)).all()) == 1


def test_overlap_items_go_to_exactly_as_many_annotators_as_asked(database):
    _project(clips=3, kind=ProjectKind.localization, name="birds")
    change_overlap("birds", 2)
    users = _users(5)
    barrier, got, errors = threading.Barrier(len(users)), [], []

    def box_all(user_id: int) -> None:
        barrier.wait()
        try:
            while (task := claim_box_task("birds", user_id)) is not None:
                save_box_verdict("birds", user_id, task.clip.id, [[0.1, 0.1, 0.5, 0.5]],
                                 assignment_id=task.assignment_id)
                got.append((user_id, task.clip.id))
        except Exception as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=box_all, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Counter(clip for _, clip in got) == {1: 2, 2: 2, 3: 2}
    assert len(set(got)) == 6  # nobody boxed a clip twice


def test_the_queue_follows_new_proposals_and_skips_done_items(database):
    _project(clips=3)
    ann, bob = _users(2)
    with session_scope() as session:
        session.add_all([Proposal(project_id=1, clip_id=c, model="avst", model_version="v1", uncertainty=u)
                         for c, u in ((1, 0.2), (2, 0.9), (3, 0.5))])
    with session_scope() as session:  # a newer proposal with no score sends clip 2 to the back
        session.add(Proposal(project_id=1, clip_id=2, model="avst", model_version="v2", uncertainty=None))
    with session_scope(immediate=True) as session:
        project = session.get(Project, 1)
        order = [next_assignment(session, project, session.get(User, user)).clip_id for user in (ann, bob)]
    assert order == [3, 1]
    sr.save_sync("p", ann, sr.claim_sync_item("p", ann), "no_source")
    assert sr.claim_sync_item("p", ann).clip_id == 2  # 3 done, 1 leased to bob: the unscored one is left
