"""Heatmaps and boxes for clip files or arrays: owns decoding, eval mode, device and dtype.

Frames of any aspect are letterboxed into the square input (core/framing.py); boxes come back in
fractions of the source frame, and boxes lying mostly on the black bars are dropped. Every answer
carries how specific the map is to the clip's audio and the uncertainty made from it
(core/localizer/selfcheck.py), which a calibration turns into confident or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.checkpoints import checkpoint_version
from core.devices import resolve_device
from core.framing import Letterbox
from core.localizer.boxes import BoxConfig, ScoredBox, heatmap_boxes
from core.localizer.builder import load_localizer, read_checkpoint
from core.localizer.config import LocalizerConfig
from core.localizer.dataset import ClipInputs, decode_clip
from core.localizer.heatmaps import peak_contrast
from core.localizer.network import Localizer, similarity_maps
from core.localizer.selfcheck import (PARTNERS, LocalizerSelfCheck, heavier_side, reference_waveforms,
                                      side_by_side, specificity, summarise, trial_plan, uncertainty_of)

MIN_COVER = 0.5  # a box must lie at least this much on the picture (not the bars) to be kept


@dataclass
class Localization:
    """One clip's answer: its S_{i->i} map (h, w) over the square input, boxes, confidence statistics
    and the model version."""

    heatmap: np.ndarray
    boxes: list[ScoredBox]  # fractions of the source frame (of the square input when no letterbox is given)
    uncertainty: float  # 1 - specificity clipped to [0, 1]; 1 for a flat map
    model_version: str
    specificity: float = 0.0  # own map over its top region minus the most any reference sound gives there
    contrast: float = 0.0  # peak above median of the map (cosine units)
    frame_size: tuple[int, int] | None = None  # (width, height) px of the source frame, when known


def frame_boxes(boxes: list[ScoredBox], letterbox: Letterbox | None) -> list[ScoredBox]:
    """Boxes in fractions of the square -> fractions of the source frame; those mostly on the bars dropped."""
    if letterbox is None:
        return list(boxes)
    kept = []
    for box in boxes:
        corners = (box.x1, box.y1, box.x2, box.y2)
        if letterbox.covers(corners) < MIN_COVER:
            continue
        x1, y1, x2, y2 = letterbox.to_frame(corners)
        if x2 > x1 and y2 > y1:
            kept.append(ScoredBox(x1, y1, x2, y2, box.score))
    return kept


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

    # ---- embeddings and maps ----

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")

    @torch.inference_mode()
    def _visual(self, images: np.ndarray) -> torch.Tensor:
        """(n, c, h, w) unit-norm visual features of (n, S, S, 3) uint8 frames (float32)."""
        pixels = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        pixels = pixels.permute(0, 3, 1, 2).float() / 255.0
        with self._autocast():
            visual = self.model.visual(pixels)
        return F.normalize(visual.float(), dim=1)

    @torch.inference_mode()
    def _audio(self, waveforms: np.ndarray) -> torch.Tensor:
        """(n, c) unit-norm audio embeddings of (n, samples) windows (float32)."""
        audio = torch.from_numpy(np.ascontiguousarray(waveforms, dtype=np.float32)).to(self.device)
        with self._autocast():
            embedded = self.model.audio(self.model.spectrograms(audio))
        return F.normalize(embedded.float(), dim=1)

    @cached_property
    def _references(self) -> torch.Tensor:
        """Embeddings of the reference sounds the specificity compares with (computed once)."""
        samples = int(round(self.config.audio.seconds * self.config.audio.sample_rate))
        return self._audio(reference_waveforms(samples, self.config.audio.sample_rate))

    @torch.inference_mode()
    def heatmaps(self, images: np.ndarray, waveforms: np.ndarray) -> np.ndarray:
        """(n, h, w) float32 maps for (n, S, S, 3) uint8 frames and (n, samples) audio windows."""
        pixels = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        pixels = pixels.permute(0, 3, 1, 2).float() / 255.0
        audio = torch.from_numpy(np.ascontiguousarray(waveforms, dtype=np.float32)).to(self.device)
        with self._autocast():
            maps = self.model.heatmaps(pixels, audio)
        return maps.float().cpu().numpy()

    @torch.inference_mode()
    def heatmaps_with_audio(self, images: np.ndarray, waveforms: np.ndarray) -> np.ndarray:
        """(n_audio, n_images, h, w) maps S_{a->j} of every audio window against every frame, in one batch."""
        return similarity_maps(self._audio(waveforms), self._visual(images)).cpu().numpy()

    # ---- localisation ----

    def _statistics(self, visual: torch.Tensor, audio: torch.Tensor) -> list[tuple[np.ndarray, float, float]]:
        """(own map, specificity, contrast) per clip from unit-norm features."""
        own = torch.einsum("nc,nchw->nhw", audio, visual).cpu().numpy()
        references = torch.einsum("kc,nchw->nkhw", self._references, visual).cpu().numpy()
        return [(m, specificity(m, r), peak_contrast(m)) for m, r in zip(own, references)]

    def localize_arrays(self, images: np.ndarray, waveforms: np.ndarray,
                        letterboxes: list[Letterbox | None] | None = None) -> list[Localization]:
        """Heatmap, boxes and confidence statistics per clip of a batch of decoded inputs; with each
        clip's letterbox the boxes are fractions of its source frame."""
        stats = self._statistics(self._visual(images), self._audio(waveforms))
        letterboxes = letterboxes or [None] * len(stats)
        out = []
        for (heatmap, specific, contrast), letterbox in zip(stats, letterboxes):
            boxes = frame_boxes(heatmap_boxes(heatmap, self.box_config), letterbox)
            size = None if letterbox is None else (letterbox.width, letterbox.height)
            out.append(Localization(heatmap, boxes, uncertainty_of(specific, contrast), self.model_version,
                                    specific, contrast, size))
        return out

    def localize_inputs(self, inputs: list[ClipInputs]) -> list[Localization]:
        """localize_arrays of decoded clips, boxes in fractions of each source frame."""
        return self.localize_arrays(np.stack([c.frame for c in inputs]), np.stack([c.waveform for c in inputs]),
                                    [c.letterbox for c in inputs])

    def load(self, path: str | Path) -> ClipInputs:
        """The model's inputs of one media file (centre frame letterboxed, audio window) and its letterbox."""
        return decode_clip(path, self.config.network.image_size, self.config.audio)

    def decode(self, path: str | Path) -> tuple[np.ndarray, np.ndarray]:
        """The model's inputs of one media file: centre frame (letterboxed) and the audio window around it."""
        inputs = self.load(path)
        return inputs.frame, inputs.waveform

    def localize_file(self, path: str | Path) -> Localization:
        """Decode one clip and localize its sound source (boxes in fractions of its frame)."""
        return self.localize_inputs([self.load(path)])[0]

    # ---- self-check ----

    def self_check(self, frames: np.ndarray, waveforms: np.ndarray, keys: list[str] | None = None,
                   partners: int = PARTNERS, batch_size: int = 64) -> LocalizerSelfCheck:
        """Two clips' frames side by side with one clip's audio: does the map go to its half?
        Per clip: its uncertainty and whether it passed every trial; the threshold from them."""
        frames, n = np.asarray(frames), len(frames)
        keys = keys or [str(i) for i in range(n)]
        if n < 2:
            return summarise([])
        visual, audio = self._visual(frames), self._audio(waveforms)
        stats = self._statistics(visual, audio)
        plan = trial_plan((audio @ audio.T).cpu().numpy(), min(partners, n - 1))
        passed = np.zeros(len(plan), dtype=bool)
        for start in range(0, len(plan), batch_size):
            chunk = plan[start:start + batch_size]
            pictures = side_by_side(frames[[left for _, left, _ in chunk]], frames[[right for _, _, right in chunk]])
            maps = torch.einsum("nc,nchw->nhw", audio[[i for i, _, _ in chunk]], self._visual(pictures))
            for k, ((i, left, _), heatmap) in enumerate(zip(chunk, maps.cpu().numpy())):
                passed[start + k] = heavier_side(heatmap) == (0 if left == i else 1)
        rows = []
        for i, (_, specific, contrast) in enumerate(stats):
            mine = [passed[t] for t, trial in enumerate(plan) if trial[0] == i]
            rows.append({"clip": keys[i], "uncertainty": uncertainty_of(specific, contrast),
                         "specificity": round(specific, 5), "trials": len(mine), "passed": int(sum(mine)),
                         "recovered": bool(mine) and all(mine)})
        return summarise(rows)
