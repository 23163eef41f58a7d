"""The audio input: a log-magnitude spectrogram of the seconds around the centre frame (5.5.3)."""

from __future__ import annotations

import numpy as np
import torch

from core.localizer.config import AudioConfig


def window_samples(config: AudioConfig) -> int:
    """How many samples one input holds (48,000 for 3 s at 16 kHz)."""
    return int(round(config.seconds * config.sample_rate))


def frame_count(config: AudioConfig) -> int:
    """Spectrogram frames of one input (300 for 3 s at hop 160)."""
    return window_samples(config) // config.hop


def fit_window(samples: np.ndarray, config: AudioConfig) -> np.ndarray:
    """Mono samples zero-padded or centre-cropped to exactly one window."""
    want = window_samples(config)
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if len(samples) >= want:
        start = (len(samples) - want) // 2
        return samples[start:start + want]
    pad = want - len(samples)
    return np.pad(samples, (pad // 2, pad - pad // 2))


def log_spectrogram(waveforms: torch.Tensor, config: AudioConfig) -> torch.Tensor:
    """(B, samples) -> (B, 1, n_fft/2+1, frames): log |STFT|, standardised per clip."""
    window = torch.hann_window(config.win, device=waveforms.device, dtype=torch.float32)
    spec = torch.stft(waveforms.float(), n_fft=config.n_fft, hop_length=config.hop,
                      win_length=config.win, window=window, center=True, return_complex=True)
    spec = torch.log(spec.abs() + 1e-6)[..., : frame_count(config)]
    mean = spec.mean(dim=(1, 2), keepdim=True)
    std = spec.std(dim=(1, 2), keepdim=True).clamp_min(1e-5)
    return ((spec - mean) / std).unsqueeze(1)
