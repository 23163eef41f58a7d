"""What a job does, run in the worker's child process: `python -m training run-job ID`.

A job runs the same commands a researcher would type (`python -m training train|eval|predict`),
with its parameters as flags, and then records what came of it (metrics, a model version).
A train job on a project without "data" in its params is a retrain: it trains from the project's
active version on the training set built from the project's verdicts, and compares parent and child.
Two retrain params are the job runner's own: "from_scratch" (the project's first model: no parent, no
--init) and "ignore_verdicts" (the control: the same set and steps without the verdicts' labels,
training.verdict_control).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
from dataclasses import asdict
from pathlib import Path

from annotation_db.engine import session_scope
from annotation_db.models import JobKind, Project, TrainingJob, utcnow
from annotation_db.projects import get_project
from core.config import get_settings
from training import cli
from training.benchmarks import BenchmarkSpec, headline, synthetic_benchmark
from training.jobs import record_progress
from training.registry import register_version, resolve_model
from training.verdict_control import ignore_verdicts


def flags(params: dict) -> list[str]:
    """{"epochs": 2, "no_memory_map": True, "data": "x"} -> ["--epochs", "2", "--no-memory-map", ...].

    None and False leave the flag out; 0 is a value ("stage1_epochs": 0 -> "--stage1-epochs 0").
    """
    out: list[str] = []
    for name, value in params.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            out.append(flag)
        elif value is not None and value is not False:  # not `in (None, False)`: 0 == False
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
    if kind is JobKind.train and project_name is not None and "data" not in params:
        return _retrain(job_id, model, project_name, params)
    if kind is JobKind.train:
        return _train(job_id, model, project_name, parent_id, params)
    if kind is JobKind.evaluate:
        metrics = _evaluate(model, params)
        record_progress(job_id, metric=metrics)
        return 0
    return cli.main(["predict", model, "--project", _required(project_name), *flags(params)])


def _train(job_id: int, model: str, project: str | None, parent_id: int | None,
           params: dict) -> int:
    """Train on the data named in params; score on eval_data if given."""
    eval_data = params.pop("eval_data", None)
    out = _checkpoint_path(model, job_id)
    status = cli.main(["train", model, *flags(params), "--out", str(out)])
    if status != 0:
        return status
    metrics = _evaluate(model, {"data": eval_data, "checkpoint": str(out)}) if eval_data else None
    with session_scope(immediate=True) as session:
        version = register_version(
            session, model, out, project_id=_project_id(session, project), parent_id=parent_id,
            job_id=job_id, metrics=metrics)
        _record_version(session, job_id, version.id, metrics)
    print(f"registered {model} version {version.version} (id {version.id})", flush=True)
    return 0


def _retrain(job_id: int, model: str, project_name: str, params: dict) -> int:
    """Train from the project's active version on its verdicts; score parent and child on the
    held-out verified items and on the synthetic benchmark; register the child with all of it."""
    spec = BenchmarkSpec.from_params(params)
    eval_params = dict(params.pop("eval", None) or {})
    from_scratch, control = bool(params.pop("from_scratch", False)), bool(params.pop("ignore_verdicts", False))
    with session_scope() as session:
        project = get_project(session, project_name)
        project_id, variant = project.id, project.kind.value
        parent = None if from_scratch else resolve_model(session, project, model, bundled_name(model, project))
        cutoff = utcnow()
        data = verdict_data(model).build_training_set(session, project_id, _work_dir(job_id) / "data")
        if control:
            data = ignore_verdicts(session, model, data, project_id)
    print(f"training data from verdicts up to {cutoff.isoformat()}: {data.counts} "
          f"({len(data.verdict_ids)} verdicts{'; verdicts ignored (control)' if control else ''})", flush=True)
    record_progress(job_id, metric={"training_data": data.counts})
    out = _checkpoint_path(model, job_id)
    init = ["--init", str(parent.path)] if parent and cli.accepts_flag(model, "train", "--init") else []
    print("no parent: trained from scratch" if parent is None else f"parent: {parent.version} ({parent.path})" +
          ("" if init else "; this trainer has no --init, so the child starts from scratch"), flush=True)
    status = cli.main(["train", model, "--data", str(data.train_dir), *init, *flags(params), "--out", str(out)])
    if status != 0:
        return status
    benchmark = synthetic_benchmark(model, variant, spec)
    scored = {"child": out} if parent is None else {"parent": parent.path, "child": out}
    metrics = {
        "heldout": _compare(model, scored, data.heldout_dir, eval_params),
        "synthetic": _compare(model, scored, benchmark, eval_params),
        "benchmark": {"path": str(benchmark), **asdict(spec)},
        "training_data": data.counts,
        "from_scratch": from_scratch,
        "ignore_verdicts": control,
    }
    with session_scope(immediate=True) as session:
        version = register_version(
            session, model, out, project_id=project_id, parent_id=parent.version_id if parent else None,
            job_id=job_id, metrics=metrics, data_cutoff=cutoff, verdict_ids=data.verdict_ids)
        _record_version(session, job_id, version.id, _headlines(model, metrics))
    print(f"registered {model} version {version.version} (id {version.id}), "
          f"parent {parent.version if parent else None}: {json.dumps(_headlines(model, metrics))}", flush=True)
    return 0


def _compare(model: str, checkpoints: dict[str, Path], data: Path | None, eval_params: dict) -> dict | None:
    """{"parent": report, "child": report} (each name in checkpoints) of `eval MODEL` on data (None without data)."""
    if data is None:
        return None
    return {name: _evaluate(model, {**eval_params, "data": str(data), "checkpoint": str(path)})
            for name, path in checkpoints.items()}


def _headlines(model: str, metrics: dict) -> dict:
    """{"heldout": {"parent": x, "child": y}, "synthetic": {...}} with each report's headline number."""
    return {name: None if metrics[name] is None else
            {who: headline(model, report) for who, report in metrics[name].items()}
            for name in ("heldout", "synthetic")}


def _record_version(session, job_id: int, version_id: int, metric: dict | None) -> None:
    job = session.get(TrainingJob, job_id)
    job.produced_version_id = version_id
    if metric:
        job.last_metric = {**(job.last_metric or {}), **metric}
    session.add(job)


def verdict_data(model: str):
    """training.<model>.verdict_data, imported only when a retrain needs it."""
    return importlib.import_module(f"training.{model}.verdict_data")


def bundled_name(model: str, project: Project) -> str:
    """The demo checkpoint a project's model starts from before any version is promoted."""
    return f"autocorrect-{project.kind.value}" if model == "autocorrect" else f"{model}-demo"


def _checkpoint_path(model: str, job_id: int) -> Path:
    return get_settings().data_dir / "models" / model / f"job-{job_id}.pt"


def _work_dir(job_id: int) -> Path:
    """Where a job keeps the data it builds (kept after the job, for inspection)."""
    return get_settings().data_dir / "jobs" / f"job-{job_id}"


def _evaluate(model: str, params: dict) -> dict:
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        status = cli.main(["eval", model, *flags(params), "--json"])
    print(captured.getvalue().strip(), flush=True)
    if status != 0:
        raise RuntimeError(f"eval {model} exited with {status}")
    lines = [line for line in captured.getvalue().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"eval {model} printed no JSON report")
    return json.loads(lines[-1])


def _project_id(session, name: str | None) -> int | None:
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
