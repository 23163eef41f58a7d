"""VGG-Sound curation data (thesis 4.3.3-4.3.4): clips of >= 20 sound classes, a share of them carrying a
wrong label, some with a narrator or background music over them, a few re-uploaded duplicates.

Each clip is a short mp4 (48 x 48 frames at 1 fps, 16 kHz AAC): the picture shows the object that
really sounds (a class-coloured shape on a muted background), so curation can retrieve by visual
features as 4.3.4 does, and the clips import into a clip-verification project like any VGG-Sound
clip. Written: clips/<youtube_id>_<start>.mp4, labels.csv (VGG-Sound layout, the given and partly
wrong labels), truth.csv (the true ones; never read by training or filtering) and rules.json (the
stage-3 rules a curator would start from: instrument classes allow music, no class allows speech).

Speech-like and music-like overlays are synthesised here (espeak-ng is not used): speech is
formant-filtered voiced babble in syllables and words at 80-260 Hz pitch, music is notes of a
scale with harmonic timbres, a bass line and often a drum beat.
"""

from __future__ import annotations

import colorsys
import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.media import write_clip
from core.synthetic import sounds
from core.synthetic.localization import write_labels_csv, youtube_ids
from core.vggsound import clip_key

SAMPLE_RATE = sounds.SAMPLE_RATE
FRAME_SIZE = 48  # px
FPS = 1.0
OVERLAYS = ("speech", "music")
Generator = Callable[[int, np.random.Generator], np.ndarray]


# ---- class sounds (n samples at 16 kHz, any scale) ----


def _t(n: int) -> np.ndarray:
    return np.arange(n) / SAMPLE_RATE


def _events(n: int, rng: np.random.Generator, event: Callable[[np.random.Generator], np.ndarray],
            rate: tuple[float, float]) -> np.ndarray:
    """Events of one kind at irregular onsets over n samples."""
    out = np.zeros(n)
    for onset in sounds.event_onsets(n / SAMPLE_RATE, rng, rate=rate):
        start = int(onset * SAMPLE_RATE)
        piece = event(rng)[: n - start]
        out[start:start + len(piece)] += piece * rng.uniform(0.6, 1.0)
    return out


def _periodic(n: int, rng: np.random.Generator, event: Callable[[np.random.Generator], np.ndarray],
              period: float) -> np.ndarray:
    """Events of one kind every `period` s (a little jitter) over n samples."""
    out = np.zeros(n)
    start = rng.uniform(0, period)
    while start * SAMPLE_RATE < n:
        i = int(start * SAMPLE_RATE)
        piece = event(rng)[: n - i]
        out[i:i + len(piece)] += piece
        start += period * rng.uniform(0.97, 1.03)
    return out


def _band_noise(n: int, rng: np.random.Generator, centre: float, width: float) -> np.ndarray:
    return sounds._resonances(rng.standard_normal(n), [centre], [width], SAMPLE_RATE)


def _tone(freq: np.ndarray | float, n: int, amplitudes: np.ndarray) -> np.ndarray:
    freq = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    return sounds._harmonics(sounds._phase(freq, SAMPLE_RATE), amplitudes)


def _decay(n: int, tau: float) -> np.ndarray:
    return np.exp(-_t(n) / tau)


def _chirp(rng):
    n = int(rng.uniform(0.05, 0.12) * SAMPLE_RATE)
    f = rng.uniform(2500, 4000) + rng.uniform(1000, 2500) * np.linspace(0, 1, n) ** 2
    return np.sin(sounds._phase(f, SAMPLE_RATE)) * np.hanning(n)


def _bird(n, rng):
    return _events(n, rng, lambda r: np.concatenate([_chirp(r) for _ in range(r.integers(2, 5))]), (1.0, 2.5))


