"""Category timbres synthesised with numpy, and their placement as events in a buffer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

SAMPLE_RATE = 16000

# Vowel formants (F1, F2, F3 in Hz) of an adult male voice: a, e, i, o, u.
_VOWELS = np.array(
    [[730, 1090, 2440], [530, 1840, 2480], [270, 2290, 3010], [570, 840, 2410], [300, 870, 2240]],
    dtype=np.float64,
)


def _seconds(n: int, sample_rate: int) -> np.ndarray:
    return np.arange(n) / sample_rate


def _attack_release(n: int, sample_rate: int, attack: float, release: float) -> np.ndarray:
    t = _seconds(n, sample_rate)
    rise = np.clip(t / attack, 0.0, 1.0)
    fall = np.clip((n / sample_rate - t) / release, 0.0, 1.0)
    return rise * fall


def _resonances(
    signal: np.ndarray, centres: Sequence[float], widths: Sequence[float], sample_rate: int
) -> np.ndarray:
    """The signal through a bank of Gaussian band-pass resonances (done in the frequency domain)."""
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(len(signal), 1.0 / sample_rate)[:, None]
    centres = np.asarray(centres, dtype=np.float64)[None, :]
    widths = np.asarray(widths, dtype=np.float64)[None, :]
    gain = np.exp(-0.5 * ((freqs - centres) / widths) ** 2).sum(axis=1)
    return np.fft.irfft(spectrum * gain, n=len(signal))


def _harmonics(phase: np.ndarray, amplitudes: np.ndarray) -> np.ndarray:
    """Sum of sines at integer multiples of a running phase (radians)."""
    orders = np.arange(1, len(amplitudes) + 1)
    return np.sin(phase[:, None] * orders[None, :]) @ amplitudes


def _phase(freq: np.ndarray, sample_rate: int) -> np.ndarray:
    return 2.0 * np.pi * np.cumsum(freq) / sample_rate


def _peak_normalised(signal: np.ndarray) -> np.ndarray:
    peak = np.max(np.abs(signal))
    return signal / peak if peak > 0 else signal


def _bark(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    n = int(rng.uniform(0.13, 0.22) * sample_rate)
    t = _seconds(n, sample_rate)
    f0 = rng.uniform(380, 560) * (1.0 - 0.35 * t / t[-1])
    voiced = _harmonics(_phase(f0, sample_rate), 1.0 / np.arange(1, 9))
    source = voiced + 1.2 * rng.standard_normal(n)
    formants = [rng.uniform(650, 900), rng.uniform(1300, 1800), rng.uniform(2500, 3200)]
    shaped = _resonances(source, formants, [160, 260, 380], sample_rate)
    envelope = np.clip(t / 0.004, 0, 1) * np.exp(-t / (0.3 * t[-1]))
    return shaped * envelope


def _bell(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    n = int(rng.uniform(0.9, 1.4) * sample_rate)
    t = _seconds(n, sample_rate)
    ratios = np.array([1.0, 2.01, 2.43, 3.02, 4.16, 5.43, 6.79]) * rng.uniform(0.99, 1.01, 7)
    freqs = rng.uniform(480, 880) * ratios
    amplitudes = np.array([1.0, 0.7, 0.55, 0.45, 0.3, 0.2, 0.12])
    taus = rng.uniform(0.35, 0.5) * t[-1] / np.sqrt(ratios)
    phases = rng.uniform(0, 2 * np.pi, 7)
    partials = np.sin(2 * np.pi * t[:, None] * freqs + phases) * np.exp(-t[:, None] / taus)
    strike = rng.standard_normal(n) * np.exp(-t / 0.003) * 0.6
    return (partials @ amplitudes + strike) * np.clip(t / 0.002, 0, 1)


def _drum(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    n = int(rng.uniform(0.35, 0.55) * sample_rate)
    t = _seconds(n, sample_rate)
    f_start, f_end = rng.uniform(120, 180), rng.uniform(45, 65)
    freq = f_end + (f_start - f_end) * np.exp(-t / 0.03)
    body = np.sin(_phase(freq, sample_rate)) * np.exp(-t / (0.3 * t[-1]))
    click = rng.standard_normal(n) * np.exp(-t / 0.004) * 0.5
    return body + click


def _flute(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    n = int(rng.uniform(0.3, 0.7) * sample_rate)
    t = _seconds(n, sample_rate)
    vibrato = 1.0 + 0.012 * np.sin(2 * np.pi * rng.uniform(4.5, 6.0) * t)
    f0 = rng.uniform(520, 1000)
    tone = _harmonics(_phase(f0 * vibrato, sample_rate), np.array([1.0, 0.35, 0.15, 0.06]))
    breath = _resonances(rng.standard_normal(n), [2 * f0], [300], sample_rate) * 0.15
    return (tone + breath) * _attack_release(n, sample_rate, 0.012, 0.06)


def _engine_tone(n: int, rng: np.random.Generator, sample_rate: int, rev: float) -> np.ndarray:
    t = _seconds(n, sample_rate)
    base = rng.uniform(32, 60)
    wobble = 1.0 + 0.02 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 6.3))
    swell = 1.0 + rev * np.sin(np.pi * np.clip(t / max(t[-1], 1e-9), 0, 1))
    f0 = base * wobble * swell
    orders = np.arange(1, 25)
    amplitudes = np.exp(-orders * base / 500.0) / orders**0.5
    phase = _phase(f0, sample_rate)
    firing = 1.0 + 0.5 * np.sin(phase * 0.5)
    rumble = _resonances(rng.standard_normal(n), [150], [120], sample_rate) * 0.4
    return _harmonics(phase, amplitudes) * firing + rumble


def _engine(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    n = int(rng.uniform(0.5, 0.9) * sample_rate)
    return _engine_tone(n, rng, sample_rate, rev=0.4) * _attack_release(n, sample_rate, 0.01, 0.1)


def _syllable(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    n = int(rng.uniform(0.13, 0.24) * sample_rate)
    t = _seconds(n, sample_rate)
    f0 = rng.uniform(100, 140) * (1.0 + 0.08 * (0.5 - t / t[-1]))
    orders = int(3500 // 140)
    voiced = _harmonics(_phase(f0, sample_rate), 1.0 / np.arange(1, orders + 1) ** 1.2)
    formants = _VOWELS[rng.integers(len(_VOWELS))] * rng.uniform(0.95, 1.05, 3)
    vowel = _resonances(voiced, formants, [90, 120, 160], sample_rate)
    vowel = _peak_normalised(vowel)
    if rng.random() < 0.4:  # an unvoiced consonant ("s", "t") in front of the vowel
        hiss = _resonances(rng.standard_normal(n), [rng.uniform(3500, 5500)], [900], sample_rate)
        vowel += 0.5 * _peak_normalised(hiss) * np.exp(-t / 0.02)
    return vowel * _attack_release(n, sample_rate, 0.008, 0.04)


def _bubbles(n: int, rate: float, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """Rising chirps of small air bubbles at random times (the burble of running water)."""
    out = np.zeros(n)
    length = int(0.02 * sample_rate)
    t = _seconds(length, sample_rate)
    count = rng.poisson(rate * n / sample_rate)
    for start, f0, gain in zip(
        rng.integers(0, max(n - length, 1), count),
        rng.uniform(500, 1400, count),
        rng.uniform(0.2, 1.0, count),
    ):
        chirp = np.sin(2 * np.pi * f0 * (t + 8.0 * t**2)) * np.exp(-t / 0.006)
        out[start : start + length] += gain * chirp[: n - start]
    return out


def _water_bed(n: int, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    centre = rng.uniform(1200, 2500)
    hiss = _resonances(rng.standard_normal(n), [centre, 2 * centre], [900, 1500], sample_rate)
    return _peak_normalised(hiss) + 0.5 * _bubbles(n, 25.0, rng, sample_rate)


def _water(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    n = int(rng.uniform(0.4, 0.8) * sample_rate)
    return _water_bed(n, rng, sample_rate) * _attack_release(n, sample_rate, 0.01, 0.12)


def _wind_bed(n: int, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    t = _seconds(n, sample_rate)
    gusts = 1.0 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6.3))
    return _resonances(rng.standard_normal(n), [0.0, 300.0], [250, 200], sample_rate) * gusts


_EVENTS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "bark": _bark,
    "bell": _bell,
    "drum": _drum,
    "flute": _flute,
    "engine": _engine,
    "speech": _syllable,
    "water": _water,
}

_BEDS: dict[str, Callable[[int, np.random.Generator, int], np.ndarray]] = {
    "engine": lambda n, rng, sr: _engine_tone(n, rng, sr, rev=0.0),
    "water": _water_bed,
    "wind": _wind_bed,
}

TIMBRES: tuple[str, ...] = tuple(_EVENTS)
"""Timbres that come as discrete events with a sharp onset."""

AMBIENT_TIMBRES: tuple[str, ...] = tuple(_BEDS)
"""Timbres that also exist as a constant, eventless bed."""

MONOPHONIC = frozenset({"bark", "flute", "speech", "engine"})
"""Timbres of sources that make one sound at a time (a new event cuts the last one short)."""


def event_sound(timbre: str, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One event of a timbre, peak 1, starting with its onset at sample 0."""
    return _peak_normalised(_EVENTS[timbre](rng, sample_rate))


