"""Centre frames and audio windows of a clip folder (generator output or an exported project)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.localizer.audio import fit_window
from core.localizer.config import AudioConfig
from core.media import MEDIA_SUFFIXES, probe, read_audio, read_frame_at


@dataclass
class ClipSet:
    """Decoded inputs of n clips; `annotations[i]` is a list of box lists (one per annotator)."""

    keys: list[str]
    images: np.ndarray  # (n, S, S, 3) uint8 centre frames
    waveforms: np.ndarray  # (n, samples) float32
    annotations: list[list[list[list[float]]]]

    def __len__(self) -> int:
        return len(self.keys)


def clip_inputs(path: str | Path, image_size: int, audio: AudioConfig) -> tuple[np.ndarray, np.ndarray]:
    """(centre frame (S, S, 3) uint8, audio window (samples,)) of one media file."""
    centre = probe(path).duration / 2
    frame = read_frame_at(path, centre, size=(image_size, image_size))
    half = audio.seconds / 2
    samples = read_audio(path, audio.sample_rate, max(centre - half, 0.0), centre + half)
    return frame, fit_window(samples, audio)


def read_box_file(path: str | Path) -> dict[str, list[list[float]]]:
    """{file key: boxes} of a VGG-SS layout JSON; ValueError naming the file on bad layout."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {str(e["file"]): [list(map(float, b[:4])) for b in e["bbox"]] for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a VGG-SS box file ({exc})") from exc


def media_file(clips_dir: Path, key: str) -> Path | None:
    """The media file of a clip key in a folder, if there is one."""
    return next((clips_dir / f"{key}{s}" for s in MEDIA_SUFFIXES if (clips_dir / f"{key}{s}").exists()), None)


def load_clip_set(data_dir: str | Path, image_size: int, audio: AudioConfig,
                  require_boxes: bool = False, limit: int | None = None) -> ClipSet:
    """Decode every clip of data_dir/clips (those listed in vggss.json when require_boxes)."""
    data_dir = Path(data_dir)
    clips_dir = data_dir / "clips"
    if not clips_dir.is_dir():
        raise FileNotFoundError(f"{clips_dir}: no clips folder (expected DIR/clips/<key>.mp4)")
    boxes = read_box_file(data_dir / "vggss.json") if (data_dir / "vggss.json").is_file() else {}
    if require_boxes:
        if not boxes:
            raise FileNotFoundError(f"{data_dir / 'vggss.json'}: evaluation needs the boxes file")
        keys = [k for k in boxes if media_file(clips_dir, k)]
    else:
        keys = sorted(p.stem for p in clips_dir.iterdir() if p.suffix in MEDIA_SUFFIXES)
    keys = keys[:limit] if limit else keys
    if not keys:
        raise FileNotFoundError(f"{clips_dir}: no clip with media to use")
    decoded = [clip_inputs(media_file(clips_dir, k), image_size, audio) for k in keys]
    return ClipSet(keys, np.stack([d[0] for d in decoded]), np.stack([d[1] for d in decoded]),
                   [[boxes[k]] if k in boxes else [] for k in keys])


def grid_mask(boxes: list[list[float]], grid: int) -> np.ndarray:
    """Binary (grid, grid) oracle mask: cells at least half covered by a box (else the most covered)."""
    fine = 8
    cover = np.zeros((grid * fine, grid * fine), dtype=np.float32)
    for x1, y1, x2, y2 in (b[:4] for b in boxes):
        side = grid * fine
        cover[int(round(y1 * side)):int(round(y2 * side)), int(round(x1 * side)):int(round(x2 * side))] = 1
    share = cover.reshape(grid, fine, grid, fine).mean(axis=(1, 3))
    mask = (share >= 0.5).astype(np.float32)
    if boxes and not mask.any():
        mask.flat[int(share.argmax())] = 1
    return mask