def _cricket(n, rng):
    f = rng.uniform(4200, 5200)
    pulses = (np.sin(2 * np.pi * rng.uniform(25, 35) * _t(n)) > 0.3).astype(float)
    trains = (np.sin(2 * np.pi * rng.uniform(0.8, 1.5) * _t(n) + rng.uniform(0, 6)) > -0.2).astype(float)
    return np.sin(2 * np.pi * f * _t(n)) * pulses * trains


def _siren(n, rng):
    period = rng.uniform(1.0, 2.5)
    f = 950 + rng.uniform(300, 450) * np.sin(2 * np.pi * _t(n) / period)
    return _tone(f, n, np.array([1.0, 0.5, 0.3, 0.15]))


def _clock(n, rng):
    click = lambda r: _band_noise(int(0.015 * SAMPLE_RATE), r, 3000, 600) * _decay(int(0.015 * SAMPLE_RATE), 0.003)
    return _periodic(n, rng, click, rng.uniform(0.45, 0.55))


def _telephone(n, rng):
    ring = (np.sin(2 * np.pi * 20 * _t(n)) > 0).astype(float) * 0.3 + 0.7
    on = ((_t(n) + rng.uniform(0, 3)) % 3.0) < 1.2
    low = rng.uniform(420, 460)
    return (np.sin(2 * np.pi * low * _t(n)) + np.sin(2 * np.pi * (low + 40) * _t(n))) * ring * on


def _hammer(n, rng):
    def hit(r):
        m = int(0.25 * SAMPLE_RATE)
        body = np.sin(2 * np.pi * r.uniform(90, 140) * _t(m)) * _decay(m, 0.03)
        clang = np.sin(2 * np.pi * r.uniform(1800, 2600) * _t(m)) * _decay(m, 0.05) * 0.6
        return body + clang + r.standard_normal(m) * _decay(m, 0.004)
    return _periodic(n, rng, hit, rng.uniform(0.4, 0.7))


def _rain(n, rng):
    drops = np.zeros(n)
    count = int(rng.uniform(150, 300) * n / SAMPLE_RATE)
    drops[rng.integers(0, n, count)] = rng.uniform(0.3, 1.0, count)
    kernel = np.random.default_rng(1).standard_normal(80) * _decay(80, 0.0015)
    return np.convolve(drops, kernel, mode="same") + 0.3 * _band_noise(n, rng, 5000, 2500) / 40


def _frog(n, rng):
    def croak(r):
        m = int(r.uniform(0.2, 0.35) * SAMPLE_RATE)
        pulse = (np.sin(2 * np.pi * r.uniform(40, 60) * _t(m)) > 0.5).astype(float)
        return _tone(r.uniform(180, 260), m, np.array([1, 0.8, 0.6, 0.4, 0.2])) * pulse * np.hanning(m)
    return _events(n, rng, croak, (0.8, 1.8))


def _note(rng, f0, seconds, amplitudes, tau, vibrato=0.0):
    m = int(seconds * SAMPLE_RATE)
    f = f0 * (1 + vibrato * np.sin(2 * np.pi * 5.5 * _t(m)))
    env = np.clip(_t(m) / 0.01, 0, 1) * _decay(m, tau) * np.clip((seconds - _t(m)) / 0.03, 0, 1)
    return _tone(f, m, amplitudes) * env


_SCALE = 2.0 ** (np.array([0, 2, 4, 5, 7, 9, 11, 12]) / 12)


def _violin(n, rng):
    saw = 1.0 / np.arange(1, 16)
    return _events(n, rng, lambda r: _note(r, r.uniform(200, 300) * r.choice(_SCALE), r.uniform(0.4, 0.9),
                                           saw, 5.0, vibrato=0.01), (1.0, 2.0))


def _piano(n, rng):
    amps = np.array([1.0, 0.6, 0.35, 0.2, 0.12, 0.06])
    return _events(n, rng, lambda r: _note(r, r.uniform(130, 260) * r.choice(_SCALE), 1.0, amps, 0.3), (1.5, 3.0))


