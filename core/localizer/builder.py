"""Named localizer configurations and the function that builds a network from one."""

from __future__ import annotations

from dataclasses import replace

from core.localizer.config import AudioConfig, LocalizerConfig, NetworkConfig
from core.localizer.encoders import load_torchvision_resnet18
from core.localizer.network import Localizer

CONFIGS: dict[str, LocalizerConfig] = {
    # the thesis's size: two 64-wide ResNet18s, 224 px frames, 14 x 14 maps (5.5.3)
    "thesis": LocalizerConfig(name="thesis"),
    # CPU demo and bundled checkpoint: 16-wide streams, 128 px frames, 8 x 8 maps, and a coarser
    # 129 x 150 spectrogram (the 257 x 300 one made the audio stream 2/3 of a CPU training step)
    "tiny": LocalizerConfig(name="tiny", network=NetworkConfig(base_width=16, image_size=128),
                            audio=AudioConfig(n_fft=256, hop=320, win=256)),
    # unit tests only
    "micro": LocalizerConfig(name="micro", network=NetworkConfig(base_width=4, image_size=64),
                             audio=AudioConfig(n_fft=256, hop=320, win=256)),
}
VARIANTS = ("trimap", "positives-only", "no-ignore")


def named_config(name: str, variant: str = "trimap") -> LocalizerConfig:
    """The registered configuration `name` with the loss variant set."""
    if name not in CONFIGS:
        raise KeyError(f"unknown localizer config {name!r}; known: {', '.join(CONFIGS)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown loss variant {variant!r}; known: {', '.join(VARIANTS)}")
    config = CONFIGS[name]
    return replace(config, loss=replace(config.loss, variant=variant))


def build_localizer(config: LocalizerConfig | str, visual_weights: str | None = None) -> Localizer:
    """A freshly initialised localizer; `visual_weights` is an optional local resnet18 .pth file."""
    config = named_config(config) if isinstance(config, str) else config
    model = Localizer(config)
    if visual_weights:
        load_torchvision_resnet18(model.visual.trunk, visual_weights)
    return model


__all__ = ["CONFIGS", "VARIANTS", "build_localizer", "named_config"]
