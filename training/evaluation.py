"""Scoring a family's checkpoint: on a labelled folder, or on a project (held-out verified items + benchmark)."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from annotation_db.engine import session_scope
from annotation_db.projects import get_project
from training.benchmarks import BenchmarkSpec, synthetic_benchmark
from training.family import ModelFamily
from training.options import EvalOptions, from_params
from training.registry import resolve_model

# where a project evaluation scores, and what each split is
SPLITS = {"heldout": "held-out verified items of the project", "synthetic": "seeded synthetic benchmark"}
SELF_CHECK = "self-check on the project's own labels (no truth: known perturbations undone)"


def evaluate(family: ModelFamily, options: EvalOptions, spec: BenchmarkSpec | None = None) -> dict:
    """`eval FAMILY`: the family's report on --data, or the project report when only --project is given."""
    if options.data is None and options.project is None:
        raise ValueError("give --data (a labelled folder) or --project")
    checkpoint, version = options.checkpoint, None
    if options.project is not None:
        checkpoint, version, kind = _project_model(family, options.project, options.checkpoint)
    if options.data is not None:
        return family.evaluate(replace(options, checkpoint=checkpoint))
    return evaluate_project(family, options.project, checkpoint, version, kind, spec or BenchmarkSpec(),
                            _eval_params(options))


def evaluate_project(family: ModelFamily, project: str, checkpoint: Path, version: str, kind: str,
                     spec: BenchmarkSpec, eval_params: dict, work_dir: Path | None = None) -> dict:
    """{"heldout": report or None, "synthetic": report, ...}: the project's model on both splits, labelled."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = work_dir or Path(scratch)
        with session_scope() as session:
            target = get_project(session, project)
            settings = dict(target.settings or {})
            data = family.build_training_set(session, target.id, folder / "data")
            own = family.project_data(session, target.id, folder / "own") if family.adapt_data else None
        scored = {"model": checkpoint}
        heldout = score_on(family, scored, data.heldout_dir, eval_params)
        checked = own[0] if own else data.train_dir
        check = family.self_check(checkpoint, checked, settings) if family.self_check else None
    benchmark = synthetic_benchmark(family, kind, spec)
    return {"checkpoint": str(checkpoint), "model_version": version, "project": project, "splits": SPLITS,
            "heldout": None if heldout is None else heldout["model"],
            "heldout_items": data.counts,
            "synthetic": score_on(family, scored, benchmark, eval_params)["model"],
            "benchmark": {"path": str(benchmark), **asdict(spec)},
            "self_check": check, "self_check_is": SELF_CHECK if check is not None else None}


def score_on(family: ModelFamily, checkpoints: dict[str, Path], data: Path | None,
             eval_params: dict) -> dict | None:
    """{name: report} of each checkpoint evaluated on `data` (None without data)."""
    if data is None:
        return None
    return {name: family.evaluate(from_params(family.eval_options, eval_params, data=data, checkpoint=path))
            for name, path in checkpoints.items()}


def _project_model(family: ModelFamily, project: str, checkpoint: Path | None) -> tuple[Path, str, str]:
    """(checkpoint, model version, project kind) a project's evaluation uses."""
    with session_scope() as session:
        target = get_project(session, project)
        resolved = resolve_model(session, target, family, checkpoint)
        return resolved.path, resolved.version, target.kind.value


def _eval_params(options: EvalOptions) -> dict:
    """The family-specific eval options (e.g. AVST's lengths) to pass on to each split."""
    shared = {f for f in EvalOptions.__dataclass_fields__}
    return {k: v for k, v in vars(options).items() if k not in shared}
