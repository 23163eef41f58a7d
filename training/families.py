"""The model-family registry: one line per family; every list of models in the code reads it.

A family is a package `training/<name>/` whose `__init__.py` defines `FAMILY` (a ModelFamily).
More can be added without editing this file through `MODEL_FAMILIES` (core/config.py), a
comma-separated list of such packages.
"""

from __future__ import annotations

import importlib
from functools import cache

from core.config import get_settings
from training.family import ModelFamily

BUILT_IN = (
    "training.autocorrect",
    "training.localizer",
    "training.avst",
    "training.audioclass",
)


@cache
def families() -> dict[str, ModelFamily]:
    """Every registered family by name, built-in ones first."""
    found: dict[str, ModelFamily] = {}
    for module in (*BUILT_IN, *get_settings().model_families):
        family = importlib.import_module(module).FAMILY
        if family.name in found:
            raise ValueError(f"{module}: a model family named {family.name!r} is already registered")
        found[family.name] = family
    return found


def family_names() -> tuple[str, ...]:
    """The registered families' names."""
    return tuple(families())


def get_family(name: str) -> ModelFamily:
    """The family called `name`; ValueError naming the known ones otherwise."""
    try:
        return families()[name]
    except KeyError:
        raise ValueError(f"model must be one of {', '.join(families())} (not {name!r})") from None


def family_for_kind(kind: str) -> ModelFamily | None:
    """The family that proposes for a project kind ('railway', 'sync', ...), None if no model does; a family
    registered through MODEL_FAMILIES takes a kind over from a built-in one (a lab's own model)."""
    return next((f for f in reversed(families().values()) if kind in f.project_kinds), None)
