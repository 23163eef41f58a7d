"""The review pages' spectrogram: a tone lands in its frequency row, silence stays dark."""

from __future__ import annotations

import numpy as np

from core.spectrogram import HOP, WINDOW, display_spectrogram

RATE = 16000  # Hz


def test_a_tone_is_brightest_in_its_own_row_counted_from_the_top():
    t = np.arange(RATE) / RATE
    image = display_spectrogram(np.sin(2 * np.pi * 1000 * t))  # 1 kHz for 1 s
    assert image.shape == (WINDOW // 2 + 1, (RATE - WINDOW) // HOP + 1)
    assert 0.0 <= image.min() and image.max() == 1.0
    row = int(np.argmax(image.mean(axis=1)))
    assert row == WINDOW // 2 - round(1000 / (RATE / WINDOW))  # high frequencies on top: 1 kHz is bin 32
    assert image[:50].mean() < 0.3  # far above the tone: the dark end of the range


def test_silence_is_dark_and_a_clip_shorter_than_one_window_gives_one_column():
    assert display_spectrogram(np.zeros(RATE)).max() == 0.0
    assert display_spectrogram(np.zeros(100)).shape == (WINDOW // 2 + 1, 1)
