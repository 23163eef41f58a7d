"""Options every model family shares, as dataclasses; command lines and job params are made from them.

A family's train and eval options subclass `TrainOptions` / `EvalOptions`, redeclaring a field to
change its default. Each field's docstring (the string literal below it) is its help text.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import textwrap
import types
import typing
from dataclasses import MISSING, dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

Options = TypeVar("Options")


@dataclass(kw_only=True)
class TrainOptions:
    """One training run."""

    data: Path
    """Training folder (what `python -m core.synthetic` writes, or a retrain's verdict set)."""
    out: Path
    """Checkpoint to write (.pt; its JSON config and .train.json record go beside it)."""
    init: Path | None = None
    """Start from this checkpoint's weights; its network config replaces the named config."""
    config: str = "small"
    """Named network config (see core/<family>/config.py)."""
    epochs: int = 10
    """Passes over the training set (max_steps, when given, wins)."""
    max_steps: int | None = None
    """Stop after this many optimiser steps."""
    max_minutes: float | None = None
    """Stop (and save) once training has run this long."""
    batch_size: int = 32
    """Samples per step, all processes together."""
    lr: float = 1e-4
    """Adam's learning rate."""
    seed: int = 0
    """Seed of weights, sampling and perturbations."""
    device: str | None = None
    """cpu or cuda (default: cuda when there is one)."""
    threads: int | None = None
    """Torch CPU threads (default: torch's)."""
    nproc_per_node: int = 1
    """Processes on this machine; above 1 the run relaunches itself under torchrun (gloo on CPU, NCCL on GPU)."""
    nnodes: int = 1
    """Machines in a distributed run."""
    node_rank: int = 0
    """This machine's rank in a distributed run."""
    master_addr: str = "127.0.0.1"
    """Address of rank 0 in a distributed run."""
    master_port: int = 29500
    """Port of rank 0 in a distributed run."""


@dataclass(kw_only=True)
class EvalOptions:
    """One evaluation of a checkpoint on a labelled folder."""

    data: Path | None = None
    """Labelled folder (generated layout); without it, --project evaluates on the project's own items."""
    checkpoint: Path | None = None
    """Checkpoint to score (default: the project's active version, else the bundled one)."""
    project: str | None = None
    """Use this project's active model; without --data, score it on the project's held-out verified items."""
    device: str | None = None
    """cpu or cuda (default: cuda when there is one)."""


@dataclass(kw_only=True)
class AdaptOptions:
    """Self-supervised adaptation to a folder's own unlabelled data, then a self-check of parent and child."""

    data: Path
    """Folder of the project's own data (no truth is read)."""
    out: Path
    """Checkpoint to write (.pt; its JSON config and .train.json record go beside it)."""
    init: Path | None = None
    """Checkpoint to adapt (default: the bundled one)."""
    minutes: float = 10.0
    """Training time budget; the self-checks come after it."""
    max_steps: int | None = None
    """Stop after this many steps (for tests)."""
    batch_size: int = 16
    """Samples per step."""
    lr: float = 1e-4
    """Adam's learning rate."""
    check_share: float = 0.25
    """Share of the items never trained on, that the self-checks run on."""
    seed: int = 0
    """Seed of sampling and perturbations."""
    device: str | None = None
    """cpu or cuda (default: cuda when there is one)."""
    threads: int | None = None
    """Torch CPU threads (default: torch's)."""


@dataclass(kw_only=True)
class PredictOptions:
    """Proposals for a project, or one clip's prediction."""

    project: str | None = None
    """Write proposals for every unreviewed item of this project."""
    clip: Path | None = None
    """Predict one media file instead (families that take clips)."""
    checkpoint: Path | None = None
    """Checkpoint to use (default: the project's active version, else the bundled one)."""
    device: str | None = None
    """cpu or cuda (default: cuda when there is one)."""


@cache
def field_docs(cls: type) -> dict[str, str]:
    """{field: docstring} of a dataclass and its bases (the string literal under each field)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _base_type(hint: Any) -> type:
    """int for `int | None`, Path for `Path`, and so on."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return _base_type(args[0])
    return hint


def _hints(cls: type) -> dict[str, type]:
    return {name: _base_type(hint) for name, hint in typing.get_type_hints(cls).items()}


def add_options(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One flag per field: `--max-steps N`; booleans as `--flag` (default off) or `--no-flag` (default on)."""
    docs, hints = field_docs(cls), _hints(cls)
    for f in fields(cls):
        if f.name in skip:
            continue
        kind, flag = hints[f.name], "--" + f.name.replace("_", "-")
        help_text = docs.get(f.name, "").replace("%", "%%")  # argparse formats help with %
        required = f.default is MISSING and f.default_factory is MISSING
        default = None if required else (f.default if f.default is not MISSING else f.default_factory())
        if kind is bool:
            if default:
                parser.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false",
                                    help=help_text)
            else:
                parser.add_argument(flag, dest=f.name, action="store_true", help=help_text)
            continue
        parser.add_argument(flag, dest=f.name, type=kind, required=required, default=default,
                            help=help_text + ("" if required or default is None else f" (default: {default})"))


def from_namespace(cls: type[Options], args: argparse.Namespace) -> Options:
    """The options a parsed command line gives."""
    return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})


def from_params(cls: type[Options], params: dict, **given: Any) -> Options:
    """Options from a job's JSON params (plus `given` fields); unknown names are refused by name."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; {cls.__name__} takes "
                         f"{', '.join(sorted(names))}")
    hints = _hints(cls)
    values = {name: value if value is None or isinstance(value, hints[name]) else hints[name](value)
              for name, value in {**params, **given}.items()}
    return cls(**values)


def to_argv(options: Any) -> list[str]:
    """The flags that give these options back (what each torchrun process is started with)."""
    argv: list[str] = []
    for f in fields(options):
        value = getattr(options, f.name)
        default = None if f.default is MISSING else f.default
        if value is None or (value == default and f.default is not MISSING):
            continue
        name = f.name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(f"--{name}" if value else f"--no-{name}")
        else:
            argv += [f"--{name}", str(value)]
    return argv
