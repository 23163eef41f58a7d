"""AVST says when it cannot tell: the self-check on known shifts, the calibrated threshold, real clips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import select

from annotation_db.import_clips import import_clips
from annotation_db.models import Proposal
from annotation_db.projects import get_project
from core.avst.dataset import read_sync_set
from core.avst.predictor import AVSTPredictor
from core.avst.selfcheck import calibrate
from core.media import read_audio, read_frames, write_clip
from core.samples import GRADIO_MEDIA, SampleUnavailable, fetch
from core.synthetic.sync import generate_sync
from training.cli import main
from training.family import bundled_checkpoint


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return generate_sync(clips=14, seed=77, out=tmp_path_factory.mktemp("sync"), min_duration=4.0,
                         max_duration=6.0, size=64)


@pytest.fixture(scope="module")
def predictor():
    return AVSTPredictor.from_checkpoint(bundled_checkpoint("avst-demo"), "cpu")


def test_the_threshold_is_the_largest_uncertainty_with_enough_clips_right():
    rows = [{"uncertainty": u, "recovered": r} for u, r in
            [(0.0, True), (0.01, True), (0.02, True), (0.05, True), (0.1, True), (0.2, True), (0.5, False),
             (0.9, False), (0.95, True), (0.99, False)]]
    assert calibrate(rows).max_uncertainty == 0.2
    assert calibrate([{"uncertainty": 0.5, "recovered": False}] * 8).max_uncertainty is None


def test_evident_clips_pass_the_self_check_and_ambient_ones_do_not(clips, predictor):
    entries = read_sync_set(clips)
    check = predictor.self_check([predictor.load(e.path) for e in entries], [e.speech for e in entries])
    threshold = check.calibration.max_uncertainty
    assert threshold is not None
    by_category = {e.key: e.category for e in entries}
    sure = {row["clip"] for row in check.per_clip if row["uncertainty"] <= threshold}
    assert sure and all(by_category[key] != "uniform_ambient" for key in sure)
    assert check.confident_recovered >= 0.9


def test_project_proposals_carry_confidence(session, clips):
    import_clips(session, "sync", "sync", clips / "clips", clips / "labels.csv")
    session.commit()
    assert main(["predict", "avst", "--project", "sync"]) == 0
    session.expire_all()
    proposals = session.exec(select(Proposal)).all()
    assert len(proposals) == 14
    assert all(isinstance(p.payload["confident"], bool) and p.payload["calibration"] for p in proposals)
    assert any(p.payload["confident"] for p in proposals) and not all(p.payload["confident"] for p in proposals)
    assert get_project(session, "sync").id


def test_a_30_fps_44k_1080p_clip_decodes_and_predicts(clips, tmp_path, capsys):
    source = sorted((clips / "clips").iterdir())[0]
    frames, _ = read_frames(source, fps=30, size=(1920, 1080))
    audio = read_audio(source, 44100, 0.0, len(frames) / 30)
    big = write_clip(tmp_path / "big.mp4", frames, 30, audio.astype(np.float32), sample_rate=44100)
    capsys.readouterr()
    assert main(["predict", "avst", "--clip", str(big), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result["confident"], bool) and -15 <= result["model_offset_frames"] <= 15
    assert (result["offset_frames"] is None) == (not result["confident"])


@pytest.mark.slow
def test_real_clips_without_audio_visual_evidence_are_not_confident(tmp_path, capsys):
    try:
        root = fetch(GRADIO_MEDIA, tmp_path / "samples")
    except SampleUnavailable as error:
        pytest.skip(f"the real clips could not be fetched: {error}")
    for name in ("a", "b", "world"):
        capsys.readouterr()
        assert main(["predict", "avst", "--clip", str(root / f"gradio/media_assets/videos/{name}.mp4"), "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["confident"] is False and result["offset_frames"] is None, (name, result["sync_score"])
