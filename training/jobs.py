"""Training jobs as rows: submit, claim atomically, report progress, cancel, recover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select, update

from annotation_db.engine import session_scope
from annotation_db.job_claims import claim_queued_job
from annotation_db.models import (JobKind, JobStatus, ModelVersion, Project, Role, TrainingJob,
                                  User, as_utc, utcnow)
from annotation_db.projects import get_project
from annotation_db.users import get_user, require_role
from core.config import get_settings
from training.families import get_family
JOB_KINDS = tuple(kind.value for kind in JobKind)
FINISHED = (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)
LOG_TAIL_CHARS = 2000
MAX_HISTORY = 1000


def submit_job(session: Session, user: User, model: str, kind: JobKind | str,
               project: Project | None, params: dict | None = None) -> TrainingJob:
    """Queue a job; only researchers and admins may."""
    require_role(user, Role.researcher, Role.admin)
    family = get_family(model)
    if project is not None and project.kind.value not in family.project_kinds:
        raise ValueError(f"{model} cannot serve {project.name!r}, a {project.kind.value} project")
    if JobKind(kind) is JobKind.adapt and (family.adapt is None or project is None):
        raise ValueError(f"an adapt job needs a project and a family that adapts ({model} does not)"
                         if family.adapt is None else "an adapt job needs a project")
    if JobKind(kind) is JobKind.curate and (family.curate is None or project is None):
        raise ValueError(f"a curate job needs a project and a family that curates ({model} does not)"
                         if family.curate is None else "a curate job needs a project")
    job = TrainingJob(kind=JobKind(kind), model=model, project_id=project.id if project else None,
                      params=params or {}, launched_by=user.id)
    session.add(job)
    session.flush()
    job.log_path = str(job_log_path(job.id))
    return job


def job_log_path(job_id: int) -> Path:
    """Where a job's child process writes its output."""
    return get_settings().data_dir / "jobs" / f"job-{job_id}.log"


def cancel_job(session: Session, user: User, job_id: int) -> TrainingJob:
    """Cancel a queued job at once, or ask the worker to stop a running one."""
    require_role(user, Role.researcher, Role.admin)
    # Write before reading: on SQLite a transaction that reads first cannot take the write lock
    # once the running job has written progress since (it fails at once, busy timeout or not).
    this = TrainingJob.id == job_id
    session.exec(update(TrainingJob).where(this, TrainingJob.status == JobStatus.queued)
                 .values(status=JobStatus.cancelled, finished_at=utcnow()))
    session.exec(update(TrainingJob).where(this, TrainingJob.status == JobStatus.running)
                 .values(cancel_requested=True))
    session.expire_all()
    return _job(session, job_id)


def claim_next_job(worker: str) -> TrainingJob | None:
    """Take the oldest queued job for `worker`; two workers never get the same one (SQLite and PostgreSQL)."""
    with session_scope(immediate=True) as session:
        return claim_queued_job(session, worker)


def heartbeat(job_id: int, worker: str | None = None) -> bool:
    """Record that the job's worker is alive; True if it should stop the job: a cancel was asked for,
    or (given `worker`) the job is no longer running under it (it was taken for dead and re-queued)."""
    try:
        with session_scope(immediate=True) as session:
            job = _job(session, job_id)
            if worker is not None and (job.status is not JobStatus.running or job.worker != worker):
                return True
            job.heartbeat_at = utcnow()
            session.add(job)
            return job.cancel_requested
    except OperationalError:  # the job holds the SQLite write lock longer than the busy timeout: beat later
        return False


def record_progress(job_id: int, step: int | None = None, total: int | None = None,
                    loss: float | None = None, metric: dict | None = None) -> None:
    """Store progress figures on the job row (None leaves a figure as it was)."""
    with session_scope(immediate=True) as session:
        job = _job(session, job_id)
        if step is not None:
            job.progress_step = step
        if total is not None:
            job.progress_total = total
        if loss is not None:
            job.current_loss = float(loss)
            job.loss_history = _appended(job.loss_history, [job.progress_step, float(loss)])
        if metric is not None:
            job.last_metric = {**(job.last_metric or {}), **metric}
        job.heartbeat_at = utcnow()
        session.add(job)


