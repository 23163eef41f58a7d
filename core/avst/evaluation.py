"""Offset evaluation of 6.4.2 and the no-learning baselines (chance, motion / onset cross-correlation)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from core.avst.config import MAX_OFFSET, SAMPLE_RATE, VIDEO_FPS

OFFSETS = np.arange(-MAX_OFFSET, MAX_OFFSET + 1)  # frames at 25 fps; positive: the audio comes late
GENERAL_TOLERANCE, SPEECH_TOLERANCE = 5, 1  # +-0.2 s for general sound, +-0.04 s for speech


def tolerance(speech: bool) -> int:
    """Largest error in frames that still counts as in sync."""
    return SPEECH_TOLERANCE if speech else GENERAL_TOLERANCE


def predicted_offset(scores: np.ndarray) -> int:
    """The offset with the highest score (scores ordered as OFFSETS)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != OFFSETS.shape:
        raise ValueError(f"need {len(OFFSETS)} scores for offsets -{MAX_OFFSET}..{MAX_OFFSET}, got {scores.shape}")
    return int(OFFSETS[int(np.argmax(scores))])


def is_correct(predicted: int, true: int, speech: bool) -> bool:
    """Within +-1 frame for speech, +-5 frames otherwise."""
    return abs(int(predicted) - int(true)) <= tolerance(speech)


def chance_accuracy(true: int, speech: bool) -> float:
    """Expected accuracy of an offset drawn uniformly from OFFSETS."""
    return float(np.mean(np.abs(OFFSETS - true) <= tolerance(speech)))


def accuracy(correct: list[float]) -> float | None:
    """Mean of per-clip correctness, None when nothing was scored."""
    return float(np.mean(correct)) if correct else None


def accuracy_by_length(rows: list[tuple[float, float]]) -> dict[str, float]:
    """{seconds: accuracy} from (input length in seconds, correct) rows; keys are whole seconds."""
    groups: dict[str, list[float]] = defaultdict(list)
    for seconds, correct in rows:
        groups[f"{round(seconds):d}"].append(float(correct))
    return {key: float(np.mean(groups[key])) for key in sorted(groups, key=int)}


def scored(category: str | None) -> bool:
    """Only audio-visually evident clips are scored for sync (Table 6.1)."""
    return category in (None, "evident")


# ---- classical baseline: no learning ----


def motion_energy(frames: np.ndarray) -> np.ndarray:
    """Mean absolute grey-level change per 25 fps frame (T,), the first frame repeating the second."""
    grey = np.asarray(frames, dtype=np.float32).mean(axis=-1)
    change = np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2))
    return np.concatenate([change[:1], change]) if len(change) else np.zeros(len(grey))


def onset_envelope(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """Half-wave rectified rise of log energy per 25 fps frame (n_frames,)."""
    step = SAMPLE_RATE // VIDEO_FPS
    audio = np.pad(np.asarray(audio, dtype=np.float32), (0, max(0, n_frames * step - len(audio))))
    energy = np.log((audio[: n_frames * step].reshape(n_frames, step) ** 2).mean(axis=1) + 1e-8)
    return np.maximum(np.diff(energy, prepend=energy[:1]), 0.0)


def classical_scores(frames: np.ndarray, audio: np.ndarray, start: int, length: int) -> np.ndarray:
    """Correlation of motion energy in frames [start, start+length) with the onset envelope shifted by each offset."""
    n = len(frames)
    motion = motion_energy(frames)[start: start + length]
    pad = MAX_OFFSET
    onsets = np.pad(onset_envelope(audio, n), (pad, pad))
    motion = (motion - motion.mean()) / (motion.std() + 1e-8)
    scores = []
    for offset in OFFSETS:
        heard = onsets[pad + start + offset: pad + start + offset + length]
        heard = (heard - heard.mean()) / (heard.std() + 1e-8)
        scores.append(float(np.mean(motion * heard)))
    return np.asarray(scores)
