"""`python -m training worker`: claim queued jobs and run each in a child process.

Every worker, idle or busy, looks for running jobs whose worker died (no heartbeat for
JOB_STALE_SECONDS) and puts them back in the queue; a train job then resumes from the state its
loop last saved (training/resume.py). A job whose worker died JOB_MAX_ATTEMPTS times is failed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import OperationalError

from annotation_db.engine import session_scope
from annotation_db.models import JobStatus, TrainingJob, as_utc, utcnow
from core.config import get_settings
from core.processes import is_alive, local_pid, process_name
from training.jobs import (claim_next_job, finish_job, heartbeat, job_log_path, log_tail, requeue_dead_job,
                           silent_jobs)
from training.progress import JOB_ENV

POLL_S = 2.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
WORKER_PID_ENV = "JOB_WORKER_PID"  # set on a job's child: the pid of the worker that runs it


def worker_name() -> str:
    """host:pid, recorded on the jobs this worker runs."""
    return process_name()


def run_worker(until_idle: bool = False, poll_s: float = POLL_S,
               parent_pid: int | None = None) -> int:
    """Run jobs until stopped (or, with until_idle, until no job is queued; with parent_pid,
    until that process is gone); returns the number of jobs run."""
    name, done = worker_name(), 0
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping and (parent_pid is None or is_alive(parent_pid)):
        recover_dead_jobs(name)
        job = claim_next_job(name)
        if job is None:
            if until_idle:
                break
            time.sleep(poll_s)
            continue
        run_claimed_job(job)
        done += 1
    return done


def run_claimed_job(job: TrainingJob) -> JobStatus:
    """Run one claimed job in a child process, beating and honouring cancel; returns its end status."""
    log_path = Path(job.log_path or job_log_path(job.id))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, JOB_ENV: str(job.id)}
    with log_path.open("ab") as log:
        child = subprocess.Popen([sys.executable, "-m", "training", "run-job", str(job.id)],
                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env={**env, WORKER_PID_ENV: str(os.getpid())}, start_new_session=True)
        stopped = _watch(child, job.id)
    if not _still_mine(job):
        # taken for dead (beats lost for JOB_STALE_SECONDS) and re-queued: its next run owns the row now
        with log_path.open("a", encoding="utf-8") as log:
            log.write(f"worker {job.worker}: the job was re-queued away from this worker; its run here stopped\n")
        return JobStatus.queued
    if stopped:
        status, error = JobStatus.cancelled, "cancelled by request"
    elif child.returncode == 0:
        status, error = JobStatus.succeeded, None
    else:
        status, error = JobStatus.failed, f"exit status {child.returncode}; log tail:\n{log_tail(job)}"
    finish_job(job.id, status, error)
    return status


def recover_dead_jobs(me: str | None = None) -> dict[int, JobStatus]:
    """Re-queue (or fail, past JOB_MAX_ATTEMPTS) the running jobs of dead workers; returns {job id: new status}.

    A worker is dead when it has not beaten for JOB_STALE_SECONDS, except that one on this host
    whose process still runs is given JOB_HUNG_SECONDS: its beats may be waiting on another
    process's long SQLite write, which a process that stays silent that long is not.
    """
    settings, now = get_settings(), utcnow()
    changed: dict[int, JobStatus] = {}
    try:
        for job in silent_jobs(timedelta(seconds=settings.job_stale_seconds), now):
            if me is not None and job.worker == me:
                continue
            silent = float("inf") if job.heartbeat_at is None else (now - as_utc(job.heartbeat_at)).total_seconds()
            pid = local_pid(job.worker)
            if pid is not None and is_alive(pid):
                if silent < settings.job_hung_seconds:
                    continue
                reason = f"worker {job.worker} runs but has not beaten for {silent:.0f} s"
            elif pid is not None:
                reason = f"worker {job.worker} died (process gone; last beat {silent:.1f} s ago)"
            else:
                reason = f"worker {job.worker} stopped beating {silent:.1f} s ago"
            status = requeue_dead_job(job, reason, settings.job_max_attempts)
            if status is not None:
                changed[job.id] = status
    except OperationalError:  # SQLite busy past its timeout: look again on the next round
        pass
    return changed


def die_with_worker() -> None:
    """In a job's child process: be killed when the worker that started it dies, so a job is never run
    by nobody's child (the next worker re-queues it from its stale heartbeat)."""
    # Set here, after exec, rather than in a preexec_fn: code run between fork and exec can deadlock
    # when the worker has other threads (torch's, the database driver's).
    worker_pid = int(os.environ.get(WORKER_PID_ENV, 0))
    if not worker_pid:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux: the stale-heartbeat rule still re-queues the job
        return
    if os.getppid() != worker_pid:  # the worker died before the signal was armed
        os._exit(1)


def _watch(child: subprocess.Popen, job_id: int) -> bool:
    """Beat while the child runs (and look for other workers' dead jobs); stop it and return True if a
    cancel arrives or the job is no longer this worker's."""
    me, every_s = worker_name(), get_settings().job_heartbeat_seconds
    while True:
        try:
            child.wait(timeout=every_s)
            return False
        except subprocess.TimeoutExpired:
            pass
        if heartbeat(job_id, me):
            _stop(child)
            return True
        recover_dead_jobs(me)


def _still_mine(job: TrainingJob) -> bool:
    """True while `job` runs under the worker that claimed it."""
    with session_scope() as session:
        row = session.get(TrainingJob, job.id)
        return row.status is JobStatus.running and row.worker == job.worker


def _stop(child: subprocess.Popen) -> None:
    os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def ensure_worker() -> int:
    """Start a worker beside the app unless one recorded in the pid file is alive; returns its pid."""
    pid_file = get_settings().data_dir / "worker.pid"
    if pid_file.is_file():
        pid = int(pid_file.read_text() or 0)
        if pid and is_alive(pid):
            return pid
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log = (get_settings().data_dir / "worker.log").open("ab")
    # The worker outlives browser tabs and script runs, and stops soon after the app process.
    process = subprocess.Popen([sys.executable, "-m", "training", "worker",
                                "--parent-pid", str(os.getpid())], stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    pid_file.write_text(str(process.pid))
    return process.pid
