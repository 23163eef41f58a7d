"""What a job does, run in the worker's child process (`python -m training run-job ID`).

The runner calls the family's typed functions (training/families.py) with options made from the
job's params and records what came of it: metrics on the job row, a model version for training.
A train job on a project without "data" in its params is a retrain: it trains from the project's
active version on the training set built from the project's verdicts, and compares parent and child.
Two retrain params are the runner's own: "from_scratch" (the project's first model: no parent, no
init) and "ignore_verdicts" (the control: the same set and steps without the verdicts' labels).
"eval" holds eval options for the scoring and "benchmark" sizes the synthetic benchmark. An adapt job
trains on the project's own labels only and makes the child active only when its self-check beats
the parent's. A curate job (audio classifier, clip-verification projects) runs VGG-Sound curation
stages 3 and 4 on the project's clips and stores each clip's decision.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path

from annotation_db.engine import session_scope
from annotation_db.models import JobKind, Project, TrainingJob, User, utcnow
from annotation_db.projects import get_project
from core.config import get_settings
from training.benchmarks import BenchmarkSpec, synthetic_benchmark
from training.evaluation import evaluate, evaluate_project, score_on
from training.family import ModelFamily
from training.families import get_family
from training.jobs import record_progress
from training.options import PredictOptions, from_params
from training.registry import promote_version, register_version, resolve_model
from training.verdict_sets import VerdictTrainingSet

VERDICT_SET_RECORD = "verdict_set.json"  # in a retrain job's work folder: the set its first run built


def run_job(job_id: int) -> int:
    """Run one claimed job to its end; an exception fails the job with its traceback in the log."""
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        project = session.get(Project, job.project_id) if job.project_id else None
        kind, params = job.kind, dict(job.params or {})
        family = get_family(job.model)
        project_name = project.name if project else None
        parent_id = project.active_model_version_id if project else None
    print(f"job {job_id}: {kind.value} {family.name} project={project_name} params={params}", flush=True)
    if kind is JobKind.train and project_name is not None and "data" not in params:
        _retrain(job_id, family, project_name, params)
    elif kind is JobKind.train:
        _train(job_id, family, project_name, parent_id, params)
    elif kind is JobKind.evaluate:
        _evaluate(job_id, family, project_name, params)
    elif kind is JobKind.adapt:
        _adapt(job_id, family, project_name, params)
    elif kind is JobKind.curate:
        _curate(job_id, family, project_name, params)
    else:
        _predict(job_id, family, project_name, params)
    return 0


def _train(job_id: int, family: ModelFamily, project: str | None, parent_id: int | None, params: dict) -> None:
    """Train on the data named in params; score on eval_data if given."""
    eval_data = params.pop("eval_data", None)
    out = _checkpoint_path(family, job_id)
    family.train(from_params(family.train_options, params, out=out))
    metrics = None
    if eval_data:
        metrics = family.evaluate(from_params(family.eval_options, {}, data=eval_data, checkpoint=out))
    with session_scope(immediate=True) as session:
        version = register_version(session, family.name, out, project_id=_project_id(session, project),
                                   parent_id=parent_id, job_id=job_id, metrics=metrics)
        _record_version(session, job_id, version.id, metrics)
        print(f"registered {family.name} version {version.version} (id {version.id})", flush=True)


def _retrain(job_id: int, family: ModelFamily, project_name: str, params: dict) -> None:
    """Train from the project's active version on its verdicts; score parent and child on the
    held-out verified items and on the synthetic benchmark; register the child with all of it."""
    spec = BenchmarkSpec.from_params(params)
    eval_params = dict(params.pop("eval", None) or {})
    from_scratch, control = bool(params.pop("from_scratch", False)), bool(params.pop("ignore_verdicts", False))
    with session_scope() as session:
        project = get_project(session, project_name)
        project_id, variant = project.id, project.kind.value
        parent = None if from_scratch else resolve_model(session, project, family)
        data, cutoff = _verdict_set(session, family, project_id, job_id, control)
    print(f"training data from verdicts up to {cutoff.isoformat()}: {data.counts} "
          f"({len(data.verdict_ids)} verdicts{'; verdicts ignored (control)' if control else ''})", flush=True)
    record_progress(job_id, metric={"training_data": data.counts})
    print("no parent: trained from scratch" if parent is None else f"parent: {parent.version} ({parent.path})",
          flush=True)
    out = _checkpoint_path(family, job_id)
    family.train(from_params(family.train_options, params, data=data.train_dir, out=out,
                             init=parent.path if parent else None))
    scored = {"child": out} if parent is None else {"parent": parent.path, "child": out}
    benchmark = synthetic_benchmark(family, variant, spec)
    metrics = {
        "heldout": score_on(family, scored, data.heldout_dir, eval_params),
        "synthetic": score_on(family, scored, benchmark, eval_params),
        "benchmark": {"path": str(benchmark), **asdict(spec)},
        "training_data": data.counts,
        "from_scratch": from_scratch,
        "ignore_verdicts": control,
    }
    headlines = {split: None if metrics[split] is None else
                 {who: family.headline_of(report) for who, report in metrics[split].items()}
                 for split in ("heldout", "synthetic")}
    with session_scope(immediate=True) as session:
        version = register_version(
            session, family.name, out, project_id=project_id, parent_id=parent.version_id if parent else None,
            job_id=job_id, metrics=metrics, data_cutoff=cutoff, verdict_ids=data.verdict_ids)
        _record_version(session, job_id, version.id, headlines)
        print(f"registered {family.name} version {version.version} (id {version.id}), "
              f"parent {parent.version if parent else None}: {json.dumps(headlines)}", flush=True)


def _evaluate(job_id: int, family: ModelFamily, project: str | None, params: dict) -> None:
    """Score on params' "data", or on the project's held-out verified items and the benchmark."""
    spec = BenchmarkSpec.from_params(params)
    eval_params = dict(params.pop("eval", None) or {})
    if "data" in params or project is None:
        report = evaluate(family, from_params(family.eval_options, {**eval_params, **params}, project=project))
    else:
        with session_scope() as session:
            target = get_project(session, project)
            resolved = resolve_model(session, target, family, params.get("checkpoint"))
            kind = target.kind.value
        report = evaluate_project(family, project, resolved.path, resolved.version, kind, spec, eval_params,
                                  _work_dir(job_id))
    print(json.dumps(report), flush=True)
    record_progress(job_id, metric={"evaluation": report})


def _adapt(job_id: int, family: ModelFamily, project_name: str | None, params: dict) -> None:
    """Adapt the project's active version to the project's own labels; activate the child only if its
    self-check beats the parent's, otherwise register it marked as not activated."""
    with session_scope() as session:
        project = get_project(session, project_name)
        parent = resolve_model(session, project, family)
        folder, counts = family.project_data(session, project.id, _fresh_data_dir(job_id))
        bound = (project.settings or {}).get("max_shift_m")
        launcher = session.get(TrainingJob, job_id).launched_by
    takes_bound = "max_shift_m" in {f.name for f in fields(family.adapt_options)}
    given = {"max_shift_m": bound} if takes_bound and bound is not None and "max_shift_m" not in params else {}
    out = _checkpoint_path(family, job_id)
    print(f"adapting {parent.version} to {project_name}'s own data: {counts}", flush=True)
    record = family.adapt(from_params(family.adapt_options, {**given, **params}, data=folder, out=out,
                                      init=parent.path))
    scores = {who: record["self_check"][who]["score"] for who in ("parent", "child")}
    held = {k: record[k] for k in ("held_out_labels", "held_out_clips") if k in record}
    metrics = {"adapted": True, "activated": bool(record["improved"]), "self_check": record["self_check"],
               "steps": record["steps"], "max_shift_m": record.get("max_shift_m"), "training_data": counts, **held}
    with session_scope(immediate=True) as session:
        version = register_version(session, family.name, out, project_id=project.id, parent_id=parent.version_id,
                                   job_id=job_id, metrics=metrics)
        _record_version(session, job_id, version.id, {"self_check": scores, "activated": metrics["activated"]})
        if metrics["activated"]:
            promote_version(session, session.get(User, launcher), get_project(session, project_name), version.id)
        print(f"registered {family.name} version {version.version} (id {version.id}); self-check parent "
              f"{scores['parent']:.3f}, child {scores['child']:.3f}: "
              f"{'activated (predict job queued)' if metrics['activated'] else 'not activated'}", flush=True)


