"""AutoCorrect networks from a config: fresh, or with a checkpoint's weights."""

from __future__ import annotations

from pathlib import Path

from core.autocorrect.config import FAMILY, AutoCorrectConfig
from core.autocorrect.network import AutoCorrectNet
from core.checkpoints import load_checkpoint, model_config


def build_autocorrect(config: AutoCorrectConfig) -> AutoCorrectNet:
    """A fresh network for `config`."""
    return AutoCorrectNet(config.in_channels, config.channels, config.kernels, config.fc,
                          config.stem_stride, config.pool_to, config.output_scale)


def load_autocorrect(state: dict, config: AutoCorrectConfig) -> AutoCorrectNet:
    """A network for `config` holding the weights `state`."""
    model = build_autocorrect(config)
    model.load_state_dict(state)
    return model


def read_checkpoint(path: str | Path) -> tuple[dict, AutoCorrectConfig]:
    """(weights, config) of an AutoCorrect checkpoint."""
    state, meta = load_checkpoint(path)
    return state, AutoCorrectConfig.from_dict(model_config(meta, FAMILY, path))
