"""AVST spectrogram, encoders and the three variants: shapes and padding masks with variable lengths."""

from __future__ import annotations

import pytest
import torch

from core.avst.audio import LogSpectrogram
from core.avst.builder import build_avst
from core.avst.config import SAMPLE_RATE, VARIANTS, get_config, spec_columns

SMALL = dict(image_size=32, visual_widths=(8, 8, 16, 16), audio_widths=(8, 8, 16, 16, 16), n_mels=16,
             width=16, heads=2, ffn=32, layers=2)


def _model(variant: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_avst(get_config("tiny", variant=variant, **SMALL)).eval()


def test_spectrogram_has_one_column_per_hop_of_40_samples():
    spec = LogSpectrogram(16)(torch.randn(SAMPLE_RATE))  # one second
    assert spec.shape == (16, 400)  # 16 kHz / hop 40


def test_encoders_give_c_t_h_w_and_c_t():
    model = _model("dec")
    frames, spec = torch.randn(2, 3, 7, 32, 32), torch.randn(2, 16, spec_columns(7))
    assert model.visual(frames).shape == (2, 16, 7, 2, 2)  # c x t_v x h x w, h = w = 32 / 16
    assert model.audio(spec).shape == (2, 16, 7)  # c x t_a, one audio token per input frame


@pytest.mark.parametrize("variant,tokens_per_frame", [("enc", 4), ("enc-mp", 1), ("dec", 4)])
def test_visual_tokens_per_variant(variant, tokens_per_frame):
    model = _model(variant)
    vis, pad = model.visual_tokens(torch.randn(2, 3, 6, 32, 32), torch.tensor([6, 3]))
    assert vis.shape == (2, 6 * tokens_per_frame, 16)
    assert pad[0].sum() == 0 and pad[1].sum() == 3 * tokens_per_frame


@pytest.mark.parametrize("variant", VARIANTS)
def test_padding_does_not_change_the_score(variant):
    """A 5-frame pair scores the same alone and padded to 9 frames inside a batch (encoders see no padding)."""
    model = _model(variant)
    frames, spec = torch.randn(1, 3, 5, 32, 32), torch.randn(1, 16, spec_columns(5))
    with torch.no_grad():
        v, a = model.visual(frames), model.audio(spec)
        alone = model.fuse(*model.embed_visual(v, torch.tensor([5])), *model.embed_audio(a, torch.tensor([5])))[0]
        padded_v = torch.cat([v, torch.randn(1, 16, 4, 2, 2) * 50], dim=2)  # garbage in the padding
        padded_a = torch.cat([a, torch.randn(1, 16, 4) * 50], dim=2)
        lengths = torch.tensor([5])
        padded = model.fuse(*model.embed_visual(padded_v, lengths), *model.embed_audio(padded_a, lengths))[0]
    assert torch.allclose(alone, padded, atol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_variable_lengths_5_to_30_frames(variant):
    model = _model(variant)
    lengths = torch.tensor([5, 30, 17])
    frames, spec = torch.randn(3, 3, 30, 32, 32), torch.randn(3, 16, spec_columns(30))
    with torch.no_grad():
        scores = model(frames, spec, lengths)
        vis, vis_pad = model.visual_tokens(frames, lengths)
        aud, aud_pad = model.audio_tokens(spec, lengths)
        matrix = model.score_matrix(vis, vis_pad, aud, aud_pad)
    assert scores.shape == (3,) and matrix.shape == (3, 3)
    assert torch.allclose(torch.diagonal(matrix), scores, atol=1e-5)


def test_dec_exposes_attention_over_the_frame():
    model = _model("dec")
    lengths = torch.tensor([6, 4])
    vis, vis_pad = model.visual_tokens(torch.randn(2, 3, 6, 32, 32), lengths)
    aud, aud_pad = model.audio_tokens(torch.randn(2, 16, spec_columns(6)), lengths)
    with torch.no_grad():
        _, attention = model.fuse(vis, vis_pad, aud, aud_pad, want_attention=True)
    assert attention.shape == (2, 6 * 4)
    assert torch.allclose(attention.sum(1), torch.ones(2), atol=1e-5)
    assert attention[1, 4 * 4:].abs().max() == 0  # no attention on padded frames


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown AVST variant"):
        get_config("tiny", variant="lstm")


def test_predictor_shares_the_audio_trunk_across_offsets(tmp_path):
    """The fast path (trunk once, then each offset's strided layer) equals encoding each offset's window,
    except for the first and last token, whose receptive field reaches outside a lone window."""
    from core.avst.dataset import audio_window
    from core.avst.evaluation import OFFSETS
    from core.avst.predictor import AVSTPredictor
    from core.synthetic.sync import generate_sync

    config = get_config("tiny", variant="enc-mp", **SMALL)
    torch.manual_seed(0)
    predictor = AVSTPredictor(build_avst(config), config, "test", "cpu")
    data = generate_sync(clips=1, seed=2, out=tmp_path, min_duration=3.0, max_duration=3.0, size=32)
    clip = predictor.load(next((data / "clips").glob("*.mp4")))
    with torch.no_grad():
        _, fast = predictor._features(clip, 10, 8)
        slow = predictor.model.audio(torch.stack([audio_window(clip, 10, int(o), 8) for o in OFFSETS]))
    assert fast.shape == slow.shape == (31, 16, 8)
    assert torch.allclose(fast[..., 1:-1], slow[..., 1:-1], atol=1e-4)
    scores = predictor.offset_scores(clip, 10, 8)
    assert scores.shape == (31,)


def test_training_offset_scores_are_the_predictors(tmp_path):
    """Stage 2 trains the very scores evaluation ranks: model.offset_scores on a span equals the predictor."""
    from core.avst.dataset import offset_span, visual_window
    from core.avst.predictor import AVSTPredictor
    from core.synthetic.sync import generate_sync

    config = get_config("tiny", variant="enc-mp", max_frames=8, **SMALL)
    torch.manual_seed(0)
    predictor = AVSTPredictor(build_avst(config), config, "test", "cpu")
    data = generate_sync(clips=1, seed=2, out=tmp_path, min_duration=3.0, max_duration=3.0, size=32)
    clip = predictor.load(next((data / "clips").glob("*.mp4")))
    with torch.no_grad():
        trained = predictor.model.offset_scores(visual_window(clip, 10, 8)[None], offset_span(clip, 10, 8)[None],
                                                8, 31)
    assert trained.shape == (1, 31)
    assert torch.allclose(trained[0], torch.from_numpy(predictor.offset_scores(clip, 10, 8)), atol=1e-4)


def test_stem_starts_with_still_and_change_filters():
    """Half the 3D stem sees the middle frame; the other half is blind to a still scene but sees a one-frame flash."""
    stem = build_avst(get_config("tiny", variant="enc-mp", **SMALL)).visual.stem[0]
    torch.manual_seed(1)
    still = torch.randn(1, 3, 1, 32, 32).expand(1, 3, 7, 32, 32).clone()
    flash = still.clone()
    flash[:, :, 3] += 1.0
    half = stem.out_channels // 2
    out_still, out_flash = stem(still), stem(flash)
    assert out_still[:, :half].abs().mean() > 0.1
    assert torch.allclose(out_still[:, half:, 1:-1], torch.zeros(()), atol=1e-5)  # frames with both neighbours
    assert out_flash[:, half:, 3].abs().mean() > 0.1
