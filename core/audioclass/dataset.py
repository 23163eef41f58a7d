"""A labelled folder (clips/ + labels.csv in the VGG-Sound layout) decoded to fixed-length waveforms."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.audioclass.config import AudioConfig
from core.audioclass.spectrogram import log_spectrogram
from core.media import MediaError, read_audio
from core.vggsound import read_labels_csv

AUDIO_SUFFIXES = (".mp4", ".mkv", ".webm", ".wav", ".mp3", ".flac", ".ogg")


@dataclass
class ClipSet:
    """Decoded clips of a folder: keys, given labels, split and (n, samples) float32 waveforms."""

    keys: list[str]
    labels: list[str]
    splits: list[str]
    paths: list[Path]
    waveforms: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def subset(self, index: np.ndarray | list[int]) -> "ClipSet":
        """The clips at `index`, in that order."""
        index = list(np.asarray(index, dtype=np.int64))
        return ClipSet([self.keys[i] for i in index], [self.labels[i] for i in index],
                       [self.splits[i] for i in index], [self.paths[i] for i in index], self.waveforms[index])


def media_files(folder: Path) -> dict[str, Path]:
    """{key: path} of the audio or video files in a folder (the key is the file's stem)."""
    return {p.stem: p for p in sorted(Path(folder).iterdir()) if p.suffix.lower() in AUDIO_SUFFIXES}


def fixed_length(samples: np.ndarray, length: int) -> np.ndarray:
    """Samples cut or zero-padded at the end to `length`."""
    out = np.zeros(length, dtype=np.float32)
    out[: min(length, len(samples))] = samples[:length]
    return out


def decode_audio(path: str | Path, audio: AudioConfig, seconds: float | None = None) -> np.ndarray:
    """Mono float32 samples at the config's rate: the whole file, or fixed to `seconds` when given."""
    samples = read_audio(path, audio.sample_rate)
    return samples if seconds is None else fixed_length(samples, int(round(seconds * audio.sample_rate)))


def load_clip_set(folder: str | Path, audio: AudioConfig, labels_csv: str | Path | None = None,
                  limit: int | None = None, split: str | None = None) -> ClipSet:
    """Every labelled clip with readable media in folder/clips (labels from folder/labels.csv unless given),
    each fixed to audio.clip_seconds; unreadable or missing media is skipped."""
    folder = Path(folder)
    rows = read_labels_csv(labels_csv or folder / "labels.csv")
    files = media_files(folder / "clips")
    keys, labels, splits, paths, waves = [], [], [], [], []
    for key, row in rows.items():
        if key not in files or (split is not None and row.split != split):
            continue
        try:
            waves.append(decode_audio(files[key], audio, audio.clip_seconds))
        except (MediaError, OSError):
            continue
        keys.append(key)
        labels.append(row.label)
        splits.append(row.split)
        paths.append(files[key])
        if limit and len(keys) >= limit:
            break
    if not keys:
        raise ValueError(f"{folder}: no labelled clip with readable audio")
    return ClipSet(keys, labels, splits, paths, np.stack(waves))


@torch.no_grad()
def spectrograms(waveforms: np.ndarray, audio: AudioConfig, chunk: int = 64) -> torch.Tensor:
    """(n, 1, F, T) float16 spectrograms of equal-length waveforms, computed once and cropped per step."""
    return torch.cat([log_spectrogram(torch.from_numpy(waveforms[i:i + chunk]), audio).half()
                      for i in range(0, len(waveforms), chunk)])
