"""Synchronisation clips in memory and the mini-batches of the two-stage curriculum (6.4.3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.avst.audio import LogSpectrogram
from core.avst.config import (FRAME_PHASE, HOP, INPUT_STRIDE, MAX_FRAMES, MAX_OFFSET, MIN_FRAMES, N_FFT,
                              SAMPLE_RATE, SPEC_PER_FRAME, VIDEO_FPS)

PAD = MAX_OFFSET  # 25 fps frames of silence on both sides, so every offset has audio
SAMPLES_PER_FRAME = SAMPLE_RATE // VIDEO_FPS
MEDIA_SUFFIXES = (".mp4", ".mkv", ".webm")
SPECTROGRAM_PIECE = 60 * SAMPLE_RATE  # samples of a long clip's audio turned into spectrogram columns at a time


@dataclass
class SyncEntry:
    """One clip of a synchronisation set and what is known about it."""

    key: str
    path: Path
    category: str = "evident"
    speech: bool = False
    offset_frames: int = 0  # the true offset: positive when the audio comes late
    duration: float = 0.0


@dataclass
class ClipArrays:
    """A decoded clip: 25 fps frames (N, S, S, 3) uint8 and the padded log-mel spectrogram (n_mels, cols)."""

    entry: SyncEntry
    frames: torch.Tensor
    spec: torch.Tensor
    audio: np.ndarray  # 16 kHz mono, n_frames * 640 samples, for the classical baseline

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])


def read_sync_set(data: str | Path) -> list[SyncEntry]:
    """Entries of DIR/sync.json whose media exist under DIR/clips; ValueError naming the file otherwise."""
    data = Path(data)
    index = data / "sync.json"
    if not index.is_file():
        raise ValueError(f"{index}: not found (expected what `python -m core.synthetic sync` writes)")
    try:
        rows = json.loads(index.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{index}: not valid JSON ({error})") from error
    entries = []
    for number, row in enumerate(rows):
        if not isinstance(row, dict) or "file" not in row:
            raise ValueError(f"{index}: entry {number} has no 'file'")
        path = next((data / "clips" / f"{row['file']}{s}" for s in MEDIA_SUFFIXES
                     if (data / "clips" / f"{row['file']}{s}").is_file()), None)
        if path is None:
            raise ValueError(f"{index}: entry {number}: no clips/{row['file']}.mp4|mkv|webm")
        entries.append(SyncEntry(key=row["file"], path=path, category=row.get("category", "evident"),
                                 speech=bool(row.get("speech", False)),
                                 offset_frames=int(row.get("offset_frames") or 0),
                                 duration=float(row.get("duration", 0.0))))
    return entries


def padded_waveform(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """Audio cut to n_frames at 25 fps, with PAD frames of silence before and after."""
    audio = np.asarray(audio, dtype=np.float32)[: n_frames * SAMPLES_PER_FRAME]
    audio = np.pad(audio, (0, n_frames * SAMPLES_PER_FRAME - len(audio)))
    pad = np.zeros(PAD * SAMPLES_PER_FRAME, dtype=np.float32)
    return np.concatenate([pad, audio, pad])


def log_spectrogram(spectrogram: LogSpectrogram, waveform: np.ndarray) -> torch.Tensor:
    """spectrogram(waveform), computed a minute of audio at a time: the STFT of a long clip (about 70 MB a
    minute) is never held whole. Each piece has N_FFT / 2 samples more on both sides, so every column sees
    the samples it sees in one pass over the whole waveform; a clip up to a minute is one pass."""
    samples = torch.from_numpy(waveform)
    columns, margin, step = len(waveform) // HOP, N_FFT // 2, SPECTROGRAM_PIECE // HOP
    pieces = []
    with torch.no_grad():
        for first in range(0, max(columns, 1), step):
            last = min(first + step, columns)
            low, high = max(first * HOP - margin, 0), min(last * HOP + margin, len(waveform))
            skip = (first * HOP - low) // HOP
            pieces.append(spectrogram(samples[low:high])[:, skip: skip + last - first])
    return pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=1)


def load_clip(entry: SyncEntry, image_size: int, spectrogram: LogSpectrogram) -> ClipArrays:
    """Decode a clip at 25 fps and 16 kHz (any source rate is resampled).

    Frames of any aspect are letterboxed into image_size squares (core/framing.py): the whole frame
    at one scale, black bars on the short side; a square clip is only scaled, as before.
    """
    from core.media import read_audio, read_frames  # PyAV only where files are read

    frames, _ = read_frames(entry.path, fps=VIDEO_FPS, square=image_size)
    if len(frames) < INPUT_STRIDE * MIN_FRAMES:
        raise ValueError(f"{entry.path}: only {len(frames)} frames at 25 fps; need at least "
                         f"{INPUT_STRIDE * MIN_FRAMES} (1 s)")
    audio = read_audio(entry.path, SAMPLE_RATE, 0.0, len(frames) / VIDEO_FPS)
    padded = padded_waveform(audio, len(frames))
    del audio
    spec = log_spectrogram(spectrogram, padded)
    return ClipArrays(entry, torch.from_numpy(np.ascontiguousarray(frames)), spec,
                      padded[PAD * SAMPLES_PER_FRAME: -PAD * SAMPLES_PER_FRAME])


def frames_to_input(frames: torch.Tensor) -> torch.Tensor:
    """uint8 (..., T, H, W, 3) -> normalised float (..., 3, T, H, W)."""
    x = frames.float().div(255).sub(0.45).div(0.225)
    return x.movedim(-1, -4).contiguous()  # strided input crashed torch 2.11's CPU conv backward (localizer)


def visual_window(clip: ClipArrays, start: int, length: int) -> torch.Tensor:
    """Every 5th frame of the window from 25 fps frame `start`, the middle one of each 0.2 s: (3, length, S, S)."""
    return frames_to_input(clip.frames[start + FRAME_PHASE: start + INPUT_STRIDE * length: INPUT_STRIDE])


def audio_window(clip: ClipArrays, start: int, offset: int, length: int) -> torch.Tensor:
    """Spectrogram (n_mels, 80 length) of the audio heard with frames from `start` when offset frames late."""
    first = (PAD + start + offset) * SPEC_PER_FRAME
    return clip.spec[:, first: first + length * INPUT_STRIDE * SPEC_PER_FRAME]


def offset_span(clip: ClipArrays, start: int, length: int, centre: int = 0) -> torch.Tensor:
    """Spectrogram (n_mels, 80 length + 16 * 30) of `length` input frames from `start` at offsets centre-15..centre+15."""
    return audio_window(clip, start, centre - MAX_OFFSET, length + 2 * MAX_OFFSET // INPUT_STRIDE)


def max_length(clip: ClipArrays) -> int:
    """The longest input (frames at 5 fps) the clip holds, at most MAX_FRAMES."""
    return min(MAX_FRAMES, clip.n_frames // INPUT_STRIDE)


def inner_length(clip: ClipArrays) -> int:
    """The longest input whose audio lies inside the clip at every offset -15..15 (0.6 s kept free at both ends).

    Scoring offsets only there keeps the silence outside the clip from telling the offset away: with
    padding, a window that starts with the clip is in sync exactly where the audio has no silent head.
    """
    return min(MAX_FRAMES, (clip.n_frames - 2 * MAX_OFFSET) // INPUT_STRIDE)


def inner_starts(clip: ClipArrays, length: int) -> tuple[int, int]:
    """First and last 25 fps start of a `length` window whose audio at every offset around the true one is inside the clip."""
    true, last = clip.entry.offset_frames, clip.n_frames - INPUT_STRIDE * length
    first = max(0, MAX_OFFSET - true)
    return first, max(first, min(last, last - MAX_OFFSET - true))


def collate(visual: list[torch.Tensor], audio: list[torch.Tensor], lengths: list[int]):
    """Pad windows of different lengths: frames (B, 3, T, S, S), spectrograms (B, n_mels, 80 T), lengths (B,)."""
    longest = max(lengths)
    frames = torch.zeros(len(visual), *visual[0].shape[:1], longest, *visual[0].shape[2:])
    spec = torch.zeros(len(audio), audio[0].shape[0], longest * INPUT_STRIDE * SPEC_PER_FRAME)
    for i, (v, a) in enumerate(zip(visual, audio)):
        frames[i, :, : v.shape[1]] = v
        spec[i, :, : a.shape[1]] = a
    return frames, spec, torch.tensor(lengths)


def stage1_batch(clips: list[ClipArrays], rng: np.random.Generator):
    """Aligned pairs from different videos, each of its own random length: negatives are other videos."""
    visual, audio, lengths = [], [], []
    for clip in clips:
        length = int(rng.integers(MIN_FRAMES, max_length(clip) + 1))
        start = int(rng.integers(0, clip.n_frames - INPUT_STRIDE * length + 1))
        visual.append(visual_window(clip, start, length))
        audio.append(audio_window(clip, start, clip.entry.offset_frames, length))
        lengths.append(length)
    return collate(visual, audio, lengths)


def stage2_batch(clips: list[ClipArrays], rng: np.random.Generator, longest: int = MAX_FRAMES):
    """One window per video, of a common random length up to `longest`, and its audio at every offset
    -15..15 around the true one, inside the clip: frames (V, 3, T, S, S), spans (V, n_mels, 80 T + 480), T.

    The aligned audio is shift MAX_OFFSET of each span; the other shifts are that video's negatives.
    """
    length = int(rng.integers(MIN_FRAMES, min([longest] + [inner_length(c) for c in clips]) + 1))
    starts = [int(rng.integers(first, last + 1)) for first, last in (inner_starts(c, length) for c in clips)]
    frames = torch.stack([visual_window(c, s, length) for c, s in zip(clips, starts)])
    spans = torch.stack([offset_span(c, s, length, c.entry.offset_frames) for c, s in zip(clips, starts)])
    return frames, spans, length
