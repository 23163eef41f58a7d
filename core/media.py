"""Audio-visual media on PyAV: probe, decode, cut and write clips."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

MEDIA_SUFFIXES = (".mp4", ".mkv", ".webm")


class MediaError(ValueError):
    """A media file that cannot be used, with the file and the reason in the message."""


@dataclass(frozen=True)
class MediaInfo:
    """What the importer records about a clip."""

    duration: float
    fps: float
    sample_rate: int
    width: int
    height: int
    has_audio: bool
    has_video: bool


def probe(path: str | Path) -> MediaInfo:
    """Stream facts of a media file; MediaError if it cannot be opened."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            duration = _container_duration(container, video, audio)
            return MediaInfo(
                duration=duration,
                fps=float(video.average_rate or video.guessed_rate or 0) if video else 0.0,
                sample_rate=int(audio.rate) if audio else 0,
                width=int(video.codec_context.width) if video else 0,
                height=int(video.codec_context.height) if video else 0,
                has_audio=audio is not None,
                has_video=video is not None,
            )
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: cannot be read as media ({exc})") from exc


def _container_duration(container, video, audio) -> float:
    if container.duration:
        return container.duration / av.time_base
    for stream in (video, audio):
        if stream is not None and stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
    return 0.0


def write_clip(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    crf: int = 20,
) -> Path:
    """Encode frames (T, H, W, 3 uint8) and mono audio (float32 in [-1, 1]) to H.264/AAC."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), got {frames.shape}")
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        raise ValueError("H.264 needs even frame sizes")
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w") as container:
        vstream = container.add_stream("libx264", rate=rate)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = {"crf": str(crf), "preset": "veryfast"}
        astream = None
        if audio is not None:
            astream = container.add_stream("aac", rate=sample_rate)
            astream.layout = "mono"
        for image in frames:
            container.mux(vstream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(vstream.encode(None))
        if astream is not None:
            _encode_audio(container, astream, np.asarray(audio, dtype=np.float32), sample_rate)
    return path


def _encode_audio(container, stream, samples: np.ndarray, sample_rate: int) -> None:
    samples = np.clip(samples.reshape(-1), -1.0, 1.0)
    chunk = 1024
    for start in range(0, len(samples), chunk):
        block = samples[start : start + chunk][None, :]
        frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
