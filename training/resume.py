"""Resumable training state: written every few minutes while a train job runs, read when it runs again.

A job whose worker died is re-queued (training/worker.py); its next run finds the state its train
loop left in the job's work folder (`<data>/jobs/job-N/resume.pt`) and goes on from that step with
the same weights, optimiser, scheduler, RNG states and loss history, so it ends where an
uninterrupted run with the same seed ends. A plain `train` run keeps a state only when
TRAIN_RESUME_STATE names a file. The state is written to a temporary file and renamed over the old
one, so a run killed mid-write leaves the previous state whole.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.config import get_settings
from training.progress import job_id_from_env

RESUME_FILE = "resume.pt"
# options that change where or how fast a run goes, not what it computes
IGNORED_OPTIONS = ("device", "threads", "master_addr", "master_port")


def job_resume_path(job_id: int) -> Path:
    """Where job `job_id` keeps its resumable state (its work folder)."""
    return get_settings().data_dir / "jobs" / f"job-{job_id}" / RESUME_FILE


def rng_states(rng: np.random.Generator | None = None) -> dict:
    """Torch's CPU (and CUDA, when in use) generator states and `rng`'s bit generator state."""
    states: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    if rng is not None:
        states["numpy"] = rng.bit_generator.state
    return states


def set_rng_states(states: dict, rng: np.random.Generator | None = None) -> None:
    """Put back what `rng_states` returned."""
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
    if rng is not None and "numpy" in states:
        rng.bit_generator.state = states["numpy"]


def training_state(step: int, parts: dict[str, Any], rng: np.random.Generator | None, losses: list,
                   elapsed_s: float, **extra: Any) -> dict:
    """A resumable state: the step reached, each part's state_dict (model, optimiser, scheduler), the
    RNG states, the losses so far, the training seconds so far and the loop's own `extra` values."""
    return {"step": int(step), "parts": {name: part.state_dict() for name, part in parts.items()},
            "rng": rng_states(rng), "losses": list(losses), "elapsed_s": float(elapsed_s), "extra": extra}


def restore_training_state(state: dict, parts: dict[str, Any], rng: np.random.Generator | None) -> int:
    """Load each part's state_dict and the RNG states from `state`; returns the step to go on from."""
    for name, part in parts.items():
        part.load_state_dict(state["parts"][name])
    set_rng_states(state["rng"], rng)
    return int(state["step"])


class ResumableRun:
    """One training run's resumable state file and when to write it next (inactive without a path)."""

    def __init__(self, path: Path | None, every_s: float = 300.0, key: dict | None = None,
                 job_id: int | None = None, writer: bool = True) -> None:
        self.path = Path(path) if path else None
        self.every_s = every_s
        self.key = key or {}
        self.job_id = job_id
        self.writer = writer  # only one process of a distributed run writes
        self._last = time.monotonic()

    @classmethod
    def inactive(cls) -> "ResumableRun":
        """A run that keeps no state."""
        return cls(None)

    @classmethod
    def for_training(cls, family: str, options: Any) -> "ResumableRun":
        """The state of the train job this process runs (TRAINING_JOB_ID), else TRAIN_RESUME_STATE's;
        inactive for plain runs and for jobs that are not train jobs (adapt jobs train from scratch)."""
        settings = get_settings()
        job_id = job_id_from_env()
        if job_id is not None:
            path = job_resume_path(job_id) if _is_train_job(job_id) else None
        else:
            path = Path(settings.train_resume_state) if settings.train_resume_state else None
        return cls(path, 60.0 * settings.job_checkpoint_minutes, run_key(family, options), job_id,
                   writer=os.environ.get("RANK", "0") == "0")

    @property
    def active(self) -> bool:
        return self.path is not None

    def load(self) -> dict | None:
        """The saved state of this very run (same family and options), or None to start from step 0."""
        if self.path is None or not self.path.is_file():
            return None
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        if state.get("key") != self.key:
            print(f"{self.path}: saved for other options; training from step 0", file=sys.stderr, flush=True)
            return None
        print(f"resumed from step {state['step']} ({self.path})", file=sys.stderr, flush=True)
        if self.job_id is not None and self.writer:
            from training.jobs import rewind_progress  # the job row's curve restarts at the saved step

            rewind_progress(self.job_id, state["step"])
        self._last = time.monotonic()
        return state

    def due(self) -> bool:
        """True when this process writes states and the last one is every_s old."""
        return self.active and self.writer and time.monotonic() - self._last >= self.every_s

    def save(self, state: dict) -> None:
        """Write `state` atomically (a temporary file renamed over the old state)."""
        if not (self.active and self.writer):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.partial")
        with partial.open("wb") as handle:
            torch.save({**state, "key": self.key}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path)
        self._last = time.monotonic()

    def finish(self) -> None:
        """Training ended: the state is of no further use."""
        if self.active and self.writer:
            self.path.unlink(missing_ok=True)
            for partial in self.path.parent.glob(f"{self.path.name}.*.partial"):  # left by killed runs
                partial.unlink(missing_ok=True)


def run_key(family: str, options: Any) -> dict:
    """What a state must have been saved for to be resumed: the family and every option that shapes
    the result (as strings, for weights-only loading)."""
    values = asdict(options) if options is not None else {}
    return {"family": family, **{k: str(v) for k, v in sorted(values.items()) if k not in IGNORED_OPTIONS}}


def _is_train_job(job_id: int) -> bool:
    from annotation_db.engine import session_scope
    from annotation_db.models import JobKind, TrainingJob

    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        return job is not None and job.kind is JobKind.train
