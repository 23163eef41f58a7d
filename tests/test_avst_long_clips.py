"""AVST on any clip: frames of any aspect letterboxed, long clips scored window by window with a curve along them."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch

from core.avst.audio import LogSpectrogram
from core.avst.builder import build_avst
from core.avst.config import HOP, INPUT_STRIDE, MAX_FRAMES, VIDEO_FPS, get_config
from core.avst.dataset import SPECTROGRAM_PIECE, SyncEntry, inner_length, load_clip, log_spectrogram
from core.avst.evaluation import OFFSETS
from core.avst.predictor import CURVE_WINDOW, AVSTPredictor
from core.framing import Letterbox
from core.media import read_frames, write_clip
from core.synthetic.sync import SAMPLE_RATE, make_clip
from training.family import bundled_checkpoint

SIZE = 64  # the bundled avst-demo's image size
LONG_S = 14.0  # over 9 s: more than one scoring window


def _pattern(count: int, width: int, height: int) -> np.ndarray:
    """Frames no darker than 60 (so the black bars stand out) with a bright column moving right."""
    frames = np.full((count, height, width, 3), 60, dtype=np.uint8)
    frames[..., 0] = np.linspace(60, 250, width, dtype=np.uint8)  # red ramp from left to right
    for index in range(count):
        frames[index, :, (4 * index) % width, 1] = 250
    return frames


def _entry(path) -> SyncEntry:
    return SyncEntry(key=path.stem, path=path)


@pytest.fixture(scope="module")
def spectrogram():
    return LogSpectrogram(40)


@pytest.fixture(scope="module")
def predictor():
    return AVSTPredictor.from_checkpoint(bundled_checkpoint("avst-demo"), "cpu")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """A 14 s generated clip with sharp audio-visual events, 64 x 64 px at 25 fps."""
    clip = make_clip(np.random.default_rng(5), "evident", round(LONG_S * VIDEO_FPS), SIZE)
    return write_clip(tmp_path_factory.mktemp("long") / "long.mp4", clip.frames, VIDEO_FPS, clip.audio,
                      SAMPLE_RATE)


# ---- letterboxing in load_clip ----


@pytest.mark.parametrize("width,height", [(96, 54), (54, 96)])
def test_load_clip_letterboxes_other_aspects(tmp_path, spectrogram, width, height):
    path = write_clip(tmp_path / "wide.mp4", _pattern(50, width, height), VIDEO_FPS,
                      np.zeros(2 * SAMPLE_RATE, dtype=np.float32), SAMPLE_RATE)
    clip = load_clip(_entry(path), SIZE, spectrogram)
    box = Letterbox(width, height, SIZE)
    (inner_width, inner_height), (left, top) = box.inner, box.offset
    frames = clip.frames.numpy()
    assert frames.shape == (50, SIZE, SIZE, 3)
    # the picture where the letterbox puts it, scaled at one scale ...
    picture = frames[:, top: top + inner_height, left: left + inner_width]
    np.testing.assert_array_equal(picture, read_frames(path, fps=VIDEO_FPS, size=box.inner)[0])
    assert picture.mean(axis=(0, 2, 3)).min() > 40 and picture.mean(axis=(0, 1, 3)).min() > 40  # no black edge
    # ... and black bars on the short side
    bars = np.ones((SIZE, SIZE), dtype=bool)
    bars[top: top + inner_height, left: left + inner_width] = False
    assert bars.sum() > 0 and not frames[:, bars].any()
    # the red ramp still runs across the whole picture: nothing cropped
    ramp = np.median(picture[:, inner_height // 2, :, 0], axis=0)
    assert ramp[0] < 80 and ramp[-1] > 230


@pytest.mark.parametrize("side", [64, 96])
def test_load_clip_of_a_square_clip_is_a_plain_resize_as_before(tmp_path, spectrogram, side):
    path = write_clip(tmp_path / "square.mp4", _pattern(40, side, side), VIDEO_FPS,
                      np.zeros(2 * SAMPLE_RATE, dtype=np.float32), SAMPLE_RATE)
    clip = load_clip(_entry(path), SIZE, spectrogram)
    before, _ = read_frames(path, fps=VIDEO_FPS, size=(SIZE, SIZE))  # what load_clip decoded before
    np.testing.assert_array_equal(clip.frames.numpy(), before)


# ---- long clips ----


@pytest.mark.parametrize("seconds", [7.3, 130.0])
def test_the_spectrogram_of_a_long_clip_is_made_in_pieces_with_the_same_columns(spectrogram, seconds):
    waveform = (np.random.default_rng(1).standard_normal(round(seconds * SAMPLE_RATE) + 13) * 0.1).astype(np.float32)
    with torch.no_grad():
        whole = spectrogram(torch.from_numpy(waveform))
    pieces = log_spectrogram(spectrogram, waveform)
    assert pieces.shape == whole.shape == (40, len(waveform) // HOP)
    if seconds * SAMPLE_RATE <= SPECTROGRAM_PIECE:
        assert torch.equal(pieces, whole)  # one piece: the very call load_clip made before
    torch.testing.assert_close(pieces, whole, rtol=0, atol=1e-4)



def test_a_long_clip_gets_one_curve_point_per_window_across_it(long_clip, predictor):
    clip = predictor.load(long_clip)
    prediction = predictor.predict_clip(clip)
    length = inner_length(clip)
    assert length == MAX_FRAMES
    # windows every 3 s and one that ends with the inner span (15 frames kept free at both ends)
    last = clip.n_frames - 15 - INPUT_STRIDE * length
    starts = sorted(set(range(15, last + 1, INPUT_STRIDE * MAX_FRAMES // 2)) | {last})
    assert len(starts) > 1
    window_scores = np.stack([predictor.offset_scores(clip, s, length) for s in starts])
    np.testing.assert_allclose([prediction.scores[int(o)] for o in OFFSETS], window_scores.mean(0), atol=1e-5)
    best = int(np.argmax(window_scores.mean(0)))
    assert prediction.offset_frames == int(OFFSETS[best])
    # one point per window: its centre in seconds, the clip's best offset's probability in it
    times = [t for t, _ in prediction.curve]
    assert times == [round((s + INPUT_STRIDE * length / 2) / VIDEO_FPS, 3) for s in starts]
    assert times[0] < 4.0 and times[-1] > LONG_S - 4.0
    window_probabilities = torch.softmax(torch.from_numpy(window_scores), 1)[:, best].numpy()
    np.testing.assert_allclose([p for _, p in prediction.curve], window_probabilities, atol=1e-5)


def test_a_clip_of_one_window_keeps_the_fine_curve(tmp_path, predictor):
    clip_arrays = make_clip(np.random.default_rng(6), "evident", 5 * VIDEO_FPS, SIZE)
    path = write_clip(tmp_path / "short.mp4", clip_arrays.frames, VIDEO_FPS, clip_arrays.audio, SAMPLE_RATE)
    clip = predictor.load(path)
    prediction = predictor.predict_clip(clip)
    assert len(prediction.curve) == inner_length(clip) - CURVE_WINDOW + 1
    times = [t for t, _ in prediction.curve]
    assert times == sorted(times) and 0 < times[0] and times[-1] < 5.0
    assert np.diff(times) == pytest.approx(INPUT_STRIDE / VIDEO_FPS)
    assert predictor.predict_clip(clip, curve=False).curve == []


def test_long_clips_are_scored_window_by_window_and_dec_still_gives_attention(long_clip):
    """Only the first window's features outlive their window (the attention and fine curve use them)."""
    config = get_config("tiny", variant="dec", image_size=32, visual_widths=(8, 8, 16, 16),
                        audio_widths=(8, 8, 16, 16, 16), n_mels=16, width=16, heads=2, ffn=32, layers=2)
    torch.manual_seed(0)
    predictor = AVSTPredictor(build_avst(config), config, "test", "cpu")
    clip = predictor.load(long_clip)
    features, alive = predictor._features, []
    made: list[weakref.ref] = []

    def counting(*args, **kwargs):
        alive.append(sum(ref() is not None for ref in made))
        visual, audio = features(*args, **kwargs)
        made.append(weakref.ref(visual))
        return visual, audio

    predictor._features = counting
    prediction = predictor.predict_clip(clip)
    assert len(alive) == len(prediction.curve) > 2 and max(alive) <= 2
    assert prediction.attention.shape == (MAX_FRAMES, config.grid, config.grid)
