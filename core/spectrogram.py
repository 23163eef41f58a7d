"""A spectrogram for people to look at: log power over time and frequency, scaled to [0, 1]."""

from __future__ import annotations

import numpy as np

WINDOW, HOP = 512, 128  # samples of one STFT frame and between frames (32 ms and 8 ms at 16 kHz)
DYNAMIC_RANGE_DB = 70.0  # the quietest shown is this far below the loudest
QUIET_DB = -40.0  # a loudest bin below this (dB of power, full scale 1.0) is not stretched up: silence stays dark


def display_spectrogram(samples: np.ndarray) -> np.ndarray:
    """(WINDOW // 2 + 1, frames) float32 in [0, 1] of mono `samples` (full scale 1.0): Hann-windowed power in
    dB over the DYNAMIC_RANGE_DB below the loudest bin (or QUIET_DB); row 0 is the highest frequency."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < WINDOW:
        samples = np.pad(samples, (0, WINDOW - samples.size))
    frames = np.lib.stride_tricks.sliding_window_view(samples, WINDOW)[::HOP] * np.hanning(WINDOW)
    decibels = 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12)
    top = max(float(decibels.max()), QUIET_DB)
    scaled = np.clip((decibels - top + DYNAMIC_RANGE_DB) / DYNAMIC_RANGE_DB, 0.0, 1.0)
    return scaled.T[::-1].astype(np.float32)
