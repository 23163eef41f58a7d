"""Localizer networks from a config: fresh, or with a checkpoint's weights."""

from __future__ import annotations

from pathlib import Path

from core.checkpoints import load_checkpoint, model_config
from core.localizer.config import FAMILY, LocalizerConfig, named_config
from core.localizer.encoders import load_torchvision_resnet18
from core.localizer.network import Localizer


def build_localizer(config: LocalizerConfig | str, visual_weights: str | None = None) -> Localizer:
    """A freshly initialised localizer; `visual_weights` is an optional local resnet18 .pth file."""
    config = named_config(config) if isinstance(config, str) else config
    model = Localizer(config)
    if visual_weights:
        load_torchvision_resnet18(model.visual.trunk, visual_weights)
    return model


def load_localizer(state: dict, config: LocalizerConfig) -> Localizer:
    """A localizer for `config` holding the weights `state` (half-precision checkpoints come back as fp32)."""
    model = build_localizer(config)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model


def read_checkpoint(path: str | Path) -> tuple[dict, LocalizerConfig]:
    """(weights, config) of a localizer checkpoint."""
    state, meta = load_checkpoint(path)
    return state, LocalizerConfig.from_dict(model_config(meta, FAMILY, path))
