"""Audio classifiers from a config: fresh, or with a checkpoint's weights."""

from __future__ import annotations

from pathlib import Path

from core.audioclass.config import FAMILY, AudioClassConfig
from core.audioclass.network import AudioClassifier
from core.checkpoints import load_checkpoint, model_config


def build_classifier(config: AudioClassConfig) -> AudioClassifier:
    """A freshly initialised classifier over config.classes."""
    return AudioClassifier(config)


def load_classifier(state: dict, config: AudioClassConfig) -> AudioClassifier:
    """A classifier for `config` holding the weights `state` (half-precision weights come back as fp32)."""
    model = build_classifier(config)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model


def read_checkpoint(path: str | Path) -> tuple[dict, AudioClassConfig]:
    """(weights, config) of an audioclass checkpoint."""
    state, meta = load_checkpoint(path)
    return state, AudioClassConfig.from_dict(model_config(meta, FAMILY, path))
