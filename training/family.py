"""What a model family is: one typed record of its names and entry points (see training/families.py)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.options import EvalOptions, TrainOptions

BUNDLED_DIR = Path(__file__).resolve().parent / "checkpoints"


def bundled_checkpoint(name: str) -> Path:
    """A checkpoint shipped with the repo, e.g. 'autocorrect-railway'."""
    path = BUNDLED_DIR / f"{name}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no bundled checkpoint named {name!r}")
    return path


def lazy(target: str) -> Callable[..., Any]:
    """'package.module:function' as a callable that imports its module on first call.

    Families import torch and their data stacks only when one of their functions runs, so
    listing families (the CLI's parser, the Jobs page) stays cheap.
    """
    module_name, name = target.split(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{target} (imported on first call)"
    return call


@dataclass(frozen=True)
class ModelFamily:
    """A model family: the projects it serves and the functions the CLI, the jobs and the app call.

    train(options) -> record dict (also written beside the checkpoint as .train.json)
    evaluate(options) -> report dict; `headline` is the path of its leading number in that report
    predict_project(session, project, checkpoint, device, progress) -> proposals written (progress(done,
        total) is called with no write transaction open: it writes to the job row on its own connection;
        commit the session's reads before the first write, or SQLite refuses it once the worker's
        heartbeat has committed in between)
    predict_clip(options) -> one clip's prediction as a JSON-ready dict (families that take clips)
    build_training_set(session, project_id, out_dir) -> VerdictTrainingSet from people's verdicts
    ignore_verdicts(session, data, project_id) -> the same set with the verdicts' labels removed (a
        retrain's control)
    make_benchmark(variant, spec, out_dir) writes a seeded synthetic evaluation set
    """

    name: str
    project_kinds: tuple[str, ...]
    bundled: Mapping[str, str]  # project kind -> bundled checkpoint name in training/checkpoints/
    headline: tuple[str, ...]
    train_options: type[TrainOptions]
    eval_options: type[EvalOptions]
    train: Callable[..., dict]
    evaluate: Callable[..., dict]
    predict_project: Callable[..., int]
    build_training_set: Callable[..., Any]
    ignore_verdicts: Callable[..., Any]
    make_benchmark: Callable[..., None]
    predict_clip: Callable[..., dict] | None = None
    adapt: Callable[..., dict] | None = None  # adapt(options) -> record with "self_check" parent/child, "improved"
    adapt_options: type | None = None
    self_check: Callable[..., dict] | None = None  # self_check(checkpoint, data_dir, settings) -> report with "score"
    # adapt_data(session, project_id, out_dir) -> the folder adapt and self_check read for a project
    # (default: the verdict training set's train folder)
    adapt_data: Callable[..., Path] | None = None
    # curate(job_id, project_id, params, work_dir) -> job metrics: VGG-Sound curation stages 3-4 (4.3.3-4.3.4) of a
    # clip-verification project, each clip's decision stored
    curate: Callable[..., dict] | None = None
    example_params: Mapping[str, dict] = field(default_factory=dict)  # job kind -> params shown on the Jobs page

    def bundled_for(self, kind: str | None = None) -> Path:
        """The bundled checkpoint for a project kind (default: the family's first kind)."""
        return bundled_checkpoint(self.bundled[kind or self.project_kinds[0]])

    def project_data(self, session: Any, project_id: int, out_dir: Path) -> tuple[Path, dict]:
        """(folder, counts): what adapt and self_check read for a project, written under out_dir."""
        if self.adapt_data is not None:
            folder = self.adapt_data(session, project_id, out_dir)
            return folder, {"clips": len(list((folder / "clips").iterdir()))}
        data = self.build_training_set(session, project_id, out_dir)
        return data.train_dir, data.counts

    def headline_of(self, report: dict | None) -> float | None:
        """The headline number of an eval report (None if absent)."""
        value: Any = report
        for key in self.headline:
            value = value.get(key) if isinstance(value, dict) else None
        return None if value is None else float(value)
