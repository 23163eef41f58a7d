"""Taking a queued training job: one worker gets it, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, update
from sqlmodel import Session, select

from annotation_db.models import JobStatus, TrainingJob, utcnow


def claim_queued_job(session: Session, worker: str, now: datetime | None = None) -> TrainingJob | None:
    """Mark the oldest queued job running for `worker` and return it; None when nothing is queued.

    Two claimers never get the same job: the job row is read with FOR UPDATE SKIP LOCKED on
    PostgreSQL (a concurrent claimer takes the next job instead of waiting), and the status change is
    a compare-and-set (UPDATE ... WHERE status = 'queued'), which holds on any engine and isolation
    level. On SQLite call it inside `session_scope(immediate=True)` so claimers take turns.
    """
    now = now or utcnow()
    while True:
        job_id = session.exec(select(TrainingJob.id).where(TrainingJob.status == JobStatus.queued)
                              .order_by(TrainingJob.id).limit(1).with_for_update(skip_locked=True)).first()
        if job_id is None:
            return None
        taken = session.execute(
            update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.status == JobStatus.queued)
            .values(status=JobStatus.running, worker=worker, attempts=TrainingJob.attempts + 1,
                    started_at=func.coalesce(TrainingJob.started_at,
                                             literal(now, TrainingJob.__table__.c.started_at.type)),
                    heartbeat_at=now),
            execution_options={"synchronize_session": False}).rowcount
        if taken:
            return session.get(TrainingJob, job_id, populate_existing=True)