def _appended(history: list | None, point: list, cap: int = MAX_HISTORY) -> list:
    history = list(history or []) + [point]
    return history if len(history) <= cap else history[::2]  # keep the curve's shape, halve its size


def finish_job(job_id: int, status: JobStatus, error: str | None = None,
               produced_version_id: int | None = None) -> None:
    """Mark a job succeeded, failed or cancelled."""
    with session_scope(immediate=True) as session:
        job = _job(session, job_id)
        job.status, job.finished_at, job.error = status, utcnow(), error
        if produced_version_id is not None:
            job.produced_version_id = produced_version_id
        session.add(job)


def rewind_progress(job_id: int, step: int) -> None:
    """A job resumed from `step`: its progress and loss curve go back to that step."""
    with session_scope(immediate=True) as session:
        job = _job(session, job_id)
        job.progress_step = step
        job.loss_history = [point for point in job.loss_history or [] if point[0] <= step]
        session.add(job)


@dataclass(frozen=True)
class SilentJob:
    """A running job whose worker has not beaten lately, as it was read."""

    id: int
    worker: str | None
    heartbeat_at: datetime | None
    attempts: int


def silent_jobs(silent_for: timedelta, now: datetime | None = None) -> list[SilentJob]:
    """Running jobs without a beat for `silent_for` (a plain read: no write lock is taken)."""
    cutoff = (now or utcnow()) - silent_for
    with session_scope() as session:
        rows = session.exec(select(TrainingJob.id, TrainingJob.worker, TrainingJob.heartbeat_at,
                                   TrainingJob.attempts).where(TrainingJob.status == JobStatus.running)).all()
    return [SilentJob(*row) for row in rows if row[2] is None or as_utc(row[2]) <= cutoff]


def requeue_dead_job(job: SilentJob, reason: str, max_attempts: int) -> JobStatus | None:
    """Put a job whose worker died back in the queue, noting `reason` in its log; None if its worker
    beat (or it changed otherwise) since `job` was read.

    The job becomes `failed` instead once it has run max_attempts times ("worker died N times", with
    its log tail), and `cancelled` if a cancel was asked for. The change is a compare-and-set on the
    row as read (status, attempts, heartbeat), so of several workers noticing the death one acts.
    """
    now = utcnow()
    beat = TrainingJob.heartbeat_at.is_(None) if job.heartbeat_at is None else \
        TrainingJob.heartbeat_at == job.heartbeat_at
    with session_scope(immediate=True) as session:
        row = session.exec(select(TrainingJob).where(
            TrainingJob.id == job.id, TrainingJob.status == JobStatus.running,
            TrainingJob.attempts == job.attempts, beat).with_for_update()).first()
        if row is None:
            return None
        if row.cancel_requested:
            row.status, row.finished_at, row.error = JobStatus.cancelled, now, "cancelled by request"
            note = f"{reason}; a cancel was asked for: cancelled"
        elif row.attempts >= max_attempts:
            died = f"worker died {row.attempts} time{'' if row.attempts == 1 else 's'}"
            note = f"{reason}; {died}: failed"
            row.status, row.finished_at = JobStatus.failed, now
            row.error = f"{died} (last: {reason}); log tail:\n{log_tail(row)}"
        else:
            row.status, row.error = JobStatus.queued, None
            note = f"{reason}; re-queued (attempt {row.attempts} of {max_attempts} ended)"
        session.add(row)
        status, log_path = row.status, row.log_path
    if log_path:
        path = Path(log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"[{now.isoformat(timespec='seconds')}] {note}\n")
    return status


def log_tail(job: TrainingJob, chars: int = LOG_TAIL_CHARS) -> str:
    """The last characters of a job's log ('' if it has none yet)."""
    path = Path(job.log_path) if job.log_path else None
    if path is None or not path.is_file():
        return ""
    data = path.read_bytes()[-chars:]
    return data.decode("utf-8", errors="replace")


