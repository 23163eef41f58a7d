"""Heatmaps and boxes for clip files or arrays: owns decoding, eval mode, device and dtype."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.localizer.boxes import BoxConfig, ScoredBox, heatmap_boxes
from core.localizer.builder import build_localizer
from core.localizer.config import LocalizerConfig
from core.localizer.dataset import clip_inputs
from core.localizer.heatmaps import peak_contrast
from core.localizer.network import Localizer


@dataclass
class Localization:
    """One clip's answer: its S_{i->i} map (h, w), boxes, uncertainty and the model version."""

    heatmap: np.ndarray
    boxes: list[ScoredBox]
    uncertainty: float
    model_version: str


def pick_device(device: str | None = None) -> torch.device:
    """The device asked for, else CUDA when there is one, else the CPU."""
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


class LocalizerPredictor:
    """A trained localizer in eval mode on one device; bf16 autocast on CUDA."""

    def __init__(self, model: Localizer, model_version: str, device: str | None = None,
                 boxes: BoxConfig = BoxConfig()):
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.config: LocalizerConfig = model.config
        self.model_version = model_version
        self.box_config = boxes

    @classmethod
    def from_state(cls, state: dict, config: dict | LocalizerConfig, model_version: str,
                   device: str | None = None) -> "LocalizerPredictor":
        """A predictor from saved weights and the localizer config they were trained with."""
        config = config if isinstance(config, LocalizerConfig) else LocalizerConfig.from_dict(config)
        model = build_localizer(config)
        model.load_state_dict({k: v.float() for k, v in state.items()})
        return cls(model, model_version, device)

    @torch.inference_mode()
    def heatmaps(self, images: np.ndarray, waveforms: np.ndarray) -> np.ndarray:
        """(n, h, w) float32 maps for (n, S, S, 3) uint8 frames and (n, samples) audio windows."""
        pixels = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        pixels = pixels.permute(0, 3, 1, 2).float() / 255.0
        audio = torch.from_numpy(np.ascontiguousarray(waveforms, dtype=np.float32)).to(self.device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            maps = self.model.heatmaps(pixels, audio)
        return maps.float().cpu().numpy()

    def localize_arrays(self, images: np.ndarray, waveforms: np.ndarray) -> list[Localization]:
        """Heatmap, boxes and uncertainty per clip of a batch of decoded inputs."""
        return [Localization(m, heatmap_boxes(m, self.box_config), 1.0 - peak_contrast(m),
                             self.model_version) for m in self.heatmaps(images, waveforms)]

    def decode(self, path: str | Path) -> tuple[np.ndarray, np.ndarray]:
        """The model's inputs of one media file: centre frame and the audio window around it."""
        return clip_inputs(path, self.config.network.image_size, self.config.audio)

    def localize_file(self, path: str | Path) -> Localization:
        """Decode one clip and localize its sound source."""
        frame, audio = self.decode(path)
        return self.localize_arrays(frame[None], audio[None])[0]