def _curate(job_id: int, family: ModelFamily, project_name: str | None, params: dict) -> None:
    """VGG-Sound curation stages 3 and 4 on a clip-verification project's clips; decisions stored per clip."""
    if family.curate is None or project_name is None:
        raise ValueError(f"a curate job needs a project and a family that curates ({family.name} does not)")
    with session_scope() as session:
        project_id = get_project(session, project_name).id
    _fresh_data_dir(job_id)
    metric = family.curate(job_id, project_id, params, _work_dir(job_id))
    print(f"curated {project_name}: {json.dumps(metric['counts'])}; seconds {json.dumps(metric['seconds'])}",
          flush=True)


def _predict(job_id: int, family: ModelFamily, project: str | None, params: dict) -> None:
    """Proposals for every unreviewed item of the project."""
    options = from_params(PredictOptions, params, project=project)
    if options.project is None:
        raise ValueError("a predict job needs a project")
    with session_scope() as session:
        count = family.predict_project(session, get_project(session, options.project), options.checkpoint,
                                       options.device,
                                       progress=lambda done, total: record_progress(job_id, step=done, total=total))
    print(f"{count} proposals written for {options.project}", flush=True)


def _record_version(session, job_id: int, version_id: int, metric: dict | None) -> None:
    job = session.get(TrainingJob, job_id)
    job.produced_version_id = version_id
    if metric:
        job.last_metric = {**(job.last_metric or {}), **metric}
    session.add(job)