def _guitar(n, rng):
    def pluck(r):  # Karplus-Strong
        period = int(SAMPLE_RATE / (r.uniform(110, 220) * r.choice(_SCALE)))
        m = int(0.8 * SAMPLE_RATE)
        out = np.zeros(m)
        out[:period] = r.uniform(-1, 1, period)
        for i in range(period, m, period):
            block = out[i - period:i]
            nxt = 0.498 * (block + np.roll(block, 1))
            out[i:i + period] = nxt[: m - i]
        return out
    return _events(n, rng, pluck, (1.5, 3.0))


def _helicopter(n, rng):
    chop = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(14, 22) * _t(n)) ** 8
    return _band_noise(n, rng, 300, 250) * chop + 0.3 * _band_noise(n, rng, 80, 40)


def _typing(n, rng):
    key = lambda r: _band_noise(int(0.02 * SAMPLE_RATE), r, r.uniform(1500, 3500), 800) * _decay(
        int(0.02 * SAMPLE_RATE), 0.004)
    return _events(n, rng, key, (5.0, 9.0))


def _chainsaw(n, rng):
    f = rng.uniform(95, 140) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * _t(n)))
    buzz = _tone(f, n, 1.0 / np.arange(1, 30) ** 0.7)
    return buzz + 0.4 * np.std(buzz) * rng.standard_normal(n)


def _cat(n, rng):
    def meow(r):
        m = int(r.uniform(0.5, 0.9) * SAMPLE_RATE)
        f = r.uniform(450, 650) * (1 + 0.35 * np.sin(np.pi * _t(m) / _t(m)[-1]))
        voiced = _tone(f, m, 1.0 / np.arange(1, 10))
        return sounds._resonances(voiced, [900, 2200], [250, 400], SAMPLE_RATE) * np.hanning(m)
    return _events(n, rng, meow, (0.4, 0.9))


def _cow(n, rng):
    def moo(r):
        m = int(r.uniform(1.2, 2.0) * SAMPLE_RATE)
        f = r.uniform(110, 150) * (1 + 0.1 * np.sin(np.pi * _t(m) / _t(m)[-1]))
        voiced = _tone(f, m, 1.0 / np.arange(1, 25))
        return sounds._resonances(voiced, [500, 900], [150, 250], SAMPLE_RATE) * np.hanning(m)
    return _events(n, rng, moo, (0.3, 0.5))


def _train_horn(n, rng):
    def blast(r):
        m = int(r.uniform(1.0, 2.0) * SAMPLE_RATE)
        base = r.uniform(280, 340)
        chord = sum(_tone(base * k, m, np.array([1, 0.7, 0.5, 0.3])) for k in (1.0, 1.26, 1.5))
        return chord * np.clip(_t(m) / 0.05, 0, 1) * np.clip((_t(m)[-1] - _t(m)) / 0.1, 0, 1)
    return _events(n, rng, blast, (0.3, 0.5))


def _fire(n, rng):
    crackles = np.zeros(n)
    count = int(rng.uniform(15, 40) * n / SAMPLE_RATE)
    crackles[rng.integers(0, n, count)] = rng.uniform(0.5, 1.0, count) * rng.choice([-1, 1], count)
    crackles = np.convolve(crackles, rng.standard_normal(40) * _decay(40, 0.001), mode="same")
    return crackles + 0.05 * _band_noise(n, rng, 150, 120) / np.sqrt(120)


def _timbre(name: str) -> Generator:
    return lambda n, rng: sounds.place_events(name, sounds.event_onsets(n / SAMPLE_RATE, rng), n, rng)


def _bed(name: str) -> Generator:
    return lambda n, rng: sounds.ambient_sound(name, n, rng)


