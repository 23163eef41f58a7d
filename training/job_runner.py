"""What a job does, run in the worker's child process: `python -m training run-job ID`.

A job runs the same commands a researcher would type (`python -m training train|eval|predict`),
with its parameters as flags, and then records what came of it (metrics, a model version).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from annotation_db.engine import session_scope
from annotation_db.models import JobKind, Project, TrainingJob
from core.config import get_settings
from training import cli
from training.jobs import record_progress
from training.registry import register_version


def flags(params: dict) -> list[str]:
    """{"epochs": 2, "no_memory_map": True, "data": "x"} -> ["--epochs", "2", "--no-memory-map", ...]."""
    out: list[str] = []
    for name, value in params.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            out.append(flag)
        elif value not in (None, False):
            out += [flag, str(value)]
    return out


def run_job(job_id: int) -> int:
    """Run one claimed job to its end; the exit status tells the worker how it went."""
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        project = session.get(Project, job.project_id) if job.project_id else None
        kind, model, params = job.kind, job.model, dict(job.params or {})
        project_name = project.name if project else None
        parent_id = project.active_model_version_id if project else None
    print(f"job {job_id}: {kind.value} {model} project={project_name} params={params}", flush=True)
    if kind is JobKind.train:
        return _train(job_id, model, project_name, parent_id, params)
    if kind is JobKind.evaluate:
        metrics = _evaluate(model, params)
        record_progress(job_id, metric=metrics)
        return 0
    return cli.main(["predict", model, "--project", _required(project_name), *flags(params)])


def _train(job_id: int, model: str, project: str | None, parent_id: int | None,
           params: dict) -> int:
    eval_data = params.pop("eval_data", None)
    out = get_settings().data_dir / "models" / model / f"job-{job_id}.pt"
    status = cli.main(["train", model, *flags(params), "--out", str(out)])
    if status != 0:
        return status
    metrics = _evaluate(model, {"data": eval_data, "checkpoint": str(out)}) if eval_data else None
    with session_scope() as session:
        version = register_version(
            session, model, out, project_id=_project_id(session, project), parent_id=parent_id,
            job_id=job_id, metrics=metrics)
        job = session.get(TrainingJob, job_id)
        job.produced_version_id = version.id
        if metrics:
            job.last_metric = metrics
        session.add(job)
    print(f"registered {model} version {version.version} (id {version.id})", flush=True)
    return 0


def _evaluate(model: str, params: dict) -> dict:
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        status = cli.main(["eval", model, *flags(params), "--json"])
    print(captured.getvalue(), flush=True)
    if status != 0:
        raise RuntimeError(f"eval {model} exited with {status}")
    return json.loads(captured.getvalue())


def _project_id(session, name: str | None) -> int | None:
    from annotation_db.projects import get_project

    return get_project(session, name).id if name else None


def _required(project: str | None) -> str:
    if project is None:
        raise ValueError("a predict job needs a project")
    return project


def main(argv: list[str]) -> int:
    """Entry point of the child process."""
    return run_job(int(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