def _checkpoint_path(family: ModelFamily, job_id: int) -> Path:
    return get_settings().data_dir / "models" / family.name / f"job-{job_id}.pt"


def _work_dir(job_id: int) -> Path:
    """Where a job keeps the data it builds (kept after the job, for inspection)."""
    return get_settings().data_dir / "jobs" / f"job-{job_id}"


def _fresh_data_dir(job_id: int) -> Path:
    """The job's data folder, emptied first: a re-run of the job (its worker died) builds it again."""
    folder = _work_dir(job_id) / "data"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def _verdict_set(session, family: ModelFamily, project_id: int, job_id: int,
                 control: bool) -> tuple[VerdictTrainingSet, datetime]:
    """(training set from the project's verdicts, their cutoff): built on the job's first run and read back on
    a re-run, so training resumed from its saved state goes on with the data it started on."""
    record = _work_dir(job_id) / VERDICT_SET_RECORD
    if record.is_file():
        saved = json.loads(record.read_text(encoding="utf-8"))
        print(f"re-run: the training set built on the first run ({record})", flush=True)
        return VerdictTrainingSet.from_summary(saved["set"]), datetime.fromisoformat(saved["cutoff"])
    cutoff = utcnow()
    data = family.build_training_set(session, project_id, _fresh_data_dir(job_id))
    if control:
        data = family.ignore_verdicts(session, data, project_id)
    partial = record.with_suffix(".partial")
    partial.write_text(json.dumps({"set": data.summary(), "cutoff": cutoff.isoformat()}), encoding="utf-8")
    partial.replace(record)
    return data, cutoff


def _project_id(session, name: str | None) -> int | None:
    return get_project(session, name).id if name else None
