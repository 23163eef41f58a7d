"""Tests of core.media on tiny clips whose frames and sounds say where they are."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

import core.media
from core.framing import Letterbox
from core.media import (
    MediaError,
    centre_time,
    cut_segment,
    probe,
    read_audio,
    read_frame_at,
    read_frames,
    write_clip,
    write_shifted,
)

FPS = 25
SR = 16000
N_FRAMES = 75  # 3 s
WIDTH, HEIGHT = 64, 48
CLICKS = np.array([0.5, 1.3, 2.1])  # seconds; 0.8 s apart, so shifts of 0.4 s keep them apart
MS = 1e-3
FFMPEG = "/usr/bin/ffmpeg"


def indexed_frames(count: int = N_FRAMES, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Flat frames whose red and green levels spell the frame index in base 16, steps of 12."""
    index = np.arange(count)
    colours = np.stack([20 + 12 * (index % 16), 20 + 12 * (index // 16), np.full(count, 60)], axis=1)
    return np.broadcast_to(colours[:, None, None, :], (count, height, width, 3)).astype(np.uint8)


def frame_indices(frames: np.ndarray) -> np.ndarray:
    """Frame indices read back from the colour of indexed_frames (codec error stays under 6)."""
    red, green = (np.round((frames[..., c].mean(axis=(1, 2)) - 20) / 12).astype(int) for c in (0, 1))
    return red + 16 * green


def clicks(duration: float, sample_rate: int, times: np.ndarray = CLICKS) -> np.ndarray:
    """Silence of duration seconds with one-sample clicks at times."""
    audio = np.zeros(round(duration * sample_rate), dtype=np.float32)
    audio[np.round(times * sample_rate).astype(int)] = 0.9
    return audio


def click_times(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Times of the loudest sample of each burst louder than a third of the peak."""
    loud = np.flatnonzero(np.abs(samples) > np.abs(samples).max() / 3)
    bursts = np.split(loud, np.flatnonzero(np.diff(loud) > sample_rate // 20) + 1)
    return np.array([burst[np.argmax(np.abs(samples[burst]))] for burst in bursts]) / sample_rate


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """3 s, 25 fps, 64x48 indexed frames with 16 kHz clicks at CLICKS."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    return write_clip(path, indexed_frames(), FPS, clicks(N_FRAMES / FPS, SR), SR)


@pytest.fixture(scope="module")
def stereo_44k(tmp_path_factory) -> Path:
    """A 2 s clip with 44.1 kHz stereo AAC clicks at 0.5 and 1.3 s, written with PyAV directly."""
    path = tmp_path_factory.mktemp("media") / "stereo.mp4"
    rate = 44100
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = container.add_stream("aac", rate=rate)
        audio.layout = "stereo"
        for index, image in enumerate(indexed_frames(50)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        mono = clicks(2.0, rate, CLICKS[:2])
        frame = av.AudioFrame.from_ndarray(np.stack([mono, mono]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, 0
        container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


@pytest.fixture(scope="module")
def odd_ffv1(tmp_path_factory) -> Path:
    """A 2 s mkv: 63x47 FFV1 indexed frames, 44.1 kHz PCM of unnamed layout "2 channels", a click at 0.5 s."""
    path = tmp_path_factory.mktemp("media") / "odd.mkv"
    with av.open(str(path), "w") as container:
        video = container.add_stream("ffv1", rate=FPS)
        video.width, video.height, video.pix_fmt = 63, 47, "yuv420p"
        audio = container.add_stream("pcm_s16le", rate=44100)
        for index, image in enumerate(indexed_frames(50, 63, 47)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        mono = (clicks(2.0, 44100, CLICKS[:1]) * 30000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.repeat(mono, 2)[None], format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 44100, 0
        container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


def video_codec(path: Path) -> str:
    """Name of the video codec of a media file."""
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.name


# --- probe -------------------------------------------------------------------


def test_probe_reports_stream_facts(clip):
    info = probe(clip)
    assert info.duration == pytest.approx(3.0)
    assert (info.fps, info.sample_rate) == (25.0, SR)
    assert (info.width, info.height) == (WIDTH, HEIGHT)
    assert info.has_audio and info.has_video
    assert centre_time(info) == centre_time(clip) == pytest.approx(1.5)


def test_probe_rejects_garbage_naming_the_file(tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(MediaError, match="garbage.mp4"):
        probe(garbage)


def test_probe_rejects_truncated_file(clip, tmp_path):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(MediaError, match="truncated.mp4"):
        probe(truncated)


def test_probe_rejects_missing_file(tmp_path):
    with pytest.raises(MediaError, match="absent.mp4"):
        probe(tmp_path / "absent.mp4")


# --- frames ------------------------------------------------------------------


def test_read_frames_at_native_rate(clip):
    frames, times = read_frames(clip)
    assert frames.shape == (N_FRAMES, HEIGHT, WIDTH, 3) and frames.dtype == np.uint8
    np.testing.assert_allclose(times, np.arange(N_FRAMES) / FPS, atol=1e-9)
    np.testing.assert_array_equal(frame_indices(frames), np.arange(N_FRAMES))


def test_read_frames_resampled_to_5_fps(clip):
    frames, times = read_frames(clip, fps=5)
    np.testing.assert_allclose(times, np.arange(15) / 5, atol=1e-9)
    np.testing.assert_array_equal(frame_indices(frames), np.arange(15) * 5)


def test_read_frames_upsampled_repeats_nearest(clip):
    frames, times = read_frames(clip, fps=50, start=1.0, end=1.2)
    np.testing.assert_allclose(times, 1.0 + np.arange(10) / 50, atol=1e-9)
    # Grid points halfway between two frames take the later one.
    np.testing.assert_array_equal(frame_indices(frames), 25 + (np.arange(10) + 1) // 2)


# Starts on, just before and between keyframes (x264 puts one at least every second).
@pytest.mark.parametrize("start", [0.6, 0.64, 0.96, 1.0, 1.52, 2.4])
def test_read_frames_after_seek(clip, start):
    frames, times = read_frames(clip, start=start, end=start + 0.4)
    first = round(start * FPS)
    np.testing.assert_array_equal(frame_indices(frames), np.arange(first, first + 10))
    np.testing.assert_allclose(times, np.arange(first, first + 10) / FPS, atol=1e-9)


def test_read_frames_window_equals_slice_of_whole_read(clip):
    whole, _ = read_frames(clip)
    window, _ = read_frames(clip, start=1.52, end=2.4)
    np.testing.assert_array_equal(window, whole[38:60])


def test_read_frames_resampled_window(clip):
    frames, times = read_frames(clip, fps=5, start=1.2, end=2.2)
    np.testing.assert_allclose(times, [1.2, 1.4, 1.6, 1.8, 2.0], atol=1e-9)
    np.testing.assert_array_equal(frame_indices(frames), [30, 35, 40, 45, 50])


def test_read_frames_resizes_to_width_height(clip):
    frames, _ = read_frames(clip, fps=5, size=(32, 24))
    assert frames.shape == (15, 24, 32, 3)
    np.testing.assert_array_equal(frame_indices(frames), np.arange(15) * 5)


def test_read_frames_empty_window(clip):
    frames, times = read_frames(clip, start=5.0, end=6.0)
    assert frames.shape == (0, HEIGHT, WIDTH, 3) and times.shape == (0,)


def test_read_frame_at_picks_nearest_frame(clip):
    assert frame_indices(read_frame_at(clip, 1.49)[None])[0] == 37
    assert frame_indices(read_frame_at(clip, 1.51)[None])[0] == 38
    assert frame_indices(read_frame_at(clip, 0.0)[None])[0] == 0
    assert frame_indices(read_frame_at(clip, 99.0)[None])[0] == N_FRAMES - 1
    assert read_frame_at(clip, centre_time(clip), size=(16, 8)).shape == (8, 16, 3)


def test_read_frames_upsampled_whole_clip_is_the_nearest_native_frames(clip):
    whole, _ = read_frames(clip)
    frames, _ = read_frames(clip, fps=45)  # k / 45 s is never halfway between two frames at 25 fps
    np.testing.assert_array_equal(frames, whole[np.rint(np.arange(135) * 25 / 45).astype(int)])


@pytest.mark.parametrize("fps", [None, 5, 25, 50])
def test_read_frames_converts_each_frame_as_it_is_decoded(clip, monkeypatch, fps):
    """No decoded frame outlives the next two: memory is bounded by the small output, not by the clip.

    (Counted over the first half of the clip: at its end the decoder hands out the frames its
    threads still hold in one list.)
    """
    decoded, held = [object()], []  # the object is referenced by the list alone: the baseline count
    timed = core.media._timed

    def spying(container, stream):
        for t, frame in timed(container, stream):
            counts = [sys.getrefcount(earlier) for earlier in decoded]
            held.append(sum(count > counts[0] for count in counts[1:]))  # frames read_frames still holds
            decoded.append(frame)
            yield t, frame

    monkeypatch.setattr(core.media, "_timed", spying)
    frames, _ = read_frames(clip, fps=fps, size=(32, 24))
    monkeypatch.undo()
    assert len(held) > N_FRAMES // 2 and max(held[: N_FRAMES // 2]) <= 2
    np.testing.assert_array_equal(frames, read_frames(clip, fps=fps, size=(32, 24))[0])


def test_read_frames_square_letterboxes_the_frame(clip):
    box = Letterbox(WIDTH, HEIGHT, 32)  # 64x48 -> 32x24 picture, bars of 4 px above and below
    frames, times = read_frames(clip, fps=5, square=32)
    scaled, scaled_times = read_frames(clip, fps=5, size=box.inner)
    assert frames.shape == (15, 32, 32, 3) and box.inner == (32, 24) and box.offset == (0, 4)
    np.testing.assert_array_equal(frames, box.place(scaled))
    np.testing.assert_array_equal(times, scaled_times)
    assert not frames[:, :4].any() and not frames[:, 28:].any()
    np.testing.assert_array_equal(frame_indices(frames[:, 4:28]), np.arange(15) * 5)
    np.testing.assert_array_equal(read_frame_at(clip, 1.0, square=32), frames[5])
    native, _ = read_frames(clip, square=16)
    assert native.shape == (N_FRAMES, 16, 16, 3)


def test_read_frames_square_of_a_square_clip_is_a_plain_resize(tmp_path):
    square = write_clip(tmp_path / "square.mp4", indexed_frames(25, 48, 48), FPS)
    np.testing.assert_array_equal(read_frames(square, fps=25, square=32)[0],
                                  read_frames(square, fps=25, size=(32, 32))[0])


def test_read_frames_takes_size_or_square(clip):
    with pytest.raises(MediaError, match="size or square"):
        read_frames(clip, size=(32, 32), square=32)
    with pytest.raises(MediaError, match="square must be positive"):
        read_frame_at(clip, 1.0, square=0)


# --- audio -------------------------------------------------------------------


def test_read_audio_length(clip):
    assert read_audio(clip).shape == (3 * SR,)
    assert read_audio(clip, start=0.25, end=1.0).shape == (12000,)
    assert read_audio(clip, sample_rate=8000, start=0.1, end=0.7).shape == (4800,)


def test_read_audio_pads_past_the_end_with_silence(clip):
    audio = read_audio(clip, start=2.5, end=4.0)
    assert audio.shape == (24000,) and audio.dtype == np.float32
    assert not audio[SR // 2 + 200 :].any()


def test_read_audio_finds_clicks_where_written(clip):
    # AAC's priming samples are dropped through the mp4 edit list, so no codec delay shows.
    np.testing.assert_allclose(click_times(read_audio(clip), SR), CLICKS, atol=1 * MS)


def test_read_audio_compensates_priming_in_mkv_too(tmp_path):
    # Matroska has no edit list: the priming is declared as codec delay instead.
    mkv = write_clip(tmp_path / "clip.mkv", indexed_frames(), FPS, clicks(N_FRAMES / FPS, SR), SR)
    np.testing.assert_allclose(click_times(read_audio(mkv), SR), CLICKS, atol=1 * MS)


def test_read_audio_window_after_seek(clip):
    audio = read_audio(clip, start=1.0, end=2.5)
    np.testing.assert_allclose(click_times(audio, SR), CLICKS[1:] - 1.0, atol=1 * MS)


def test_read_audio_resamples_44k_stereo_to_16k_mono(stereo_44k):
    audio = read_audio(stereo_44k, sample_rate=SR)
    assert audio.shape == (2 * SR,) and audio.dtype == np.float32
    np.testing.assert_allclose(click_times(audio, SR), CLICKS[:2], atol=2 * MS)
    window = read_audio(stereo_44k, sample_rate=SR, start=1.2, end=1.8)
    assert window.shape == (9600,)
    np.testing.assert_allclose(click_times(window, SR), [CLICKS[1] - 1.2], atol=2 * MS)


@pytest.mark.parametrize("rate", [16000, 22050])
def test_read_audio_window_equals_slice_of_whole_read(stereo_44k, rate):
    whole = read_audio(stereo_44k, sample_rate=rate)
    for start, end in [(0.31, 1.47), (1.2, 1.8)]:
        window = read_audio(stereo_44k, sample_rate=rate, start=start, end=end)
        first = round(start * rate)
        np.testing.assert_array_equal(window, whole[first : first + len(window)])


def test_read_audio_from_packed_pcm_wav(tmp_path):
    wav = tmp_path / "clicks.wav"
    mono = clicks(2.0, 44100, CLICKS[:2])
    soundfile.write(wav, np.stack([mono, mono], axis=1), 44100, subtype="PCM_16")
    whole = read_audio(wav)
    assert whole.shape == (2 * SR,)
    np.testing.assert_allclose(click_times(whole, SR), CLICKS[:2], atol=0.1 * MS)
    window = read_audio(wav, start=0.77, end=1.9)
    first = round(0.77 * SR)
    np.testing.assert_array_equal(window, whole[first : first + len(window)])


def test_read_audio_holds_little_beyond_its_output(tmp_path):
    """Resampled chunks go straight into the output: a long clip's audio is not held twice over."""
    wav = tmp_path / "noise.wav"
    noise = np.random.default_rng(0).standard_normal(30 * 44100).astype(np.float32) * 0.1
    soundfile.write(wav, np.stack([noise, noise], axis=1), 44100, subtype="PCM_16")
    tracemalloc.start()
    try:
        samples = read_audio(wav, SR)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert samples.shape == (30 * SR,) and peak < 1.5 * samples.nbytes


def test_read_audio_without_audio_stream_names_the_file(tmp_path):
    silent = write_clip(tmp_path / "silent.mp4", indexed_frames(10), FPS)
    with pytest.raises(MediaError, match="silent.mp4.*no audio"):
        read_audio(silent)


# --- cut_segment -------------------------------------------------------------


def test_cut_segment_is_exact_to_frame_and_sample(clip, tmp_path):
    cut = cut_segment(clip, tmp_path / "cut.mp4", 1.0, 2.2)
    assert probe(cut).duration == pytest.approx(1.2)
    frames, times = read_frames(cut)
    np.testing.assert_array_equal(frame_indices(frames), np.arange(25, 55))
    np.testing.assert_allclose(times, np.arange(30) / FPS, atol=1e-9)
    audio = read_audio(cut, sample_rate=SR)
    assert audio.shape == (round(1.2 * SR),)
    np.testing.assert_allclose(click_times(audio, SR), CLICKS[1:] - 1.0, atol=2 * MS)


def test_cut_segment_between_frames_starts_on_next_frame(clip, tmp_path):
    cut = cut_segment(clip, tmp_path / "cut.mp4", 1.01, 1.65)
    frames, _ = read_frames(cut)
    np.testing.assert_array_equal(frame_indices(frames), np.arange(26, 42))
    # The audio starts with the first frame (1.04 s), keeping sync.
    np.testing.assert_allclose(click_times(read_audio(cut), SR), CLICKS[1:2] - 1.04, atol=2 * MS)


def test_cut_segment_clamps_to_the_clip(clip, tmp_path):
    cut = cut_segment(clip, tmp_path / "cut.mp4", -1.0, 10.0)
    assert probe(cut).duration == pytest.approx(3.0)
    np.testing.assert_array_equal(frame_indices(read_frames(cut)[0]), np.arange(N_FRAMES))


def test_cut_segment_of_odd_sized_ffv1_pcm_source(odd_ffv1, tmp_path):
    cut = cut_segment(odd_ffv1, tmp_path / "cut.mp4", 0.2, 1.0)
    info = probe(cut)
    assert (info.width, info.height, info.sample_rate) == (64, 48, 44100)
    assert video_codec(cut) == "h264"
    np.testing.assert_array_equal(frame_indices(read_frames(cut)[0]), np.arange(5, 25))
    np.testing.assert_allclose(click_times(read_audio(cut), SR), CLICKS[:1] - 0.2, atol=2 * MS)


def test_cut_segment_outside_the_clip_is_an_error(clip, tmp_path):
    with pytest.raises(MediaError, match="clip.mp4"):
        cut_segment(clip, tmp_path / "cut.mp4", 5.0, 6.0)
    assert not list(tmp_path.iterdir())


def test_cut_segment_of_video_only_clip(tmp_path):
    silent = write_clip(tmp_path / "silent.mp4", indexed_frames(20), FPS)
    cut = cut_segment(silent, tmp_path / "cut.mp4", 0.2, 0.6)
    assert not probe(cut).has_audio
    np.testing.assert_array_equal(frame_indices(read_frames(cut)[0]), np.arange(5, 15))


# --- write_shifted -----------------------------------------------------------


@pytest.mark.parametrize("offset", [10, 3, -3, -10])
def test_write_shifted_moves_audio_by_offset_frames(clip, tmp_path, offset):
    shifted = write_shifted(clip, tmp_path / "shifted.mp4", offset, fps=FPS)
    original = click_times(read_audio(clip), SR)
    moved = original + offset / FPS
    kept = (moved >= 0) & (moved < 3.0)
    np.testing.assert_allclose(click_times(read_audio(shifted), SR), moved[kept], atol=2 * MS)
    assert probe(shifted).duration == pytest.approx(3.0)
    # The whole clip's video is stream-copied: the very same decoded frames.
    np.testing.assert_array_equal(read_frames(shifted)[0], read_frames(clip)[0])


def test_write_shifted_pads_with_silence(clip, tmp_path):
    audio = read_audio(write_shifted(clip, tmp_path / "late.mp4", 15, fps=FPS))
    assert audio.shape == (3 * SR,)
    assert np.abs(audio[: round(0.6 * SR) - 200]).max() < 1e-3


def test_write_shifted_window(clip, tmp_path):
    shifted = write_shifted(clip, tmp_path / "shifted.mp4", 3, fps=FPS, start=0.4, end=2.4)
    frames, _ = read_frames(shifted)
    np.testing.assert_array_equal(frame_indices(frames), np.arange(10, 60))
    audio = read_audio(shifted)
    assert audio.shape == (2 * SR,)
    np.testing.assert_allclose(click_times(audio, SR), CLICKS - 0.4 + 3 / FPS, atol=2 * MS)


def test_write_shifted_re_encodes_video_browsers_cannot_play(odd_ffv1, tmp_path):
    shifted = write_shifted(odd_ffv1, tmp_path / "shifted.mp4", 5, fps=FPS)
    assert video_codec(shifted) == "h264"
    np.testing.assert_array_equal(frame_indices(read_frames(shifted)[0]), np.arange(50))
    np.testing.assert_allclose(click_times(read_audio(shifted), SR), CLICKS[:1] + 0.2, atol=2 * MS)


def test_write_shifted_needs_audio(tmp_path):
    silent = write_clip(tmp_path / "silent.mp4", indexed_frames(10), FPS)
    with pytest.raises(MediaError, match="silent.mp4.*no audio"):
        write_shifted(silent, tmp_path / "shifted.mp4", 2)


@pytest.mark.skipif(not Path(FFMPEG).exists(), reason="needs the ffmpeg CLI")
def test_ffmpeg_itsoffset_agrees(clip, tmp_path):
    delayed = tmp_path / "itsoffset.mp4"
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-i", str(clip), "-itsoffset", "0.4", "-i", str(clip),
         "-map", "0:v", "-map", "1:a", "-c", "copy", str(delayed)],
        check=True,
    )  # fmt: skip
    theirs = click_times(read_audio(delayed, end=3.0), SR)
    np.testing.assert_allclose(theirs, CLICKS + 0.4, atol=2 * MS)
    ours = click_times(read_audio(write_shifted(clip, tmp_path / "ours.mp4", 10, fps=FPS)), SR)
    np.testing.assert_allclose(ours, theirs, atol=2 * MS)


# --- write_clip --------------------------------------------------------------


def test_write_clip_pads_odd_sizes(tmp_path):
    frames = np.zeros((5, 47, 63, 3), dtype=np.uint8)
    frames[:, :, -1] = 200  # the last column is replicated into the padding
    path = write_clip(tmp_path / "odd.mp4", frames, FPS)
    assert (probe(path).width, probe(path).height) == (64, 48)
    image = read_frame_at(path, 0.0)
    assert image[:47, :62].max() < 30 and image[:, 63].min() > 170


@pytest.mark.parametrize(
    ("frames", "fps", "message"),
    [
        (np.zeros((5, 8, 8, 3), dtype=np.float32), FPS, "uint8"),
        (np.zeros((8, 8, 3), dtype=np.uint8), FPS, "T, H, W, 3"),
        (np.zeros((0, 8, 8, 3), dtype=np.uint8), FPS, "non-empty"),
        (np.zeros((5, 8, 8, 3), dtype=np.uint8), 0, "fps"),
    ],
)
def test_write_clip_rejects_bad_input(tmp_path, frames, fps, message):
    with pytest.raises(MediaError, match=message):
        write_clip(tmp_path / "bad.mp4", frames, fps)


def test_write_clip_rejects_bad_audio(tmp_path):
    with pytest.raises(MediaError, match="mono"):
        write_clip(tmp_path / "bad.mp4", indexed_frames(5), FPS, np.zeros((2, 3200)))
    with pytest.raises(MediaError, match="NaN"):
        write_clip(tmp_path / "bad.mp4", indexed_frames(5), FPS, np.full(3200, np.nan))


def test_write_clip_failure_leaves_no_file(tmp_path):
    # WebM takes no H.264, so the muxer refuses; nothing half-written may remain.
    with pytest.raises(MediaError, match="bad.webm"):
        write_clip(tmp_path / "bad.webm", indexed_frames(5), FPS)
    assert not list(tmp_path.iterdir())


def test_written_clip_is_interleaved(clip):
    with av.open(str(clip)) as container:
        placed = sorted((packet.pos, packet.stream.type) for packet in container.demux() if packet.size)
    kinds = [kind for _, kind in placed]
    # Audio and video alternate through the file rather than coming in two blocks.
    assert sum(a != b for a, b in zip(kinds, kinds[1:])) > 20
