"""Job rows: submit with role checks, atomic claims under concurrency, cancel, dead workers."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import timedelta

import pytest
from sqlmodel import select

from annotation_db.engine import get_engine, session_scope
from annotation_db.models import JobStatus, Role, TrainingJob, utcnow
from annotation_db.users import AccessDenied, create_user
from core.config import get_settings
from training.jobs import cancel_job, claim_next_job, heartbeat, job_details, record_progress, submit_job
from training.worker import recover_dead_jobs


def _researcher(session, name="rita"):
    return create_user(session, name, Role.researcher, "password1")


def test_annotators_cannot_submit_or_cancel(session):
    ann = create_user(session, "ann", Role.annotator, "password1")
    with pytest.raises(AccessDenied):
        submit_job(session, ann, "avst", "train", None)
    job = submit_job(session, _researcher(session), "avst", "train", None)
    with pytest.raises(AccessDenied):
        cancel_job(session, ann, job.id)


def test_unknown_model_is_refused(session):
    with pytest.raises(ValueError, match="model must be"):
        submit_job(session, _researcher(session), "yolo", "train", None)


def _claim_all(url: str, data_dir: str, out) -> None:
    import os

    os.environ["DATABASE_URL"], os.environ["DATA_DIR"] = url, data_dir
    claimed = []
    while (job := claim_next_job(f"worker-{os.getpid()}")) is not None:
        claimed.append(job.id)
    out.put(claimed)


@pytest.mark.both_databases
def test_concurrent_workers_never_claim_the_same_job(database):
    with session_scope() as session:
        user = _researcher(session)
        for _ in range(40):
            submit_job(session, user, "localizer", "evaluate", None)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_claim_all,
                               args=(database, str(get_settings().data_dir), queue))
               for _ in range(4)]
    for process in workers:
        process.start()
    claimed = [job for _ in workers for job in queue.get(timeout=120)]
    for process in workers:
        process.join(timeout=60)
    assert sorted(claimed) == list(range(1, 41))  # every job once, none twice
    with session_scope() as session:
        jobs = session.exec(select(TrainingJob)).all()
        assert {j.status for j in jobs} == {JobStatus.running}
        assert all(j.attempts == 1 and j.worker for j in jobs)


def test_cancel_a_queued_job_at_once_and_a_running_one_by_request(session):
    user = _researcher(session)
    older = submit_job(session, user, "avst", "train", None)
    newer = submit_job(session, user, "avst", "train", None)
    session.commit()
    assert claim_next_job("w").id == older.id  # the oldest queued job goes first
    session.expire_all()
    cancel_job(session, user, newer.id)
    assert session.get(TrainingJob, newer.id).status is JobStatus.cancelled
    running = cancel_job(session, user, older.id)
    assert running.status is JobStatus.running and running.cancel_requested


def test_a_job_whose_worker_died_its_last_allowed_time_fails_with_the_log_tail(session, tmp_path):
    job = submit_job(session, _researcher(session), "autocorrect", "train", None, {"epochs": 3})
    log = tmp_path / "job.log"
    log.write_text("epoch 1 loss 0.5\nepoch 2 loss 0.4\n")
    job.log_path = str(log)
    job.attempts = get_settings().job_max_attempts  # JOB_MAX_ATTEMPTS runs, each ended by a dead worker
    job.status, job.heartbeat_at = JobStatus.running, utcnow() - timedelta(minutes=5)
    session.add(job)
    session.commit()
    record_progress(job.id, step=2, total=3, loss=0.4)  # progress written before the crash
    with session_scope() as other:
        stale = other.get(TrainingJob, job.id)
        stale.heartbeat_at = utcnow() - timedelta(minutes=5)
        other.add(stale)
    assert recover_dead_jobs() == {job.id: JobStatus.failed}
    session.expire_all()
    details = job_details(session, job.id)
    assert details["status"] == "failed" and "epoch 2 loss 0.4" in details["error"]
    assert details["error"].startswith(f"worker died {get_settings().job_max_attempts} times")
    assert details["progress"]["step"] == 2 and details["progress"]["loss"] == pytest.approx(0.4)
    assert recover_dead_jobs() == {}


def test_a_heartbeat_waits_out_a_job_that_holds_the_write_lock(database, monkeypatch):
    with session_scope() as session:
        job = submit_job(session, _researcher(session), "avst", "train", None)
    claimed_at = claim_next_job("w1").heartbeat_at
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "50")
    get_settings.cache_clear()
    get_engine.cache_clear()
    locker = sqlite3.connect(database.removeprefix("sqlite:///"))
    locker.execute("BEGIN IMMEDIATE")  # as a predict job writing proposals in one transaction
    try:
        assert heartbeat(job.id) is False  # a missed beat, not a dead worker
    finally:
        locker.rollback()
        locker.close()
    with session_scope() as session:
        assert session.get(TrainingJob, job.id).heartbeat_at == claimed_at
    assert heartbeat(job.id) is False
    with session_scope() as session:
        assert session.get(TrainingJob, job.id).heartbeat_at > claimed_at


def test_worker_runs_a_train_job_end_to_end_and_registers_the_version(database, tmp_path):
    from core.synthetic.geo import generate_geo
    from training.worker import run_worker

    data = generate_geo(kind="railway", tiles=1, size=128, seed=3, out=tmp_path / "rail")
    with session_scope() as session:
        job = submit_job(session, _researcher(session), "autocorrect", "train", None,
                         {"data": str(data), "config": "tiny", "max_steps": 3, "batch_size": 2,
                          "window": 64, "eval_data": str(data)})
    assert run_worker(until_idle=True) == 1
    with session_scope() as session:
        details = job_details(session, job.id)
    assert details["status"] == "succeeded", details["error"]
    assert details["attempts"] == 1 and details["worker"]
    assert details["progress"]["step"] == 3 and details["progress"]["total"] == 3
    assert len(details["progress"]["loss_history"]) >= 1
    version = details["version"]
    assert version and len(version["sha256"]) == 64
    assert set(version["metrics"]) >= {"model", "noisy_input", "global_shift"}


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _wait_for(condition, timeout_s: float = 120.0, what: str = "condition"):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_takes_its_child_along_and_the_job_fails_with_its_log(database, tmp_path, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    import time

    from annotation_db.migrate import upgrade_database
    from core.synthetic.geo import generate_geo
    from training.worker import run_worker

    monkeypatch.setenv("JOB_MAX_ATTEMPTS", "1")  # no second run: the death fails the job
    monkeypatch.setenv("JOB_STALE_SECONDS", "1")
    get_settings.cache_clear()
    data = generate_geo(kind="railway", tiles=1, size=128, seed=3, out=tmp_path / "rail")
    with session_scope() as session:
        user = _researcher(session)
        long_job = submit_job(session, user, "autocorrect", "train", None,
                              {"data": str(data), "config": "tiny", "max_steps": 100000, "batch_size": 2,
                               "window": 64})
    worker = subprocess.Popen([sys.executable, "-m", "training", "worker"], env=dict(os.environ),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def trained_a_step():
            with session_scope() as session:
                return session.get(TrainingJob, long_job.id).progress_step > 0

        _wait_for(trained_a_step, what="the job's first steps")
        child = _wait_for(lambda: _children(worker.pid), what="the job's child process")[0]
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        _wait_for(lambda: not os.path.exists(f"/proc/{child}") or
                  "State:\tZ" in open(f"/proc/{child}/status").read(), 30, "the child to die with the worker")
    finally:
        if worker.poll() is None:
            worker.kill()
    with session_scope() as session:
        after_kill = job_details(session, long_job.id)
        queued = submit_job(session, _researcher(session, "rosa"), "autocorrect", "train", None,
                            {"data": str(data), "config": "tiny", "max_steps": 2, "batch_size": 2, "window": 64})
    assert after_kill["status"] == "running" and after_kill["progress"]["step"] > 0
    time.sleep(1.1)
    assert recover_dead_jobs() == {long_job.id: JobStatus.failed}
    upgrade_database()  # the schema is intact and current
    with session_scope() as session:
        failed = job_details(session, long_job.id)
        assert session.exec(select(TrainingJob.id)).all() == [long_job.id, queued.id]
        assert session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert failed["status"] == "failed" and failed["error"].startswith("worker died 1 time (last: worker ")
    assert "process gone" in failed["error"]
    assert "step" in failed["error"].split("log tail:")[1]  # the tail of what the child wrote
    assert failed["progress"]["step"] == after_kill["progress"]["step"]  # recorded progress kept
    assert run_worker(until_idle=True) == 1  # the next worker goes on with the queue
    with session_scope() as session:
        assert job_details(session, queued.id)["status"] == "succeeded"


def test_the_worker_stops_a_running_job_on_cancel(database, tmp_path):
    import os
    import subprocess
    import sys

    from core.synthetic.geo import generate_geo

    data = generate_geo(kind="railway", tiles=1, size=128, seed=3, out=tmp_path / "rail")
    with session_scope() as session:
        user = _researcher(session)
        job = submit_job(session, user, "autocorrect", "train", None,
                         {"data": str(data), "config": "tiny", "max_steps": 100000, "batch_size": 2, "window": 64})
    worker = subprocess.Popen([sys.executable, "-m", "training", "worker", "--until-idle"], env=dict(os.environ),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def running_step():
            with session_scope() as session:
                return session.get(TrainingJob, job.id).progress_step > 0

        _wait_for(running_step, what="the job's first steps")
        child = _children(worker.pid)[0]
        with session_scope() as session:
            cancel_job(session, user, job.id)
        assert worker.wait(timeout=60) == 0  # --until-idle: the queue is empty once the job stopped
    finally:
        if worker.poll() is None:
            worker.kill()
    assert not os.path.exists(f"/proc/{child}") or "State:\tZ" in open(f"/proc/{child}/status").read()
    with session_scope() as session:
        details = job_details(session, job.id)
    assert details["status"] == "cancelled" and details["progress"]["step"] < 100000
