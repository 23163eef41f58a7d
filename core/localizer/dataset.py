"""Centre frames and audio windows of a clip folder (generator output or an exported project)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.framing import Letterbox
from core.localizer.audio import fit_window
from core.localizer.config import AudioConfig
from core.localizer.metrics import CONSENSUS
from core.media import MEDIA_SUFFIXES, MediaError, probe, read_audio, read_frame_at


Annotations = list[list[list[float]]]  # one box list per annotator


@dataclass
class ClipSet:
    """Decoded inputs of n clips; `annotations[i]` is a list of box lists (one per annotator)."""

    keys: list[str]
    images: np.ndarray  # (n, S, S, 3) uint8 centre frames
    waveforms: np.ndarray  # (n, samples) float32
    annotations: list[Annotations]

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class ClipInputs:
    """One media file's model inputs and where its frame lies in the square input."""

    frame: np.ndarray  # (S, S, 3) uint8: the centre frame letterboxed (black bars on the short side)
    waveform: np.ndarray  # (samples,) float32: the audio window around the centre frame
    letterbox: Letterbox  # maps boxes in fractions of the square back to fractions of the source frame


def decode_clip(path: str | Path, image_size: int, audio: AudioConfig) -> ClipInputs:
    """The centre frame, letterboxed into the (S, S) square at one scale (a square frame is only
    resized), and the audio window around it; MediaError for a file without a picture."""
    info = probe(path)
    if info.width <= 0 or info.height <= 0:
        raise MediaError(f"{path}: has no video frame size (no video stream?)")
    centre = info.duration / 2
    letterbox = Letterbox(info.width, info.height, image_size)
    frame = letterbox.place(read_frame_at(path, centre, size=letterbox.inner))
    half = audio.seconds / 2
    samples = read_audio(path, audio.sample_rate, max(centre - half, 0.0), centre + half)
    return ClipInputs(frame, fit_window(samples, audio), letterbox)


def clip_inputs(path: str | Path, image_size: int, audio: AudioConfig) -> tuple[np.ndarray, np.ndarray]:
    """(centre frame (S, S, 3) uint8, letterboxed; audio window (samples,)) of one media file."""
    inputs = decode_clip(path, image_size, audio)
    return inputs.frame, inputs.waveform


def read_annotations(path: str | Path) -> dict[str, Annotations]:
    """{file key: one box list per annotator} of a VGG-SS layout JSON: an entry's optional
    "annotators" list holds each person's boxes, else its "bbox" is one annotator's boxes.
    ValueError naming the file on a bad layout."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {str(e["file"]): [[list(map(float, b[:4])) for b in boxes]
                                 for boxes in e.get("annotators") or [e["bbox"]]] for e in entries}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a VGG-SS box file ({exc})") from exc


def media_file(clips_dir: Path, key: str) -> Path | None:
    """The media file of a clip key in a folder, if there is one."""
    return next((clips_dir / f"{key}{s}" for s in MEDIA_SUFFIXES if (clips_dir / f"{key}{s}").exists()), None)


def _fingerprint(files: list[Path], image_size: int, audio: AudioConfig) -> str:
    """Changes when a media file or the decoding settings change."""
    # "letterbox": frames of other aspects were stretched to the square before; such caches are not reused
    digest = hashlib.sha256(f"{image_size}:{audio.sample_rate}:{audio.seconds}:letterbox".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def decoded_inputs(clips_dir: Path, keys: list[str], image_size: int, audio: AudioConfig,
                   cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(frames (n, S, S, 3) uint8, audio windows (n, samples)) of the keys' media, decoded once:
    kept in clips_dir/../.cache and reused while the files and settings are unchanged."""
    files = [media_file(clips_dir, k) for k in keys]
    stamp = _fingerprint(files, image_size, audio)
    path = clips_dir.parent / ".cache" / f"localizer-inputs-{stamp[:16]}.npz"
    if cache and path.is_file():
        with np.load(path) as stored:
            return stored["images"], stored["waveforms"]
    decoded = [clip_inputs(f, image_size, audio) for f in files]
    images, waveforms = np.stack([d[0] for d in decoded]), np.stack([d[1] for d in decoded])
    if cache:
        try:
            path.parent.mkdir(exist_ok=True)
            partial = path.with_suffix(".part.npz")
            np.savez(partial, images=images, waveforms=waveforms)
            partial.replace(path)
        except OSError:
            pass  # a read-only data folder: decode again next time
    return images, waveforms


def load_clip_set(data_dir: str | Path, image_size: int, audio: AudioConfig,
                  require_boxes: bool = False, limit: int | None = None, cache: bool = True) -> ClipSet:
    """Decoded clips of data_dir/clips (those listed in vggss.json when require_boxes)."""
    data_dir = Path(data_dir)
    clips_dir = data_dir / "clips"
    if not clips_dir.is_dir():
        raise FileNotFoundError(f"{clips_dir}: no clips folder (expected DIR/clips/<key>.mp4)")
    boxes = read_annotations(data_dir / "vggss.json") if (data_dir / "vggss.json").is_file() else {}
    if require_boxes:
        if not boxes:
            raise FileNotFoundError(f"{data_dir / 'vggss.json'}: evaluation needs the boxes file")
        keys = [k for k in boxes if media_file(clips_dir, k)]
    else:
        keys = sorted(p.stem for p in clips_dir.iterdir() if p.suffix in MEDIA_SUFFIXES)
    keys = keys[:limit] if limit else keys
    if not keys:
        raise FileNotFoundError(f"{clips_dir}: no clip with media to use")
    images, waveforms = decoded_inputs(clips_dir, keys, image_size, audio, cache)
    return ClipSet(keys, images, waveforms, [_in_square(boxes.get(k, []), clips_dir, k, image_size) for k in keys])


def _in_square(annotations: Annotations, clips_dir: Path, key: str, image_size: int) -> Annotations:
    """People's boxes (fractions of the source frame) as fractions of the letterboxed square input."""
    if not annotations:
        return annotations
    info = probe(media_file(clips_dir, key))
    if info.width == info.height:
        return annotations
    box = Letterbox(info.width, info.height, image_size)
    return [[list(box.to_square(tuple(b[:4]))) for b in boxes] for boxes in annotations]


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


def oracle_mask(annotations: Annotations, grid: int) -> np.ndarray:
    """(grid, grid) oracle mask m_i: one annotator's box mask, or the consensus
    min(sum_j b_j / C, 1) of several (C = 2, as the metrics use)."""
    masks = [grid_mask(boxes, grid) for boxes in annotations]
    if len(masks) == 1:
        return masks[0]
    return np.minimum(np.sum(masks, axis=0) / CONSENSUS, 1.0).astype(np.float32)
