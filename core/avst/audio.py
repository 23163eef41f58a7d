"""Log-mel spectrogram with the thesis' FFT window 320 and hop 40 at 16 kHz (6.A)."""

from __future__ import annotations

import torch
import torchaudio
from torch import nn

from core.avst.config import HOP, N_FFT, SAMPLE_RATE


class LogSpectrogram(nn.Module):
    """Waveform (..., samples) at 16 kHz -> log-mel spectrogram (..., n_mels, samples // 40)."""

    def __init__(self, n_mels: int) -> None:
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE, n_fft=N_FFT, win_length=N_FFT, hop_length=HOP, n_mels=n_mels,
            center=True)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        spec = self.mel(waveform)[..., : waveform.shape[-1] // HOP]  # one column per hop, start-aligned
        return torch.log(spec + 1e-6)
