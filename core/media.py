"""Audio-visual media on PyAV: probe, decode, cut and write clips.

Times are seconds from the start of the container (what a player shows), so audio
and video positions compare directly. Decoders drop AAC priming samples through
the container's edit list and stream start times are honoured, so a sound
written at t is read back at t.
"""

from __future__ import annotations

import math
import os
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain, islice
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from core.framing import Letterbox

MEDIA_SUFFIXES = (".mp4", ".mkv", ".webm")

_EPS = 1e-6  # seconds; absorbs float error when comparing timestamps
# Audio decoded before a window: the first AAC frame after a seek lacks its MDCT overlap.
_AUDIO_PREROLL = 0.25
# Encoder options: clips kept (write_clip) favour size, cuts made per request favour speed.
_KEEP = {"libx264": {"preset": "veryfast"}, "aac": {"aac_coder": "twoloop"}}
_SERVE = {"libx264": {"preset": "superfast"}, "aac": {"aac_coder": "fast"}}
_KEYFRAME_INTERVAL = 1.0  # seconds; short so windowed reads of written clips seek close by
_BROWSER_VIDEO_CODECS = {"h264", "vp9", "av1"}  # worth stream-copying into a clip for review pages


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


# --- reading -----------------------------------------------------------------


def probe(path: str | Path) -> MediaInfo:
    """Stream facts of a media file; MediaError if it cannot be opened."""
    path = Path(path)
    with _opened(path) as container:
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise MediaError(f"{path}: has neither a video nor an audio stream")
        return MediaInfo(
            duration=_duration(container),
            fps=float(_frame_rate(video)) if video else 0.0,
            sample_rate=int(audio.rate) if audio else 0,
            width=int(video.codec_context.width) if video else 0,
            height=int(video.codec_context.height) if video else 0,
            has_audio=audio is not None,
            has_video=video is not None,
        )


def centre_time(info_or_path: MediaInfo | str | Path) -> float:
    """Time in seconds of the middle of a clip."""
    info = info_or_path if isinstance(info_or_path, MediaInfo) else probe(info_or_path)
    return info.duration / 2


