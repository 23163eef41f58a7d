"""Progress reports from a training loop to its job row (a no-op outside a worker)."""

from __future__ import annotations

import os
import time

JOB_ENV = "TRAINING_JOB_ID"


def job_id_from_env() -> int | None:
    """The id of the job this process runs for (TRAINING_JOB_ID, set by the worker), None outside a job."""
    value = os.environ.get(JOB_ENV)
    return int(value) if value else None


class JobProgress:
    """Throttled writes of step, loss and metrics to the job the worker is running."""

    def __init__(self, job_id: int | None, min_interval_s: float = 1.0) -> None:
        self.job_id = job_id
        self.min_interval_s = min_interval_s
        self._last = 0.0

    @classmethod
    def from_env(cls) -> "JobProgress":
        """The reporter for the job named by TRAINING_JOB_ID (inactive if unset)."""
        return cls(job_id_from_env())

    def update(self, step: int, total: int, loss: float | None = None,
               metric: dict | None = None, force: bool = False) -> None:
        """Record progress (total 0: unknown); writes at most once per min_interval_s unless
        forced or on the last step."""
        if self.job_id is None:
            return
        now = time.monotonic()
        last_step = 0 < total <= step
        if not (force or metric or last_step or now - self._last >= self.min_interval_s):
            return
        self._last = now
        from training.jobs import record_progress

        record_progress(self.job_id, step=step, total=total, loss=loss, metric=metric)
