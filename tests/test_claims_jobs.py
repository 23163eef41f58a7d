"""A queued job goes to exactly one of several concurrent claimers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.job_claims import claim_queued_job
from annotation_db.models import JobKind, JobStatus, TrainingJob

pytestmark = pytest.mark.both_databases


def _queue(jobs: int) -> None:
    with session_scope() as session:
        session.add_all([TrainingJob(kind=JobKind.evaluate, model="localizer") for _ in range(jobs)])


def _claim(worker: str) -> int | None:
    with session_scope(immediate=True) as session:
        job = claim_queued_job(session, worker)
        return None if job is None else job.id


def _race(claimers: int, target) -> tuple[list, list]:
    barrier, results, errors = threading.Barrier(claimers), [], []

    def run(name: str) -> None:
        barrier.wait()
        try:
            target(name, results)
        except Exception as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_each_queued_job_is_claimed_once(database):
    _queue(30)

    def claim_all(name: str, results: list) -> None:
        while (job_id := _claim(name)) is not None:
            results.append((name, job_id))

    results, errors = _race(6, claim_all)
    assert errors == []
    assert sorted(job for _, job in results) == list(range(1, 31))
    with session_scope() as session:
        jobs = session.exec(select(TrainingJob)).all()
    assert {j.status for j in jobs} == {JobStatus.running}
    assert all(j.attempts == 1 and j.worker == dict((b, a) for a, b in results)[j.id] for j in jobs)
    assert all(j.started_at is not None and j.heartbeat_at is not None for j in jobs)


def test_one_job_many_claimers_one_winner_every_round(database):
    winners = Counter()
    for _ in range(8):
        _queue(1)
        results, errors = _race(6, lambda name, results: results.append(_claim(name)))
        assert errors == []
        taken = [job for job in results if job is not None]
        winners[len(taken)] += 1
    assert winners == {1: 8}
    with session_scope() as session:
        assert all(j.attempts == 1 for j in session.exec(select(TrainingJob)))