def ambient_sound(
    timbre: str, n_samples: int, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """A constant bed of an ambient timbre (engine hum, water, wind), peak 1."""
    return _peak_normalised(_BEDS[timbre](n_samples, rng, sample_rate))


def _choke(buffer: np.ndarray, start: int, timbre: str, sample_rate: int) -> None:
    """Quiet what still sounds before a new event, so every onset stands out (in place).

    A voice, flute or dog pauses briefly before the next syllable, note or bark; a struck bell's
    new strike damps most of its ringing.
    """
    fade = int(0.004 * sample_rate)
    if timbre in MONOPHONIC:
        stop = max(start - int(0.02 * sample_rate), 0)
        lead = min(fade, stop)
        buffer[stop - lead : stop] *= np.linspace(1.0, 0.0, lead)
        buffer[stop:] = 0.0
    elif timbre == "bell":
        lead = min(fade, start)
        buffer[start - lead : start] *= np.linspace(1.0, 0.3, lead)
        buffer[start:] *= 0.3


def place_events(
    timbre: str,
    onsets: Sequence[float],
    n_samples: int,
    rng: np.random.Generator,
    sample_rate: int = SAMPLE_RATE,
    gain_range: tuple[float, float] = (0.6, 1.0),
) -> np.ndarray:
    """A buffer with one event of the timbre starting at each onset (seconds), exactly."""
    out = np.zeros(n_samples)
    for onset in sorted(onsets):
        start = int(round(onset * sample_rate))
        if not 0 <= start < n_samples:
            continue
        _choke(out, start, timbre, sample_rate)
        event = event_sound(timbre, rng, sample_rate) * rng.uniform(*gain_range)
        stop = min(start + len(event), n_samples)
        out[start:stop] += event[: stop - start]
    return out


def background_noise(n_samples: int, rng: np.random.Generator, rms: float) -> np.ndarray:
    """Soft pinkish room noise with the given RMS level."""
    white = rng.standard_normal(n_samples)
    spectrum = np.fft.rfft(white)
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    pink = np.fft.irfft(spectrum, n=n_samples)
    level = np.sqrt(np.mean(pink**2))
    return pink * (rms / level) if level > 0 else pink


def mixdown(signal: np.ndarray, peak: float) -> np.ndarray:
    """The signal scaled to the given peak, as float32 mono ready for the encoder."""
    return (_peak_normalised(signal) * peak).astype(np.float32)


def event_onsets(
    duration: float,
    rng: np.random.Generator,
    rate: tuple[float, float] = (1.0, 3.0),
    fps: float = 25.0,
    min_gap: float = 0.16,
    margin: float = 0.2,
) -> np.ndarray:
    """Irregular event times (seconds, on frame boundaries) at a random rate in `rate` per second."""
    mean_gap = max(1.0 / rng.uniform(*rate), min_gap + 0.05)
    times = []
    t = margin + rng.uniform(0.0, mean_gap)
    while t <= duration - margin:
        times.append(t)
        t += rng.uniform(min_gap, 2 * mean_gap - min_gap)  # spread gaps: never periodic
    if not times:
        times.append(rng.uniform(0.0, max(duration - margin, 0.0)))
    frames = np.unique(np.round(np.asarray(times) * fps).astype(np.int64))
    return frames / fps
