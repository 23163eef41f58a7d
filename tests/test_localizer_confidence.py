"""The localizer says when it is unsure and takes clips of any aspect: audio specificity, the self-check
on side-by-side frames, the calibrated threshold, boxes in fractions of the full frame, real clips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import select

from annotation_db.import_clips import import_clips
from annotation_db.models import Proposal
from core.framing import Letterbox
from core.localizer.boxes import ScoredBox
from core.localizer.dataset import load_clip_set
from core.localizer.predictor import LocalizerPredictor, frame_boxes
from core.localizer.selfcheck import (ConfidenceThreshold, calibrate, heavier_side, side_by_side, specificity,
                                      uncertainty_of)
from core.media import read_audio, read_frames, write_clip
from core.samples import GRADIO_MEDIA, SampleUnavailable, fetch
from core.synthetic.localization import generate_localization
from training.cli import main
from training.family import bundled_checkpoint

CLIP_KEYS = {"clip", "model_version", "heatmap_size", "frame_size", "boxes", "model_boxes", "confident",
             "specificity", "calibration"}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return generate_localization(clips=16, seed=41, out=tmp_path_factory.mktemp("loc"), duration=3.0, size=128)


@pytest.fixture(scope="module")
def predictor():
    return LocalizerPredictor.from_checkpoint(bundled_checkpoint("localizer-demo"), "cpu")


@pytest.fixture(scope="module")
def clip_set(clips, predictor):
    return load_clip_set(clips, predictor.config.network.image_size, predictor.config.audio, cache=False)


def test_the_threshold_is_the_largest_uncertainty_with_enough_clips_passing():
    rows = [{"uncertainty": u, "recovered": r} for u, r in
            [(0.0, True), (0.1, True), (0.2, True), (0.3, True), (0.4, True), (0.5, True), (0.6, False),
             (0.7, False), (0.8, True), (1.0, True), (1.0, True), (1.0, True)]]
    calibration = calibrate(rows)
    assert calibration.max_uncertainty == 0.5  # 6/6; adding 0.6 gives 6/7 < 0.9; uncertainty 1 never counts
    assert calibrate([{"uncertainty": 1.0, "recovered": True}] * 8).max_uncertainty is None
    assert calibrate([{"uncertainty": 0.2, "recovered": True}] * 4).max_uncertainty is None  # too few clips
    assert ConfidenceThreshold(1.0).confident(0.99) and not ConfidenceThreshold(1.0).confident(1.0)
    assert not ConfidenceThreshold(None).confident(0.0)


def test_specificity_is_how_much_the_own_sound_lifts_the_map_over_sounds_without_a_source():
    own = np.full((4, 4), 0.2, dtype=np.float32)
    own[1:3, 1:3] = 0.8  # the top region
    flat_reference = np.full((2, 4, 4), 0.3, dtype=np.float32)
    assert specificity(own, flat_reference) == pytest.approx(0.5)
    assert specificity(own, np.stack([flat_reference[0], own])) == pytest.approx(0.0)  # silence made the same map
    assert specificity(np.zeros((4, 4)), flat_reference) == 0.0
    assert uncertainty_of(0.5, contrast=0.6) == pytest.approx(0.5)
    assert uncertainty_of(-0.2, contrast=0.6) == 1.0 and uncertainty_of(0.9, contrast=0.01) == 1.0  # flat map


def test_side_by_side_halves_and_which_half_the_map_points_at():
    left, right = np.full((8, 8, 3), 50, np.uint8), np.full((8, 8, 3), 200, np.uint8)
    picture = side_by_side(left, right)
    assert picture.shape == (8, 8, 3)
    assert (picture[:2] == 0).all() and (picture[6:] == 0).all()  # 2:1 letterboxed: bars above and below
    assert (picture[2:6, :4] == 50).all() and (picture[2:6, 4:] == 200).all()
    heat = np.zeros((8, 8), np.float32)
    heat[3, 1] = 1.0
    assert heavier_side(heat) == 0 and heavier_side(heat[:, ::-1]) == 1 and heavier_side(np.zeros((8, 8))) is None


def test_boxes_on_the_bars_are_dropped_and_the_rest_mapped_to_the_full_frame():
    box = Letterbox(1920, 1080, 128)  # picture rows 28..100 of the square
    boxes = [ScoredBox(0.25, 0.25, 0.75, 0.75, 0.9), ScoredBox(0.1, 0.0, 0.5, 0.2, 0.8)]
    [kept] = frame_boxes(boxes, box)
    assert (kept.x1, kept.x2, kept.score) == (0.25, 0.75, 0.9)
    assert kept.y1 == pytest.approx((32 - 28) / 72) and kept.y2 == pytest.approx((96 - 28) / 72)


def test_a_wide_clip_is_letterboxed_and_its_boxes_are_fractions_of_its_frame(clips, predictor, tmp_path):
    source = sorted((clips / "clips").iterdir())[0]
    frames, _ = read_frames(source, fps=25)
    wide = np.zeros((len(frames), 128, 228, 3), np.uint8)
    wide[:, :, 50:178] = frames  # a 228 x 128 frame: the square picture with a margin on each side
    audio = read_audio(source, 16000, 0.0, len(frames) / 25)
    path = write_clip(tmp_path / "wide.mp4", wide, 25, audio, sample_rate=16000)
    inputs = predictor.load(path)
    assert inputs.letterbox.inner == (128, 72) and (inputs.frame[:28] == 0).all() and (inputs.frame[100:] == 0).all()
    result = predictor.localize_file(path)
    square = predictor.localize_arrays(inputs.frame[None], inputs.waveform[None])[0]
    assert result.frame_size == (228, 128) and result.heatmap.shape == (8, 8)
    assert result.boxes == frame_boxes(square.boxes, inputs.letterbox)
    for b in result.boxes:
        assert 0 <= b.x1 < b.x2 <= 1 and 0 <= b.y1 < b.y2 <= 1


def test_people_s_boxes_of_a_wide_clip_are_mapped_into_the_letterboxed_input(clips, tmp_path):
    source = sorted((clips / "clips").iterdir())[0]
    frames, _ = read_frames(source, fps=25)
    wide = np.zeros((len(frames), 128, 228, 3), np.uint8)
    wide[:, :, 50:178] = frames
    (tmp_path / "wide" / "clips").mkdir(parents=True)
    write_clip(tmp_path / "wide" / "clips" / "w.mp4", wide, 25, read_audio(source, 16000, 0.0, len(frames) / 25),
               sample_rate=16000)
    (tmp_path / "wide" / "vggss.json").write_text(json.dumps([{"file": "w", "bbox": [[0.5, 0.0, 1.0, 1.0]]}]))
    loaded = load_clip_set(tmp_path / "wide", 64, LocalizerPredictor.from_checkpoint(
        bundled_checkpoint("localizer-demo"), "cpu").config.audio, require_boxes=True, cache=False)
    # the right half of a 228 x 128 frame is, in a 64 px letterbox, x 0.5..1 and y from the top bar to the bottom one
    (x1, y1, x2, y2), = loaded.annotations[0][0]
    top = Letterbox(228, 128, 64).offset[1] / 64
    assert (x1, x2) == pytest.approx((0.5, 1.0), abs=0.01) and (y1, y2) == pytest.approx((top, 1 - top), abs=0.01)


def test_generated_clips_pass_the_self_check_more_often_than_chance(predictor, clip_set):
    check = predictor.self_check(clip_set.images, clip_set.waveforms, clip_set.keys)
    assert check.clips == 16 and check.trials == 64
    assert check.trials_passed >= 0.65  # chance: 0.5 per trial
    assert check.recovered > 1 / 16  # chance of passing all four trials
    assert check.to_dict()["score"] == check.score and set(check.to_dict()) >= {"calibration", "rank_key"}


def test_cross_maps_hold_every_audio_against_every_frame(predictor, clip_set):
    images, waveforms = clip_set.images[:3], clip_set.waveforms[:3]
    cross = predictor.heatmaps_with_audio(images, waveforms)
    assert cross.shape == (3, 3, 8, 8)
    own = predictor.heatmaps(images, waveforms)
    assert np.allclose(np.stack([cross[i, i] for i in range(3)]), own, atol=1e-5)
    assert np.allclose([r.heatmap for r in predictor.localize_arrays(images, waveforms)], own, atol=1e-5)


def test_a_clip_whose_audio_is_silence_or_noise_is_not_confident(predictor, clip_set):
    rng = np.random.default_rng(5)
    samples = clip_set.waveforms.shape[1]
    brown = np.cumsum(rng.normal(0, 0.01, samples))
    replaced = np.stack([np.zeros(samples), rng.normal(0, 0.05, samples), 0.5 * brown / np.abs(brown).max(),
                         rng.uniform(-0.2, 0.2, samples)]).astype(np.float32)
    frames = clip_set.images[:4]
    results = predictor.localize_arrays(frames, replaced)
    assert results[0].uncertainty == 1.0 and results[0].specificity <= 0  # silence is a reference sound
    card = ConfidenceThreshold.from_dict(json.loads(bundled_checkpoint("localizer-demo").with_suffix(".json")
                                                     .read_text())["calibration"])
    assert card.max_uncertainty is not None
    assert not any(card.confident(r.uncertainty) for r in results), [r.specificity for r in results]
    own = predictor.localize_arrays(clip_set.images, clip_set.waveforms)
    assert np.mean([r.specificity for r in own]) > max(r.specificity for r in results)


def test_project_proposals_carry_confidence(session, clips):
    import_clips(session, "loc", "localization", clips / "clips", clips / "labels.csv")
    session.commit()
    assert main(["predict", "localizer", "--project", "loc"]) == 0
    session.expire_all()
    proposals = session.exec(select(Proposal)).all()
    assert len(proposals) == 16
    for proposal in proposals:
        payload = proposal.payload
        assert isinstance(payload["confident"], bool) and payload["calibration"]["precision"] == 0.9
        assert payload["heatmap_path"] and payload["frame_size"] == [128, 128]
        assert payload["boxes"] == (payload["model_boxes"] if payload["confident"] else [])
        assert 0 <= proposal.uncertainty <= 1
    assert any(p.payload["model_boxes"] for p in proposals)


def test_predict_clip_json_gives_full_frame_boxes_only_when_confident(clips, capsys):
    for source in sorted((clips / "clips").iterdir())[:2]:
        capsys.readouterr()
        assert main(["predict", "localizer", "--clip", str(source), "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert CLIP_KEYS <= set(result)
        assert result["heatmap_size"] == [8, 8] and result["frame_size"] == [128, 128]
        assert result["calibration"]["max_uncertainty"] is not None  # the bundled card's threshold
        assert result["boxes"] == (result["model_boxes"] if result["confident"] else [])


@pytest.mark.slow
def test_real_clips_without_audio_visual_evidence_are_not_confident(tmp_path, capsys):
    try:
        root = fetch(GRADIO_MEDIA, tmp_path / "samples")
    except SampleUnavailable as error:
        pytest.skip(f"the real clips could not be fetched: {error}")
    for name in ("a", "b", "world"):
        capsys.readouterr()
        assert main(["predict", "localizer", "--clip", str(root / f"gradio/media_assets/videos/{name}.mp4"),
                     "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["confident"] is False and result["boxes"] == [], (name, result["specificity"])
        assert result["frame_size"][0] > result["frame_size"][1]  # 16:9, letterboxed


def test_the_family_self_check_of_a_clip_folder_is_json_with_a_score(clips, tmp_path):
    from training.families import get_family

    check = get_family("localizer").self_check
    report = check(bundled_checkpoint("localizer-demo"), clips, {})
    assert json.loads(json.dumps(report)) == report
    assert report["clips"] == 16 and 0 <= report["score"] <= 1 and report["model_version"].startswith("localizer-demo")
    assert check(bundled_checkpoint("localizer-demo"), tmp_path)["score"] == 0.0  # no clips: nothing checked
