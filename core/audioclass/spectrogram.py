"""The classifier's input: a per-clip normalised log-magnitude spectrogram (257 x T)."""

from __future__ import annotations

import torch

from core.audioclass.config import AudioConfig


def log_spectrogram(waveforms: torch.Tensor, audio: AudioConfig) -> torch.Tensor:
    """(B, samples) mono audio -> (B, 1, n_fft/2 + 1, T) log |STFT|, each clip normalised to zero mean and
    unit variance (as hche11/VGGSound's loader: log(|S| + 1e-7), then (S - mean) / (std + 1e-9))."""
    window = torch.hann_window(audio.win, device=waveforms.device)
    spectrum = torch.stft(waveforms.float(), n_fft=audio.n_fft, hop_length=audio.hop, win_length=audio.win,
                          window=window, center=True, return_complex=True)
    logged = torch.log(spectrum.abs() + 1e-7)
    mean = logged.mean(dim=(1, 2), keepdim=True)
    std = logged.std(dim=(1, 2), keepdim=True)
    return ((logged - mean) / (std + 1e-9)).unsqueeze(1)
