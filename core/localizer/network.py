"""The two-stream localizer and its audio-to-image cosine-similarity maps (5.3.2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.localizer.audio import log_spectrogram
from core.localizer.config import LocalizerConfig
from core.localizer.encoders import AudioEncoder, VisualEncoder


def similarity_maps(audio: torch.Tensor, visual: torch.Tensor) -> torch.Tensor:
    """S[i, j] = cosine(A_i, V_j[:, u, v]) for every audio i and image j: (Ba, c), (Bv, c, h, w) -> (Ba, Bv, h, w)."""
    audio = F.normalize(audio, dim=1)
    visual = F.normalize(visual, dim=1)
    return torch.einsum("ic,jchw->ijhw", audio, visual)


def own_maps(maps: torch.Tensor) -> torch.Tensor:
    """The diagonal S_{i->i} of a (B, B, h, w) map stack: (B, h, w)."""
    return maps.diagonal(dim1=0, dim2=1).permute(2, 0, 1)


class Localizer(nn.Module):
    """f (visual) and g (audio) streams; forward gives all S_{i->j} of a batch."""

    def __init__(self, config: LocalizerConfig):
        super().__init__()
        self.config = config
        self.visual = VisualEncoder(config.network)
        self.audio = AudioEncoder(config.network)

    def spectrograms(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(B, samples) mono waveforms -> (B, 1, F, T) log spectrograms (the audio stream's input)."""
        return log_spectrogram(waveforms, self.config.audio)

    def encode(self, images: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(V: B x c x h x w, A: B x c) from RGB in [0, 1] (B, 3, H, W) and audio given as mono
        waveforms (B, samples) or as their log spectrograms (B, 1, F, T), e.g. cached for training."""
        spectrograms = self.spectrograms(audio) if audio.dim() == 2 else audio
        return self.visual(images), self.audio(spectrograms)

    def forward(self, images: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """(B, B, h, w): S[i, j] puts audio i in correspondence with image j."""
        visual, audio = self.encode(images, audio)
        return similarity_maps(audio, visual)

    def heatmaps(self, images: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """(B, h, w): S_{i->i}, each clip's audio against its own frame."""
        visual, audio = self.encode(images, audio)
        return (F.normalize(audio, dim=1)[:, :, None, None] * F.normalize(visual, dim=1)).sum(1)


class EmbeddingStep(nn.Module):
    """forward = the localizer's two embeddings, so DDP can wrap a step whose similarity maps are
    built after gathering every process's embeddings (easy negatives span the global batch)."""

    def __init__(self, localizer: Localizer):
        super().__init__()
        self.localizer = localizer

    def forward(self, images: torch.Tensor, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.localizer.encode(images, audio)
