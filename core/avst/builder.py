"""AVST networks from a config: fresh, or with a checkpoint's weights."""

from __future__ import annotations

from pathlib import Path

from core.avst.config import FAMILY, AVSTConfig
from core.avst.network import AVST
from core.checkpoints import load_checkpoint, model_config


def build_avst(config: AVSTConfig) -> AVST:
    """An untrained AVST network for a configuration."""
    return AVST(config)


def load_avst(state: dict, config: AVSTConfig) -> AVST:
    """An AVST network with these weights; older enc-mp checkpoints also held an unused E_s, dropped here."""
    model = build_avst(config)
    if model.space is None:
        state = {k: v for k, v in state.items() if k != "space"}
    model.load_state_dict(state)
    return model


def read_checkpoint(path: str | Path) -> tuple[dict, AVSTConfig]:
    """(weights, config) of an AVST checkpoint."""
    state, meta = load_checkpoint(path)
    return state, AVSTConfig.from_dict(model_config(meta, FAMILY, path))
