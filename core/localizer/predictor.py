"""Heatmaps and boxes for clip files or arrays: owns decoding, eval mode, device and dtype."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.checkpoints import checkpoint_version
from core.devices import resolve_device
from core.localizer.boxes import BoxConfig, ScoredBox, heatmap_boxes
from core.localizer.builder import load_localizer, read_checkpoint
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


class LocalizerPredictor:
    """A trained localizer in eval mode on one device; bf16 autocast on CUDA."""

    def __init__(self, model: Localizer, model_version: str, device: str | torch.device | None = None,
                 boxes: BoxConfig = BoxConfig()):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.config: LocalizerConfig = model.config
        self.model_version = model_version
        self.box_config = boxes

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device | None = None) -> "LocalizerPredictor":
        """Load weights (weights_only) and the config JSON beside them."""
        state, config = read_checkpoint(path)
        return cls(load_localizer(state, config), checkpoint_version(path), device)

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