CLASSES: dict[str, Generator] = {
    "dog barking": _timbre("bark"),
    "church bell ringing": _timbre("bell"),
    "playing drum kit": _timbre("drum"),
    "playing flute": _timbre("flute"),
    "car engine starting": _timbre("engine"),
    "stream burbling": _bed("water"),
    "wind noise": _bed("wind"),
    "bird chirping": _bird,
    "cricket chirping": _cricket,
    "ambulance siren": _siren,
    "clock ticking": _clock,
    "telephone bell ringing": _telephone,
    "hammering nails": _hammer,
    "raining": _rain,
    "frog croaking": _frog,
    "playing violin": _violin,
    "playing piano": _piano,
    "playing acoustic guitar": _guitar,
    "helicopter": _helicopter,
    "typing on computer keyboard": _typing,
    "chainsawing trees": _chainsaw,
    "cat meowing": _cat,
    "cattle mooing": _cow,
    "train horning": _train_horn,
    "fire crackling": _fire,
}
"""Sound classes in order; `--classes C` takes the first C."""

MUSIC_CLASSES = frozenset({"playing drum kit", "playing flute", "playing violin", "playing piano",
                           "playing acoustic guitar"})
"""Instrument classes: their stage-3 rule allows music (4.3.3: 'playing bass guitar' allows music)."""


