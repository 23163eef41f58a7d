"""`python -m training worker`: claim queued jobs and run each in a child process."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from annotation_db.models import JobStatus, TrainingJob
from core.config import get_settings
from training.jobs import claim_next_job, fail_stale_jobs, finish_job, heartbeat, job_log_path, log_tail
from training.progress import JOB_ENV

HEARTBEAT_S = 2.0
STALE_AFTER = timedelta(seconds=30)  # a job whose worker has not beaten for this long is dead
POLL_S = 2.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_name() -> str:
    """host:pid, recorded on the jobs this worker runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(until_idle: bool = False, poll_s: float = POLL_S,
               parent_pid: int | None = None) -> int:
    """Run jobs until stopped (or, with until_idle, until no job is queued; with parent_pid,
    until that process is gone); returns the number of jobs run."""
    name, done = worker_name(), 0
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping and (parent_pid is None or _alive(parent_pid)):
        fail_stale_jobs(STALE_AFTER)
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
                                 env=env, start_new_session=True, preexec_fn=_die_with_parent)
        cancelled = _watch(child, job.id)
    if cancelled:
        status, error = JobStatus.cancelled, "cancelled by request"
    elif child.returncode == 0:
        status, error = JobStatus.succeeded, None
    else:
        status, error = JobStatus.failed, f"exit status {child.returncode}; log tail:\n{log_tail(job)}"
    finish_job(job.id, status, error)
    return status


def _die_with_parent() -> None:
    """In the job's child: be killed when the worker dies, so a job is never run by nobody's child
    (the next worker fails it from its stale heartbeat)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux: the stale-heartbeat rule still fails the job
        pass


def _watch(child: subprocess.Popen, job_id: int) -> bool:
    """Beat while the child runs; stop it and return True if a cancel arrives."""
    while True:
        try:
            child.wait(timeout=HEARTBEAT_S)
            return False
        except subprocess.TimeoutExpired:
            pass
        if heartbeat(job_id):
            _stop(child)
            return True


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
        if pid and _alive(pid):
            return pid
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log = (get_settings().data_dir / "worker.log").open("ab")
    # The worker outlives browser tabs and script runs, and stops soon after the app process.
    process = subprocess.Popen([sys.executable, "-m", "training", "worker",
                                "--parent-pid", str(os.getpid())], stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    pid_file.write_text(str(process.pid))
    return process.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not status.is_file() or "State:\tZ" not in status.read_text()
