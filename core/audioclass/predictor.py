"""Class probabilities and embeddings for files or arrays: owns decoding, eval mode, device and dtype.

At test the whole clip goes through the network (4.4.2: the entire 10 s, 257 x 1000 in the thesis).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.audioclass.builder import load_classifier, read_checkpoint
from core.audioclass.config import AudioClassConfig
from core.audioclass.dataset import decode_audio
from core.audioclass.network import AudioClassifier
from core.audioclass.spectrogram import log_spectrogram
from core.checkpoints import checkpoint_version
from core.devices import resolve_device


class AudioClassPredictor:
    """A trained audio classifier in eval mode on one device; bf16 autocast on CUDA."""

    def __init__(self, model: AudioClassifier, model_version: str, device: str | torch.device | None = None):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.config: AudioClassConfig = model.config
        self.model_version = model_version

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device | None = None) -> "AudioClassPredictor":
        """Load weights (weights_only) and the config JSON beside them."""
        state, config = read_checkpoint(path)
        return cls(load_classifier(state, config), checkpoint_version(path), device)

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes of the softmax, in column order."""
        return self.config.classes

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")

    @torch.inference_mode()
    def outputs(self, spectrograms: torch.Tensor, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """((n, C) softmax probabilities, (n, D) embeddings) of (n, 1, F, T) spectrograms."""
        probs, embeds = [], []
        for i in range(0, len(spectrograms), batch_size):
            x = spectrograms[i:i + batch_size].to(self.device).float()
            with self._autocast():
                embedding = self.model.embed(x)
                logits = self.model.classifier(embedding)
            probs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
            embeds.append(embedding.float().cpu().numpy())
        return np.concatenate(probs), np.concatenate(embeds)

    def probabilities(self, waveforms: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """(n, C) probabilities of mono 16 kHz waveforms: one batch if they are of equal length, else one by one."""
        if isinstance(waveforms, np.ndarray) and waveforms.ndim == 2:
            return self.outputs(self._spectrograms(waveforms))[0]
        return np.concatenate([self.outputs(self._spectrograms(np.asarray(w)[None]))[0] for w in waveforms])

    def _spectrograms(self, waveforms: np.ndarray) -> torch.Tensor:
        return log_spectrogram(torch.from_numpy(np.ascontiguousarray(waveforms, dtype=np.float32)),
                               self.config.audio)

    def predict_file(self, path: str | Path) -> dict[str, float]:
        """{class: probability} of one media file (wav, mp3 or any video with sound), the whole clip."""
        samples = decode_audio(path, self.config.audio)
        minimum = int(self.config.audio.crop_seconds * self.config.audio.sample_rate)
        if 0 < len(samples) < minimum:  # shorter than a training crop: looped to one
            samples = np.tile(samples, -(-minimum // len(samples)))[:minimum]
        probs = self.probabilities(samples[None])[0]
        return {name: float(p) for name, p in zip(self.classes, probs)}