def class_sound(label: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of a class's sound, unit RMS."""
    signal = CLASSES[label](n, rng)
    return signal / max(float(np.sqrt(np.mean(signal ** 2))), 1e-9)


# ---- overlays: a narrator (speech) or background music ----


def speech_like(n: int, rng: np.random.Generator) -> np.ndarray:
    """Formant-filtered voiced babble: syllables in words with pauses, pitch 80-260 Hz, unit RMS."""
    out = np.zeros(n)
    f0 = rng.uniform(80, 260)
    i = int(rng.uniform(0, 0.3) * SAMPLE_RATE)
    while i < n:
        for _ in range(rng.integers(1, 5)):  # one word
            m = int(rng.uniform(0.12, 0.28) * SAMPLE_RATE)
            t = _t(m)
            pitch = f0 * (1 + 0.12 * np.sin(np.pi * t / t[-1] + rng.uniform(-1, 1))) * rng.uniform(0.9, 1.1)
            voiced = _tone(pitch, m, 1.0 / np.arange(1, int(4000 // f0) + 1) ** 1.1)
            formants = sounds._VOWELS[rng.integers(len(sounds._VOWELS))] * rng.uniform(0.9, 1.25, 3)
            syllable = sounds._peak_normalised(sounds._resonances(voiced, formants, [90, 130, 180], SAMPLE_RATE))
            if rng.random() < 0.5:  # a fricative or a stop in front
                hiss = _band_noise(m, rng, rng.uniform(2500, 6000), 1000)
                syllable += 0.4 * sounds._peak_normalised(hiss) * _decay(m, 0.03)
            piece = (syllable * np.hanning(m))[: n - i]
            out[i:i + len(piece)] += piece
            i += int(m * rng.uniform(0.8, 1.0))
            if i >= n:
                break
        i += int(rng.uniform(0.1, 0.5) * SAMPLE_RATE)  # pause between words
    return out / max(float(np.sqrt(np.mean(out ** 2))), 1e-9)


_TIMBRES = (np.array([1.0, 0.5, 0.33, 0.25, 0.2, 0.16]),  # saw-like
            np.array([1.0, 0, 0.33, 0, 0.2, 0, 0.14]),  # square-like
            np.array([1.0, 0.2, 0.05]),  # soft
            np.array([1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]))  # organ


def music_like(n: int, rng: np.random.Generator) -> np.ndarray:
    """A melody on a scale over a bass line at a steady tempo, often with a drum beat, unit RMS."""
    beat = 60.0 / rng.uniform(80, 160)
    key = rng.uniform(180, 360)
    timbre = _TIMBRES[rng.integers(len(_TIMBRES))]
    out = np.zeros(n)
    t, degree = 0.0, rng.integers(0, 8)
    while t * SAMPLE_RATE < n:
        length = beat * rng.choice([0.5, 1, 1, 2])
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 7))
        note = _note(rng, key * _SCALE[degree], length * 0.95, timbre, rng.uniform(0.4, 3.0))
        i = int(t * SAMPLE_RATE)
        out[i:i + len(note)] += note[: n - i]
        t += length
    bass = np.zeros(n)
    for k, start in enumerate(np.arange(0, n / SAMPLE_RATE, 2 * beat)):
        note = _note(rng, key / 2 * _SCALE[[0, 3, 4, 0][k % 4]], 2 * beat * 0.95, np.array([1.0, 0.4]), 1.0)
        i = int(start * SAMPLE_RATE)
        bass[i:i + len(note)] += note[: n - i]
    out += 0.6 * bass
    if rng.random() < 0.6:
        kick = lambda r: np.sin(sounds._phase(60 + 100 * _decay(4000, 0.02), SAMPLE_RATE)) * _decay(4000, 0.08)
        out += 0.8 * _periodic(n, rng, kick, beat)
    return out / max(float(np.sqrt(np.mean(out ** 2))), 1e-9)


def _formant_track(voiced: np.ndarray, formants: np.ndarray, frame: int = 640) -> np.ndarray:
    """A signal through formants that move over time: (frames, 3) centres, overlap-added 50 % frames."""
    out = np.zeros(len(voiced) + frame)
    window = np.hanning(frame)
    for k, start in enumerate(range(0, len(voiced) - frame // 2, frame // 2)):
        piece = np.zeros(frame)
        chunk = voiced[start:start + frame]
        piece[:len(chunk)] = chunk
        centres = formants[min(k, len(formants) - 1)]
        out[start:start + frame] += sounds._resonances(piece * window, centres, [80, 120, 170], SAMPLE_RATE)
    return out[:len(voiced)]


def gliding_speech(n: int, rng: np.random.Generator) -> np.ndarray:
    """Phrases of continuous voicing with a falling, wandering pitch (85-300 Hz), formants gliding between
    vowels at a syllable rate of 3-6 Hz and fricative noise between syllables, unit RMS."""
    out = np.zeros(n)
    i = int(rng.uniform(0, 0.4) * SAMPLE_RATE)
    f0 = rng.uniform(85, 300)
    while i < n:
        m = min(int(rng.uniform(0.8, 2.5) * SAMPLE_RATE), n - i)
        t = _t(m)
        wander = np.cumsum(rng.normal(0, 1, m)) / np.sqrt(SAMPLE_RATE) * 0.6
        pitch = f0 * (1.15 - 0.25 * t / max(t[-1], 1e-9)) * np.exp(0.15 * np.tanh(wander))
        voiced = _tone(pitch, m, 1.0 / np.arange(1, int(4500 // f0) + 1) ** 1.2)
        rate = rng.uniform(3, 6)
        frames = max(1, m // 320)
        vowels = sounds._VOWELS[rng.integers(len(sounds._VOWELS), size=int(frames / (SAMPLE_RATE / 320) * rate) + 2)]
        position = np.arange(frames) / (SAMPLE_RATE / 320) * rate
        low = np.floor(position).astype(int)
        frac = (position - low)[:, None]
        formants = (vowels[low] * (1 - frac) + vowels[low + 1] * frac) * rng.uniform(0.9, 1.25)
        phrase = sounds._peak_normalised(_formant_track(voiced, formants))
        syllables = 0.55 + 0.45 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 6)) ** 2
        hiss = sounds._peak_normalised(_band_noise(m, rng, rng.uniform(3000, 6000), 1200))
        gaps = np.clip(np.sin(2 * np.pi * rate * t + rng.uniform(0, 6)) - 0.7, 0, None) * 1.5
        out[i:i + m] += (phrase * syllables + 0.3 * hiss * gaps) * np.hanning(m) ** 0.3
        i += m + int(rng.uniform(0.15, 0.6) * SAMPLE_RATE)
    return out / max(float(np.sqrt(np.mean(out ** 2))), 1e-9)


def sustained_music(n: int, rng: np.random.Generator) -> np.ndarray:
    """A legato solo line (a reed-like tone with vibrato and breath) over sparse chords, unit RMS."""
    key = rng.uniform(140, 330)
    odd = rng.random() < 0.5
    amplitudes = np.array([1.0, 0.3 if odd else 0.7, 0.6, 0.2 if odd else 0.5, 0.4, 0.15, 0.25, 0.1])
    out = np.zeros(n)
    i, degree = 0, int(rng.integers(0, 8))
    while i < n:
        m = min(int(rng.uniform(0.25, 1.5) * SAMPLE_RATE), n - i)
        degree = int(np.clip(degree + rng.integers(-3, 4), 0, 7))
        t = _t(m)
        vibrato = 1 + rng.uniform(0.004, 0.015) * np.sin(2 * np.pi * rng.uniform(4.5, 6.5) * t) * np.clip(t / 0.2, 0, 1)
        tone = _tone(key * _SCALE[degree] * vibrato, m, amplitudes)
        breath = sounds._peak_normalised(_band_noise(m, rng, key * _SCALE[degree] * 3, 400)) * 0.15
        swell = np.clip(t / 0.05, 0, 1) * np.clip((t[-1] - t) / 0.05, 0, 1) * (0.7 + 0.3 * np.sin(np.pi * t / t[-1]))
        out[i:i + m] += (tone + breath) * swell
        i += m
    if rng.random() < 0.6:
        chords = np.zeros(n)
        for start in np.arange(0, n / SAMPLE_RATE, rng.uniform(1.5, 3.0)):
            root = key / 2 * _SCALE[int(rng.choice([0, 3, 4, 5]))]
            chord = sum(_note(rng, root * r, 1.5, np.array([1.0, 0.4, 0.2]), 0.6) for r in (1.0, 1.26, 1.5))
            s = int(start * SAMPLE_RATE)
            chords[s:s + len(chord)] += chord[: n - s]
        out += 0.3 * chords * np.std(out) / max(float(np.std(chords)), 1e-9)
    return out / max(float(np.sqrt(np.mean(out ** 2))), 1e-9)


def channel(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random recording channel: spectral tilt, sometimes a telephone band or a room's reverberation."""
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(len(audio), 1.0 / SAMPLE_RATE)
    gain = (np.maximum(freqs, 50.0) / 1000.0) ** rng.uniform(-0.8, 0.4)
    if rng.random() < 0.2:
        gain *= (freqs > 300) & (freqs < 3400)
    out = np.fft.irfft(spectrum * gain, n=len(audio))
    if rng.random() < 0.4:
        m = int(rng.uniform(0.2, 0.8) * SAMPLE_RATE)
        tail = rng.standard_normal(m) * np.exp(-6.9 * _t(m) / _t(m)[-1])
        tail[0] = 1.0 / rng.uniform(0.1, 0.5)
        out = np.convolve(out, tail)[: len(audio)]
    return out / max(float(np.sqrt(np.mean(out ** 2))), 1e-9)


def overlay_sound(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of a speech-like or music-like overlay, unit RMS."""
    return speech_like(n, rng) if kind == "speech" else music_like(n, rng)


# ---- pictures ----


def class_colour(label: str, classes: list[str]) -> tuple[np.ndarray, int]:
    """(RGB colour, shape index) of a class's object: 9 hues x 3 shapes, distinct for 27 classes."""
    index = classes.index(label)
    hue, shape = (index % 9) / 9.0, (index // 9) % 3
    return np.array(colorsys.hsv_to_rgb(hue, 0.85, 0.95)) * 255.0, shape


def picture(label: str, classes: list[str], rng: np.random.Generator, frames: int) -> np.ndarray:
    """(frames, 48, 48, 3) uint8: the class's object (a coloured disc, square or bar) on a muted background."""
    colour, shape = class_colour(label, classes)
    yy, xx = np.mgrid[0:FRAME_SIZE, 0:FRAME_SIZE]
    back = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.3), rng.uniform(0.25, 0.6))) * 255
    out = np.empty((frames, FRAME_SIZE, FRAME_SIZE, 3), dtype=np.uint8)
    cx, cy, r = rng.uniform(16, 32), rng.uniform(16, 32), rng.uniform(8, 13)
    for k in range(frames):
        x, y = cx + rng.normal(0, 1.0), cy + rng.normal(0, 1.0)
        if shape == 0:
            mask = (xx - x) ** 2 + (yy - y) ** 2 <= r ** 2
        elif shape == 1:
            mask = (abs(xx - x) <= r * 0.8) & (abs(yy - y) <= r * 0.8)
        else:
            mask = (abs(xx - x) <= r * 1.2) & (abs(yy - y) <= r * 0.4)
        image = back + rng.normal(0, 8, (FRAME_SIZE, FRAME_SIZE, 3))
        image[mask] = colour + rng.normal(0, 8, 3)
        out[k] = np.clip(image, 0, 255).astype(np.uint8)
    return out


# ---- one clip and the set ----


@dataclass
class CurationClip:
    """What is true about one generated clip."""

    youtube_id: str
    true_label: str
    label: str  # the (maybe wrong) label the clip came with
    overlay: str  # "", "speech" or "music"
    hard: bool  # its sound is mixed under a louder sound of another class
    duplicate_of: str  # key of the clip it re-uploads, or ""
    split: str

    @property
    def key(self) -> str:
        return clip_key(self.youtube_id, 0)


def render_audio(clip: CurationClip, classes: list[str], rng: np.random.Generator, seconds: float) -> np.ndarray:
    """The clip's audio: its true class's sound, a louder other class under hard clips, an overlay, room noise."""
    n = int(round(seconds * SAMPLE_RATE))
    audio = class_sound(clip.true_label, n, rng)
    if clip.hard:
        other = rng.choice([c for c in classes if c != clip.true_label])
        audio = audio + rng.uniform(1.0, 1.6) * class_sound(str(other), n, rng)
    if clip.overlay:
        audio = audio + rng.uniform(1.5, 3.0) * overlay_sound(clip.overlay, n, rng)
    audio = audio + sounds.background_noise(n, rng, rms=rng.uniform(0.02, 0.1) * float(np.std(audio)))
    return sounds.mixdown(audio, rng.uniform(0.3, 0.9))


def default_rules(classes: list[str]) -> dict:
    """Stage-3 rules a curator starts from (4.3.3): threshold 0.5; instruments allow music, nothing allows speech."""
    return {"threshold": 0.5, "default": {"reject": list(OVERLAYS)},
            "classes": {c: {"reject": ["speech"]} for c in classes if c in MUSIC_CLASSES}}


def plan_clips(clips: int, classes: int, wrong_labels: float, overlays: float, hard: float, duplicates: float,
               test_share: float, rng: np.random.Generator) -> list[CurationClip]:
    """Who each clip is: classes balanced, a `wrong_labels` share labelled with another class (no systematic
    bias, 4.3.4), `overlays` with speech or music, `hard` mixed under another class, `duplicates` re-uploads."""
    if not 2 <= classes <= len(CLASSES):
        raise ValueError(f"classes must be in 2..{len(CLASSES)}, got {classes}")
    names = list(CLASSES)[:classes]
    ids = youtube_ids(clips, rng)
    truths = [names[i % classes] for i in rng.permutation(clips)]
    planned: list[CurationClip] = []
    for youtube_id, truth in zip(ids, truths):
        wrong = rng.random() < wrong_labels
        label = str(rng.choice([c for c in names if c != truth])) if wrong else truth
        overlay = str(rng.choice(OVERLAYS)) if rng.random() < overlays else ""
        split = "test" if rng.random() < test_share else "train"
        planned.append(CurationClip(youtube_id, truth, label, overlay, not wrong and rng.random() < hard, "", split))
    copies = rng.choice(clips, min(int(round(duplicates * clips)), clips // 2), replace=False)
    originals = np.setdiff1d(np.arange(clips), copies)
    for i in copies:
        source = planned[int(rng.choice(originals))]
        planned[i] = CurationClip(planned[i].youtube_id, source.true_label, source.label, source.overlay,
                                  source.hard, source.key, source.split)
    return planned


def generate_curation(clips: int, classes: int, seed: int, out: Path, wrong_labels: float = 0.3,
                      overlays: float = 0.1, hard: float = 0.1, duplicates: float = 0.02, test_share: float = 0.0,
                      seconds: float = 10.0) -> Path:
    """Write clips/, labels.csv, truth.csv and rules.json under out; returns out."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    names = list(CLASSES)[:classes]
    planned = plan_clips(clips, classes, wrong_labels, overlays, hard, duplicates, test_share, rng)
    rendered: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for clip in sorted(planned, key=lambda c: bool(c.duplicate_of)):  # originals first
        clip_rng = np.random.default_rng([seed, int.from_bytes(clip.youtube_id.encode(), "little") % 2**63])
        if clip.duplicate_of:  # a re-upload: the same picture and sound under another id
            frames, audio = rendered[clip.duplicate_of]
        else:
            frames = picture(clip.true_label, names, clip_rng, max(1, int(seconds * FPS)))
            audio = render_audio(clip, names, clip_rng, seconds)
        rendered[clip.key] = (frames, audio)
        write_clip(out / "clips" / f"{clip.key}.mp4", frames, FPS, audio, SAMPLE_RATE)
    write_labels_csv(out / "labels.csv", [(c.youtube_id, 0, c.label, c.split) for c in planned])
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["youtube_id", "start_seconds", "true_label", "label", "wrong", "overlay", "hard",
                         "duplicate_of", "split"])
        writer.writerows([c.youtube_id, 0, c.true_label, c.label, int(c.label != c.true_label), c.overlay,
                          int(c.hard), c.duplicate_of, c.split] for c in planned)
    (out / "rules.json").write_text(json.dumps(default_rules(names), indent=1), encoding="utf-8")
    return out


def generate_overlay_set(clips: int, seed: int, out: Path, seconds: float = 10.0) -> Path:
    """Clips labelled speech, music or other (a third each) for the stage-3 classifier: speech (babble or
    gliding phrases) and music (a melody over a beat, or a legato solo over chords) alone or over a quieter
    class sound, other = non-instrument class sounds; each through a random channel (tilt, band, room)."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    n = int(round(seconds * SAMPLE_RATE))
    others = [c for c in CLASSES if c not in MUSIC_CLASSES]
    styles = {"speech": (speech_like, gliding_speech), "music": (music_like, sustained_music)}
    rows = []
    for i, youtube_id in enumerate(youtube_ids(clips, rng)):
        kind = ("speech", "music", "other")[i % 3]
        bed = class_sound(str(rng.choice(others if kind != "music" else list(CLASSES))), n, rng)
        if kind == "other":
            audio = bed
            if rng.random() < 0.3:  # two non-speech, non-music sounds together
                audio = audio + rng.uniform(0.3, 1.0) * class_sound(str(rng.choice(others)), n, rng)
        else:
            audio = styles[kind][int(rng.integers(2))](n, rng)
            audio = audio + (rng.uniform(0.0, 0.6) if rng.random() < 0.6 else 0.0) * bed
        audio = channel(audio, rng)
        audio = audio + sounds.background_noise(n, rng, rms=rng.uniform(0.01, 0.15) * float(np.std(audio)))
        frames = np.full((max(1, int(seconds * FPS)), FRAME_SIZE, FRAME_SIZE, 3), 64, dtype=np.uint8)
        write_clip(out / "clips" / f"{clip_key(youtube_id, 0)}.mp4", frames, FPS,
                   sounds.mixdown(audio, rng.uniform(0.3, 0.9)), SAMPLE_RATE)
        rows.append((youtube_id, 0, kind, "train"))
    write_labels_csv(out / "labels.csv", rows)
    return out