def job_details(session: Session, job_id: int) -> dict:
    """Everything `jobs show` prints: status, attempts, worker, progress, produced version."""
    job = _job(session, job_id)
    version = session.get(ModelVersion, job.produced_version_id) if job.produced_version_id else None
    project = session.get(Project, job.project_id) if job.project_id else None
    launcher = session.get(User, job.launched_by) if job.launched_by else None
    return {
        "id": job.id, "kind": job.kind.value, "model": job.model,
        "project": project.name if project else None, "params": job.params,
        "launched_by": launcher.name if launcher else None, "status": job.status.value,
        "attempts": job.attempts, "worker": job.worker,
        "progress": {"step": job.progress_step, "total": job.progress_total,
                     "loss": job.current_loss, "last_metric": job.last_metric,
                     "loss_history": job.loss_history or []},
        "cancel_requested": job.cancel_requested, "error": job.error, "log_path": job.log_path,
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at), "heartbeat_at": _iso(job.heartbeat_at),
        "version": None if version is None else version_details(session, version),
    }


def version_details(session: Session, version: ModelVersion) -> dict:
    """A model version as JSON: file, parent, the job and data it came from, config, metrics."""
    parent = session.get(ModelVersion, version.parent_id) if version.parent_id else None
    return {
        "id": version.id, "model": version.model, "version": version.version, "path": version.path,
        "sha256": version.sha256, "parent_id": version.parent_id,
        "parent_version": parent.version if parent else None, "job_id": version.job_id,
        "project_id": version.project_id, "data_cutoff": _iso(version.data_cutoff),
        "verdict_ids": version.verdict_ids, "config": version.config, "metrics": version.metrics,
        "created_at": _iso(version.created_at)}


def list_jobs(session: Session, limit: int = 100) -> list[TrainingJob]:
    """The newest jobs first."""
    return list(session.exec(select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)))


def _job(session: Session, job_id: int) -> TrainingJob:
    job = session.get(TrainingJob, job_id)
    if job is None:
        raise ValueError(f"no job {job_id}")
    return job


def _iso(moment) -> str | None:
    return as_utc(moment).isoformat() if moment else None


# ---- page services: plain values in and out, one transaction each ----


def launch_job(user_id: int, model: str, kind: str, project: str | None, params: dict) -> int:
    """Queue a job for a researcher (project by name, or None); returns its id."""
    if not isinstance(params, dict):
        raise ValueError("parameters must be a JSON object")
    with session_scope(immediate=True) as session:
        target = get_project(session, project) if project else None
        return submit_job(session, get_user(session, user_id), model, kind, target, params).id


def cancel_job_by(user_id: int, job_id: int) -> None:
    """Cancel a job on a researcher's behalf."""
    with session_scope(immediate=True) as session:
        cancel_job(session, get_user(session, user_id), job_id)


def job_rows(limit: int = 100) -> list[dict]:
    """The newest jobs as table rows: id, status, kind, model, progress 0..1, loss, created."""
    with session_scope() as session:
        return [{"Job": j.id, "Status": j.status.value, "Kind": j.kind.value, "Model": j.model,
                 "Progress": (j.progress_step / j.progress_total) if j.progress_total else 0.0,
                 "Loss": j.current_loss, "Created": j.created_at.strftime("%m-%d %H:%M:%S")}
                for j in list_jobs(session, limit)]


def job_view(job_id: int, log_chars: int = 6000) -> tuple[dict, str]:
    """(job_details, the tail of its log) of one job."""
    with session_scope() as session:
        return job_details(session, job_id), log_tail(_job(session, job_id), log_chars)


def any_job_active() -> bool:
    """True while some job is queued or running."""
    with session_scope() as session:
        return session.exec(select(TrainingJob.id).where(
            TrainingJob.status.in_((JobStatus.queued, JobStatus.running)))).first() is not None