def read_frames(
    path: str | Path,
    fps: float | None = None,
    start: float = 0.0,
    end: float | None = None,
    size: tuple[int, int] | None = None,
    square: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """RGB uint8 frames (T, H, W, 3) in [start, end) s, native or nearest to start + k / fps, and their times.

    size is (width, height), as PyAV's reformat takes it; square=S letterboxes each frame into S x S
    instead (core/framing.py: the whole frame at one scale, black bars on the short side). Frames are
    converted as they are decoded, so memory is bounded by the returned array.
    """
    path = Path(path)
    if fps is not None and not fps > 0:
        raise MediaError(f"{path}: fps must be positive, got {fps}")
    with _opened(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        stop = _video_span(container, stream)[1]
        stop = stop if end is None else min(end, stop)
        timed = _frames_from(container, stream, start)
        box = _box(path, stream, size, square)
        size = size or (stream.width, stream.height)
        if fps is None:
            return _stacked(_frames_between(timed, start, stop), size, box)
        grid = _grid(start, stop, fps)
        return _stacked(_nearest_on_grid(timed, grid), size, box, len(grid))


def read_frame_at(
    path: str | Path, t: float, size: tuple[int, int] | None = None, square: int | None = None
) -> np.ndarray:
    """The RGB uint8 frame (H, W, 3) nearest to t seconds; size is (width, height), square as in read_frames."""
    path = Path(path)
    with _opened(path) as container:
        stream = _video_stream(container, path)
        box = _box(path, stream, size, square)
        picked = _nearest_on_grid(_frames_from(container, stream, t), np.array([t]))
        frames, _ = _stacked(picked, size or (stream.width, stream.height), box, 1)
        if not len(frames):
            raise MediaError(f"{path}: has no decodable video frame")
        return frames[0]


def read_audio(
    path: str | Path, sample_rate: int = 16000, start: float = 0.0, end: float | None = None
) -> np.ndarray:
    """Mono float32 samples in [start, end) s (None: clip end), exactly round((end - start) * rate) of them."""
    path = Path(path)
    with _opened(path) as container:
        stream = _audio_stream(container, path)
        stop = _duration(container) if end is None else end
        return _read_samples(container, stream, sample_rate, "mono", start, stop)[0]


# --- writing -----------------------------------------------------------------


def cut_segment(src: str | Path, dst: str | Path, start: float, end: float) -> Path:
    """A clip at dst of exactly the frames and audio samples of src in [start, end), clamped to src."""
    return _write_window(Path(src), Path(dst), start, end, audio_delay=None, copy_video=False)


def write_shifted(
    src: str | Path,
    dst: str | Path,
    offset_frames: int,
    fps: float = 25.0,
    start: float = 0.0,
    end: float | None = None,
) -> Path:
    """A clip of src's frames in [start, end) with its audio offset_frames / fps s late (negative: early)."""
    # The whole clip's H.264 / VP9 / AV1 video is stream-copied; a window is re-encoded.
    if not fps > 0:
        raise MediaError(f"{src}: fps must be positive, got {fps}")
    return _write_window(
        Path(src), Path(dst), start, end, audio_delay=offset_frames / fps, copy_video=True
    )


def write_clip(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    crf: int = 20,
) -> Path:
    """Encode frames (T, H, W, 3 uint8; odd sizes edge-padded at right/bottom) and mono audio to H.264/AAC."""
    path = Path(path)
    frames = _checked_frames(path, frames)
    rate = _checked_rate(path, fps)
    samples = None if audio is None else _checked_audio(path, audio, sample_rate)
    height, width = frames.shape[1:3]
    with _output(path) as out:
        video = _add_h264(out, rate, width, height, crf, _KEEP)
        aac = None if samples is None else _add_aac(out, sample_rate, "mono", _KEEP)
        images = (av.VideoFrame.from_ndarray(image, format="rgb24") for image in frames)
        audio_packets = [] if aac is None else _encoded_audio(aac, samples[None], sample_rate, 0)
        _mux_interleaved(out, _encoded_video(video, images, rate), audio_packets)
    return path


# --- containers and streams --------------------------------------------------


@contextmanager
def _opened(path: Path) -> Iterator[av.container.InputContainer]:
    """An input container; PyAV errors inside the block become MediaError naming the file."""
    try:
        with av.open(str(path)) as container:
            yield container
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: cannot be read as media ({exc})") from exc


@contextmanager
def _output(path: Path) -> Iterator[av.container.OutputContainer]:
    """An output container written beside path and moved there only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readers (e.g. a review page in another thread) never see half a file; the
    # suffix stays last because the muxer is chosen by it.
    partial = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial{path.suffix}")
    try:
        with av.open(str(partial), "w") as container:
            yield container
        os.replace(partial, path)
    except MediaError:
        raise
    except (av.FFmpegError, ValueError) as exc:  # PyAV raises ValueError for codecs a format refuses
        raise MediaError(f"{path}: cannot be written ({exc})") from exc
    finally:
        partial.unlink(missing_ok=True)


def _video_stream(container, path: Path):
    """The first video stream; MediaError if there is none."""
    stream = next(iter(container.streams.video), None)
    if stream is None:
        raise MediaError(f"{path}: has no video stream")
    return stream


def _audio_stream(container, path: Path):
    """The first audio stream; MediaError if there is none."""
    stream = next(iter(container.streams.audio), None)
    if stream is None:
        raise MediaError(f"{path}: has no audio stream")
    return stream


def _origin(container) -> float:
    """Container start time in seconds, the zero of all times in this module."""
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def _duration(container) -> float:
    """Seconds from the container start to its end."""
    if container.duration:
        return container.duration / av.time_base
    origin = _origin(container)
    for stream in chain(container.streams.video, container.streams.audio):
        if stream.duration and stream.time_base:
            first = float((stream.start_time or 0) * stream.time_base) - origin
            return first + float(stream.duration * stream.time_base)
    return 0.0


def _video_span(container, stream) -> tuple[float, float]:
    """Times of the first frame and of the end of the last one."""
    origin = _origin(container)
    first = float(stream.start_time * stream.time_base) - origin if stream.start_time is not None else 0.0
    if stream.duration:
        return first, first + float(stream.duration * stream.time_base)
    return first, _duration(container)


def _frame_rate(stream) -> Fraction:
    """Nominal frames per second of a video stream (0 when unknown)."""
    return Fraction(stream.average_rate or stream.guessed_rate or 0)


def _seek(container, stream, t: float) -> None:
    """Position the demuxer on the last keyframe at or before container time t."""
    offset = math.floor(t / stream.time_base)
    container.seek(max(offset, 0), stream=stream, backward=True)


# --- video decoding ----------------------------------------------------------


def _frames_from(container, stream, t: float) -> Iterator[tuple[float, av.VideoFrame]]:
    """Decoded (time, frame) pairs from the last keyframe at or before t (or the first frame)."""
    if t > 0:
        _seek(container, stream, _origin(container) + t)
    timed = _timed(container, stream)
    head = next(timed, None)
    if head is not None and t > 0 and head[0] > t + _EPS:
        # Demuxers that seek by decode time can land on a keyframe shown just after t.
        container.seek(0, stream=stream, backward=True)
        timed = _timed(container, stream)
        head = next(timed, None)
    if head is not None:
        yield head
        head = None  # not kept while the rest of the clip decodes
        yield from timed


def _timed(container, stream) -> Iterator[tuple[float, av.VideoFrame]]:
    """Decoded frames of stream from the current position, with their times."""
    origin = _origin(container)
    for frame in container.decode(stream):
        if frame.time is None:
            raise MediaError(f"{container.name}: video frame without a timestamp")
        yield frame.time - origin, frame


def _frames_between(
    timed: Iterable[tuple[float, av.VideoFrame]], start: float, stop: float
) -> Iterator[tuple[float, av.VideoFrame]]:
    """The (time, frame) pairs with start <= time < stop; stops decoding at stop."""
    for t, frame in timed:
        if t >= stop - _EPS:
            return
        if t >= start - _EPS:
            yield t, frame


def _grid(start: float, stop: float, fps: float) -> np.ndarray:
    """Sample times start + k / fps that fall before stop."""
    count = max(math.ceil((stop - start) * fps - _EPS), 0)
    return start + np.arange(count) / fps


def _nearest_on_grid(
    timed: Iterable[tuple[float, av.VideoFrame]], grid: np.ndarray
) -> Iterator[tuple[float, av.VideoFrame]]:
    """(grid time, nearest frame) for each grid time, in order; decoding stops once all are settled."""
    done, previous = 0, None
    for t, frame in timed:
        while done < len(grid) and grid[done] <= t + _EPS:
            g = grid[done]
            closer = previous if previous is not None and g - previous[0] < t - g else (t, frame)
            yield g, closer[1]
            done += 1
        if done == len(grid):
            return
        previous = (t, frame)
    # Grid times after the last frame see the last frame.
    if previous is not None:
        for g in grid[done:]:
            yield g, previous[1]


def _box(path: Path, stream, size: tuple[int, int] | None, square: int | None) -> Letterbox | None:
    """The letterbox of stream's frames into square x square px, if square is given."""
    if square is None:
        return None
    if size is not None:
        raise MediaError(f"{path}: give size or square, not both")
    if not square > 0:
        raise MediaError(f"{path}: square must be positive, got {square}")
    return Letterbox(stream.width, stream.height, int(square))


def _rgb(
    frame: av.VideoFrame, size: tuple[int, int] | None, reformatter: VideoReformatter | None = None
) -> np.ndarray:
    """An RGB uint8 (H, W, 3) array of frame, resized to size=(width, height) if given."""
    width, height = size if size is not None else (frame.width, frame.height)
    # A shared reformatter keeps its swscale context; frame.to_ndarray builds one per frame.
    reformatter = reformatter or VideoReformatter()
    return reformatter.reformat(frame, width, height, format="rgb24").to_ndarray()


def _stacked(
    picked: Iterable[tuple[float, av.VideoFrame]],
    size: tuple[int, int],
    box: Letterbox | None = None,
    count: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W, 3) RGB frames of size=(width, height) and (T,) times of (time, frame) pairs.

    Each frame is converted as it comes and only the small output is kept, never the decoded
    frames (a 1080p one is about 3 MB). A frame picked again right after itself (a grid finer
    than the frame rate) is converted once. With box, frames are scaled to box.inner and placed
    in black box.size squares. count, when known, is the most pairs there are: the output is
    then allocated once.
    """
    width, height = (box.size, box.size) if box else size
    scaled = box.inner if box else size
    left, top = box.offset if box else (0, 0)
    reformatter = VideoReformatter()
    out = np.zeros((count or 0, height, width, 3), dtype=np.uint8)
    extra: list[np.ndarray] = []  # frames past count (count unknown)
    times: list[float] = []
    last = None  # the previous pair's frame; referenced, so `is` cannot match a new frame at its address
    for i, (t, frame) in enumerate(picked):
        if frame is not last:
            image, last = _rgb(frame, scaled, reformatter), frame
        if i < len(out):
            target = out[i]
        else:
            target = np.zeros((height, width, 3), dtype=np.uint8)
            extra.append(target)
        target[top : top + scaled[1], left : left + scaled[0]] = image
        times.append(t)
    if extra:
        out = np.concatenate([out, np.stack(extra)]) if len(out) else np.stack(extra)
    elif len(times) < len(out):
        out = out[: len(times)].copy()
    return out, np.array(times, dtype=np.float64)


# --- audio decoding ----------------------------------------------------------


def _read_samples(
    container, stream, sample_rate: int, layout: str, start: float, stop: float
) -> np.ndarray:
    """float32 (channels, round((stop - start) * sample_rate)) samples, zero where the stream has none."""
    count = max(round((stop - start) * sample_rate), 0)
    origin = _origin(container)
    if start - _AUDIO_PREROLL > 0:
        _seek(container, stream, origin + start - _AUDIO_PREROLL)
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
    out = None
    at = 0  # index in out of the next resampled sample (negative: before start)
    for frame in chain(_audio_frames(container, stream, origin, stop, sample_rate), [None]):
        for chunk in resampler.resample(frame):
            if chunk is None:  # a pass-through resampler echoes the flush
                continue
            data = chunk.to_ndarray()
            if out is None:
                # Written straight into the window: no list of chunks of a long clip.
                out = np.zeros((data.shape[0], count), dtype=np.float32)
                at = -round((start - (chunk.time - origin)) * sample_rate)
            lo, hi = max(-at, 0), min(data.shape[1], count - at)
            if hi > lo:
                out[:, at + lo : at + hi] = data[:, lo:hi]
            at += data.shape[1]
    if out is None:
        return np.zeros((resampler.layout.nb_channels, count), dtype=np.float32)
    return out


def _audio_frames(
    container, stream, origin: float, stop: float, sample_rate: int
) -> Iterator[av.AudioFrame]:
    """Decoded audio frames from the current position to the first one starting after stop."""
    for index, frame in enumerate(container.decode(stream)):
        if frame.time is None:
            raise MediaError(f"{container.name}: audio frame without a timestamp")
        yield _on_output_grid(frame, origin, sample_rate) if index == 0 else frame
        # Samples past stop feed the resampler's filter, so the window's last ones are exact.
        if frame.time - origin > stop:
            return


def _on_output_grid(frame: av.AudioFrame, origin: float, sample_rate: int) -> av.AudioFrame:
    """frame less the leading samples before the first one that lies on the sample_rate grid."""
    # Resampling then starts in phase with a read from the clip start, so a window
    # read after a seek holds the very samples of a whole-clip read.
    rate = frame.sample_rate
    step = rate // math.gcd(rate, sample_rate)  # e.g. 441 samples of 44.1 kHz = 160 of 16 kHz
    skip = -round((frame.time - origin) * rate) % step
    if skip == 0 or skip >= frame.samples:
        return frame
    packed_channels = 1 if frame.format.is_planar else frame.layout.nb_channels
    data = frame.to_ndarray()[:, skip * packed_channels :]
    trimmed = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(data), format=frame.format.name, layout=frame.layout.name
    )
    trimmed.sample_rate, trimmed.time_base = rate, frame.time_base
    trimmed.pts = frame.pts + round(Fraction(skip, rate) / frame.time_base)
    return trimmed


# --- encoding ----------------------------------------------------------------


def _write_window(
    src: Path, dst: Path, start: float, end: float | None, audio_delay: float | None, copy_video: bool
) -> Path:
    """Write src's video in [start, end) to dst, audio delayed audio_delay s (None: as is, if any)."""
    with _opened(src) as vin, _opened(src) as ain:
        vstream = _video_stream(vin, src)
        astream = next(iter(ain.streams.audio), None) if audio_delay is None else _audio_stream(ain, src)
        rate = _frame_rate(vstream)
        if not rate:
            raise MediaError(f"{src}: video has no frame rate")
        first, stop = _video_span(vin, vstream)
        start, end = max(start, first), stop if end is None else min(end, stop)
        if end - start < _EPS:
            raise MediaError(f"{src}: the window [{start}, {end}) holds no video")
        copy_video = copy_video and vstream.codec_context.name in _BROWSER_VIDEO_CODECS
        if copy_video and start <= first + _EPS and end >= stop - _EPS:
            # Copied packets keep their source times, so the audio starts where they do.
            t0, count, frames, out_t0 = first, round((stop - first) * rate), None, _origin(vin) + first
        else:
            (t0, count, frames), out_t0 = _window_frames(vin, vstream, start, end, rate), 0.0
        with _output(dst) as out:
            video_packets = _video_packets(out, vin, vstream, frames, rate)
            audio_packets = []
            if astream is not None:
                a_start = t0 - (audio_delay or 0.0)
                audio_packets = _window_audio(out, ain, astream, a_start, count / rate, out_t0)
            _mux_interleaved(out, video_packets, audio_packets)
    return dst


def _window_frames(container, stream, start: float, end: float, rate: Fraction):
    """(time of the first frame in [start, end), frame count on the rate grid, those frames)."""
    stream.thread_type = "AUTO"
    timed = _frames_between(_frames_from(container, stream, start), start, end)
    head = next(timed, None)
    if head is None:
        raise MediaError(f"{container.name}: no video frames in [{start}, {end})")
    count = max(math.ceil((end - head[0]) * rate - _EPS), 1)
    return head[0], count, (frame for _, frame in islice(chain([head], timed), count))


def _video_packets(out, container, stream, frames: Iterable[av.VideoFrame] | None, rate: Fraction):
    """Packets, in a new stream of out, of frames re-encoded, or of stream copied when frames is None."""
    if frames is None:
        return _copied_packets(container, stream, out.add_stream_from_template(stream))
    video = _add_h264(out, rate, stream.width, stream.height, 20, _SERVE)
    return _encoded_video(video, frames, rate)


def _window_audio(
    out, container, stream, start: float, duration: float, out_start: float
) -> list[av.Packet]:
    """AAC packets, in a new stream of out at out_start s, of stream's audio in [start, start + duration)."""
    # Named layouts only (AAC refuses "2 channels"); browsers play little beyond stereo.
    layout = "mono" if stream.channels == 1 else "stereo"
    samples = _read_samples(container, stream, stream.rate, layout, start, start + duration)
    aac = _add_aac(out, stream.rate, layout, _SERVE)
    return _encoded_audio(aac, samples, stream.rate, round(out_start * stream.rate))


def _add_h264(out, rate: Fraction, width: int, height: int, crf: int, options: dict):
    """An H.264 stream of even size (4:2:0 chroma needs it)."""
    stream = out.add_stream("libx264", rate=rate)
    stream.width, stream.height = width + width % 2, height + height % 2
    stream.pix_fmt = "yuv420p"
    stream.codec_context.gop_size = max(round(rate * _KEYFRAME_INTERVAL), 1)
    stream.options = {**options["libx264"], "crf": str(crf)}
    return stream


def _add_aac(out, sample_rate: int, layout: str, options: dict):
    """An AAC stream."""
    stream = out.add_stream("aac", rate=sample_rate)
    stream.layout = layout
    stream.options = options["aac"]
    return stream


def _encoded_video(stream, frames: Iterable[av.VideoFrame], rate: Fraction) -> Iterator[av.Packet]:
    """Packets of frames shown one per 1 / rate seconds from time 0."""
    time_base = 1 / rate
    for index, frame in enumerate(frames):
        frame = _even_sized(frame)
        frame.pts, frame.time_base = index, time_base
        frame.pict_type = av.video.frame.PictureType.NONE  # let x264 choose, not the source's type
        yield from stream.encode(frame)
    yield from stream.encode(None)


def _even_sized(frame: av.VideoFrame) -> av.VideoFrame:
    """frame, or an RGB copy padded by one edge pixel to even width and height."""
    if frame.width % 2 == 0 and frame.height % 2 == 0:
        return frame
    image = frame.to_ndarray(format="rgb24")
    padded = np.pad(image, ((0, frame.height % 2), (0, frame.width % 2), (0, 0)), mode="edge")
    return av.VideoFrame.from_ndarray(padded, format="rgb24")


def _copied_packets(container, stream, out_stream) -> Iterator[av.Packet]:
    """The packets of stream, re-addressed to out_stream."""
    for packet in container.demux(stream):
        if packet.dts is None:  # the demuxer's empty end-of-stream packet
            continue
        packet.stream = out_stream
        yield packet


def _encoded_audio(stream, samples: np.ndarray, sample_rate: int, first_pts: int) -> list[av.Packet]:
    """AAC packets of float (channels, N) samples whose first sample is at first_pts / sample_rate."""
    packets = []
    if samples.shape[1]:
        data = np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=stream.layout.name)
        frame.sample_rate, frame.pts, frame.time_base = sample_rate, first_pts, Fraction(1, sample_rate)
        packets += stream.encode(frame)
    return packets + stream.encode(None)


def _mux_interleaved(out, video_packets: Iterable[av.Packet], audio_packets: list[av.Packet]) -> None:
    """Mux both streams in time order, so players need not jump around the file."""
    pending = deque(audio_packets)
    for packet in video_packets:
        while pending and _packet_time(pending[0]) <= _packet_time(packet):
            out.mux(pending.popleft())
        out.mux(packet)
    out.mux(list(pending))


def _packet_time(packet: av.Packet) -> float:
    """Decode time of a packet in seconds."""
    ts = packet.dts if packet.dts is not None else packet.pts
    if ts is None:
        return 0.0
    return ts * packet.time_base.numerator / packet.time_base.denominator


# --- argument checks ---------------------------------------------------------


def _checked_frames(path: Path, frames: np.ndarray) -> np.ndarray:
    """frames as a contiguous (T, H, W, 3) uint8 array; MediaError otherwise."""
    array = np.asarray(frames)
    if array.ndim != 4 or array.shape[-1] != 3 or 0 in array.shape:
        raise MediaError(f"{path}: frames must be a non-empty (T, H, W, 3) array, got {array.shape}")
    if array.dtype != np.uint8:
        raise MediaError(f"{path}: frames must be uint8, got {array.dtype}")
    return np.ascontiguousarray(array)


def _checked_rate(path: Path, fps: float) -> Fraction:
    """fps as a Fraction (float(30000/1001) gives 30000/1001 back); MediaError unless positive, finite."""
    if not (math.isfinite(fps) and fps > 0):
        raise MediaError(f"{path}: fps must be positive and finite, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def _checked_audio(path: Path, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """audio as a finite 1-D float32 array; MediaError otherwise."""
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim == 2 and 1 in samples.shape:
        samples = samples.reshape(-1)
    if samples.ndim != 1:
        raise MediaError(f"{path}: audio must be mono (N,), got {samples.shape}")
    if not np.isfinite(samples).all():
        raise MediaError(f"{path}: audio has NaN or infinite samples")
    if sample_rate <= 0:
        raise MediaError(f"{path}: sample_rate must be positive, got {sample_rate}")
    return samples
