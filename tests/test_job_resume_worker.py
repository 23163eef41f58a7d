"""Jobs whose worker died: noticed within seconds, re-queued up to JOB_MAX_ATTEMPTS runs, resumed where they were."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta

import pytest
import torch

from annotation_db.engine import session_scope
from annotation_db.models import JobKind, JobStatus, TrainingJob, utcnow
from annotation_db.users import Role, create_user
from core.config import get_settings
from training.jobs import claim_next_job, job_details, requeue_dead_job, silent_jobs, submit_job
from training.worker import recover_dead_jobs


def _running_job(worker: str, silent_s: float, attempts: int = 1, cancel: bool = False, log=None) -> int:
    with session_scope() as session:
        job = TrainingJob(kind=JobKind.train, model="autocorrect", status=JobStatus.running, worker=worker,
                          attempts=attempts, heartbeat_at=utcnow() - timedelta(seconds=silent_s),
                          cancel_requested=cancel, log_path=str(log) if log else None)
        session.add(job)
        session.flush()
        return job.id


def _row(job_id: int) -> TrainingJob:
    with session_scope() as session:
        return session.get(TrainingJob, job_id)


@pytest.mark.both_databases
def test_dead_workers_jobs_are_requeued_failed_past_the_limit_or_cancelled(database, tmp_path, monkeypatch):
    monkeypatch.setenv("JOB_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("JOB_STALE_SECONDS", "8")
    get_settings.cache_clear()
    here = socket.gethostname()
    requeued = _running_job("elsewhere:12", silent_s=9, log=tmp_path / "a.log")
    beating = _running_job("elsewhere:13", silent_s=1)
    alive_here = _running_job(f"{here}:{os.getpid()}", silent_s=60)  # beats held up, process alive
    last_run = _running_job("elsewhere:14", silent_s=30, attempts=3, log=tmp_path / "b.log")
    (tmp_path / "b.log").write_text("step 7/100 loss 0.25\n")
    cancelled = _running_job("elsewhere:15", silent_s=30, cancel=True)
    assert recover_dead_jobs() == {requeued: JobStatus.queued, last_run: JobStatus.failed,
                                   cancelled: JobStatus.cancelled}
    row = _row(requeued)
    assert row.status is JobStatus.queued and row.attempts == 1 and row.error is None and row.finished_at is None
    note = (tmp_path / "a.log").read_text()
    assert re.search(r"worker elsewhere:12 stopped beating \d+\.\d s ago; re-queued \(attempt 1 of 3 ended\)", note)
    assert _row(beating).status is JobStatus.running and _row(alive_here).status is JobStatus.running
    failed = _row(last_run)
    assert failed.status is JobStatus.failed and failed.finished_at is not None
    assert failed.error.startswith("worker died 3 times (last: worker elsewhere:14 stopped beating")
    assert "step 7/100 loss 0.25" in failed.error  # the log tail
    assert "worker died 3 times: failed" in (tmp_path / "b.log").read_text()
    assert _row(cancelled).status is JobStatus.cancelled
    assert recover_dead_jobs() == {}  # nothing twice
    again = claim_next_job("w2")
    assert again.id == requeued and again.attempts == 2 and again.status is JobStatus.running


@pytest.mark.both_databases
def test_a_beat_after_the_death_was_seen_keeps_the_job(database):
    job_id = _running_job("elsewhere:21", silent_s=30)
    [seen] = silent_jobs(timedelta(seconds=8))
    with session_scope() as session:  # the worker beats between the read and the write
        session.get(TrainingJob, job_id).heartbeat_at = utcnow()
    assert requeue_dead_job(seen, "test", 3) is None
    assert _row(job_id).status is JobStatus.running
    assert requeue_dead_job(replace(seen, heartbeat_at=_row(job_id).heartbeat_at), "test", 3) is JobStatus.queued


def test_a_live_process_silent_past_the_hung_limit_is_dead_too(database, monkeypatch):
    monkeypatch.setenv("JOB_HUNG_SECONDS", "20")
    get_settings.cache_clear()
    hung = _running_job(f"{socket.gethostname()}:{os.getpid()}", silent_s=25)
    assert recover_dead_jobs() == {hung: JobStatus.queued}


def test_a_busy_worker_notices_dead_jobs_between_its_beats(database, monkeypatch):
    from training.worker import _watch, worker_name

    monkeypatch.setenv("JOB_HEARTBEAT_SECONDS", "0.5")
    get_settings.cache_clear()
    own = _running_job(worker_name(), silent_s=0)
    dead = _running_job("elsewhere:31", silent_s=30)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"], start_new_session=True)
    assert _watch(child, own) is False  # ran to its end, beating
    assert _row(dead).status is JobStatus.queued and _row(own).status is JobStatus.running


def test_a_worker_taken_for_dead_stops_its_run_and_leaves_the_row_to_the_next(database, monkeypatch, tmp_path):
    from training.jobs import heartbeat
    from training.worker import run_claimed_job, worker_name

    monkeypatch.setenv("JOB_HEARTBEAT_SECONDS", "0.3")
    get_settings.cache_clear()
    job_id = _running_job(worker_name(), silent_s=0, log=tmp_path / "job.log")
    claimed = _row(job_id)  # as this worker claimed it
    assert heartbeat(job_id, worker_name()) is False
    with session_scope() as session:  # meanwhile re-queued by another worker and claimed again
        row = session.get(TrainingJob, job_id)
        row.worker, row.attempts = "elsewhere:41", 2
    assert heartbeat(job_id, worker_name()) is True
    sleeper = tmp_path / "sleeper"
    sleeper.write_text("#!/bin/sh\nexec sleep 60\n")  # a job run that goes on until stopped
    sleeper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(sleeper))
    started = time.monotonic()
    assert run_claimed_job(claimed) is JobStatus.queued
    assert time.monotonic() - started < 10  # stopped at the first beat, not after the 60 s
    row = _row(job_id)
    assert row.status is JobStatus.running and row.worker == "elsewhere:41" and row.finished_at is None
    assert "re-queued away from this worker" in (tmp_path / "job.log").read_text()


def _wait_for(condition, timeout_s: float, what: str, job_id: int | None = None, outputs=()):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (_job_story(job_id, *outputs) if job_id else ""))


def _job_story(job_id: int, *outputs) -> str:
    """The job's row, log tail and the workers' own output, so a timeout says where the run stood."""
    row = _row(job_id)
    story = (f"\njob {job_id}: {row.status.value}, worker {row.worker}, attempts {row.attempts}, "
             f"step {row.progress_step}, error {row.error!r}")
    for path in ([row.log_path] if row.log_path else []) + list(outputs):
        text = open(path).read()[-2000:] if os.path.isfile(path) else "(none)"
        story += f"\n--- {path}:\n{text}"
    return story


# long enough that the kill lands mid-run even when this process is starved of CPU for a few seconds
# while the job trains (a short run could end, and remove its state, between two looks)
STEPS = 300


def _saved_step(path) -> int:
    return torch.load(path, weights_only=True)["step"] if path.is_file() else 0


@pytest.mark.both_databases
def test_a_job_whose_worker_is_killed_is_requeued_resumed_and_ends_as_an_uninterrupted_run(
        database, tmp_path, monkeypatch):
    from core.checkpoints import load_checkpoint
    from core.synthetic.geo import generate_geo
    from training.autocorrect.options import AutoCorrectTrainOptions
    from training.autocorrect.train import run_training
    from training.resume import job_resume_path

    monkeypatch.setenv("JOB_STALE_SECONDS", "3")
    monkeypatch.setenv("JOB_HEARTBEAT_SECONDS", "1")
    monkeypatch.setenv("JOB_CHECKPOINT_MINUTES", "0.002")  # a state every 0.12 s
    get_settings.cache_clear()
    data = generate_geo(kind="railway", tiles=1, size=128, seed=3, out=tmp_path / "rail")
    params = {"data": str(data), "config": "tiny", "max_steps": STEPS, "batch_size": 2, "window": 64, "seed": 1,
              "threads": 1, "device": "cpu"}
    with session_scope() as session:
        user = create_user(session, "rita", Role.researcher, "password1")
        job_id = submit_job(session, user, "autocorrect", "train", None, params).id
    state_file, started = job_resume_path(job_id), time.monotonic()
    command = [sys.executable, "-m", "training", "worker"]
    outputs = [tmp_path / "worker-1.out", tmp_path / "worker-2.out"]
    first = subprocess.Popen(command, env=dict(os.environ), stdout=outputs[0].open("wb"), stderr=subprocess.STDOUT)
    second = None
    try:
        _wait_for(lambda: _row(job_id).status is JobStatus.running, 60, "the first worker's claim", job_id, outputs)
        second = subprocess.Popen(command, env=dict(os.environ), stdout=outputs[1].open("wb"),
                                  stderr=subprocess.STDOUT)  # idle beside it
        _wait_for(lambda: _saved_step(state_file) >= 10 or _row(job_id).finished_at is not None, 120,
                  "a resumable state at step 10", job_id, outputs)
        assert _row(job_id).finished_at is None, "the job ended before its worker was killed" + _job_story(
            job_id, *outputs)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        killed = time.monotonic()
        saved_step = _saved_step(state_file)
        _wait_for(lambda: _row(job_id).status is not JobStatus.running or _row(job_id).attempts == 2, 30,
                  "the second worker to notice", job_id, outputs)
        noticed_s = time.monotonic() - killed
        _wait_for(lambda: _row(job_id).status in (JobStatus.succeeded, JobStatus.failed), 120,
                  "the job's end", job_id, outputs)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
    with session_scope() as session:
        details = job_details(session, job_id)
    log = open(details["log_path"]).read()
    print(f"killed at saved step {saved_step}; re-queued {noticed_s:.1f} s after the kill; "
          f"{time.monotonic() - started:.1f} s from the submit to the job's end")
    assert details["status"] == "succeeded", details["error"]
    assert details["attempts"] == 2 and details["progress"]["step"] == STEPS
    assert noticed_s < 12  # JOB_STALE_SECONDS 3 plus the idle worker's 2 s poll, with room for a busy machine
    assert 10 <= saved_step < STEPS
    assert "died (process gone" in log and "re-queued (attempt 1 of 3 ended)" in log
    assert f"resumed from step {saved_step}" in log
    assert log.index("re-queued") < log.index("resumed from step")
    curve = [step for step, _ in details["progress"]["loss_history"]]
    assert curve == sorted(set(curve)) and curve[-1] == STEPS  # rewound to the saved step, not drawn twice
    assert not state_file.exists() and not list(state_file.parent.glob("*.partial"))
    # the same run without the kill, in this process, ends with the same weights
    whole = tmp_path / "whole.pt"
    run_training(AutoCorrectTrainOptions(**{**params, "data": data, "out": whole}), progress=lambda _: None)
    resumed = load_checkpoint(details["version"]["path"])[0]
    for name, value in load_checkpoint(whole)[0].items():
        assert torch.allclose(value, resumed[name], rtol=0, atol=1e-6), name
