"""AVST training data from sync verdicts: positives, clips shifted back into sync, left-out kinds, held-out share."""

from __future__ import annotations

import json
from dataclasses import replace
import shutil

import numpy as np
import pytest
from scipy.signal import correlate
from sqlmodel import select

from annotation_db.import_clips import import_clips
from annotation_db.models import Clip, Role
from annotation_db.projects import get_project
from annotation_db.sync_review import TOLERANCE_NOTE
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.avst.dataset import read_sync_set
from core.config import get_settings
from core.media import read_audio, write_shifted
from core.synthetic.sync import generate_sync
import training.holdout
from training.avst.verdict_data import build_training_set, is_speech
from training.holdout import is_held_out

LATE = 4  # frames the audio of the "late" clips comes after the picture


def _hold_out(monkeypatch, share: float) -> None:
    """Make `share` the held-out share of every project for this test."""
    settings = replace(get_settings(), holdout_share=share)
    monkeypatch.setattr(training.holdout, "get_settings", lambda: settings)


@pytest.fixture
def project(session, tmp_path, monkeypatch):
    """A sync project whose first two evident clips have audio LATE frames late, and a generator truth."""
    _hold_out(monkeypatch, 0.5)
    data = generate_sync(clips=10, seed=21, out=tmp_path / "gen", min_duration=2.0, max_duration=2.2, size=64)
    truth = {row["file"]: row for row in json.loads((data / "sync.json").read_text())}
    media = tmp_path / "media"
    media.mkdir()
    late = [key for key, row in truth.items() if row["category"] == "evident"][:2]
    for key in truth:
        source = data / "clips" / f"{key}.mp4"
        if key in late:
            write_shifted(source, media / f"{key}.mp4", LATE)
        else:
            shutil.copyfile(source, media / f"{key}.mp4")
    import_clips(session, "sync", "sync", media, data / "labels.csv")
    return get_project(session, "sync"), truth, late, data


def _judge(session, project, truth, late, skip: str) -> None:
    """Verdicts as the review page stores them: the generator's category, late clips at +LATE frames."""
    person = create_user(session, "ann", Role.annotator, "password123")
    for clip in session.exec(select(Clip).order_by(Clip.id)):
        category = truth[clip.key]["category"]
        if clip.key == skip:
            continue
        if category != "evident":
            # a tolerance-study answer ("looks in sync" at +3) must not count as a review verdict
            record_verdict(session, person, project, "sync", clip_id=clip.id, category="evident",
                           in_sync=True, offset_frames=3, note=TOLERANCE_NOTE)
            record_verdict(session, person, project, "sync", clip_id=clip.id, category=category)
        elif clip.key in late:
            record_verdict(session, person, project, "sync", clip_id=clip.id, category="evident",
                           in_sync=False, offset_frames=LATE)
        else:
            record_verdict(session, person, project, "sync", clip_id=clip.id, category="evident",
                           in_sync=True, offset_frames=0)
    session.flush()


def _lag_samples(reference: np.ndarray, other: np.ndarray, search: int = 4000) -> int:
    """How many samples `other` comes after `reference` (best cross-correlation within +-search)."""
    n = min(len(reference), len(other))
    scores = correlate(other[:n], reference[:n], mode="full", method="fft")
    lags = np.arange(-n + 1, n)
    inside = np.abs(lags) <= search
    return int(lags[inside][np.argmax(scores[inside])])


def test_evident_clips_train_shifted_into_sync_and_the_rest_is_left_out(session, project, tmp_path):
    project, truth, late, data = project
    evident = [k for k, row in truth.items() if row["category"] == "evident"]
    clips = {c.key: c for c in session.exec(select(Clip))}
    unjudged = next(k for k in evident if k not in late and not is_held_out(project.id, f"clip:{clips[k].id}"))
    _judge(session, project, truth, late, skip=unjudged)
    built = build_training_set(session, project.id, tmp_path / "set")

    train = {e.key: e for e in read_sync_set(built.train_dir)}
    heldout = {e.key: e for e in read_sync_set(built.heldout_dir)} if built.heldout_dir else {}
    judged_evident = set(evident) - {unjudged}
    assert set(train) | set(heldout) == judged_evident and not set(train) & set(heldout)
    assert heldout, "the test needs a held-out clip: change the seed or share"
    assert all(is_held_out(project.id, f"clip:{clips[k].id}") for k in heldout)
    assert not any(is_held_out(project.id, f"clip:{clips[k].id}") for k in train)
    assert all(e.offset_frames == 0 and e.category == "evident" for e in [*train.values(), *heldout.values()])
    left_out = sum(row["category"] != "evident" for row in truth.values())
    late_in_train = sum(k in train for k in late)
    assert built.counts == {"positives": len(train) - late_in_train, "shifted": late_in_train,
                            "left_out": left_out, "held_out": len(heldout), "no_media": 0, "unverified": 1}
    train_verdicts = {json.loads((built.train_dir / "sync.json").read_text())[i]["verdict_id"]
                      for i in range(len(train))}
    assert sorted(built.verdict_ids) == sorted(train_verdicts)

    for key in late:  # the project's copy is LATE frames late; the built one is back in sync
        original = read_audio(data / "clips" / f"{key}.mp4", 16000)
        as_imported = read_audio(clips[key].media_path, 16000)
        built_path = (train.get(key) or heldout[key]).path
        assert _lag_samples(original, as_imported) == pytest.approx(LATE * 640, abs=16)
        assert abs(_lag_samples(original, read_audio(built_path, 16000))) <= 16


def test_rebuilding_replaces_the_previous_set_and_no_held_out_gives_none(session, project, tmp_path,
                                                                        monkeypatch):
    project, truth, late, _ = project
    _judge(session, project, truth, late, skip="")
    first = build_training_set(session, project.id, tmp_path / "set")
    (first.train_dir / "clips" / "stale.mp4").write_bytes(b"old")
    _hold_out(monkeypatch, 0.0)
    again = build_training_set(session, project.id, tmp_path / "set")
    assert again.heldout_dir is None and again.counts["held_out"] == 0
    assert not (again.train_dir / "clips" / "stale.mp4").exists()
    assert len(read_sync_set(again.train_dir)) == sum(r["category"] == "evident" for r in truth.values())


def test_speech_labels():
    assert is_speech("male speech, man speaking") and not is_speech("dog barking") and not is_speech(None)
