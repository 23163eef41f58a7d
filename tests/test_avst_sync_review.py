"""DB services of the sync review page: queue, verdicts, tolerance study, server-side shifted cuts."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sqlmodel import select

from annotation_db import sync_review as sr
from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Assignment, Clip, Role, Verdict
from annotation_db.projects import get_project
from annotation_db.proposals import NewProposal, write_proposals
from annotation_db.users import create_user
from annotation_db.verdicts import VerdictError
from core.media import read_audio
from core.synthetic.sync import generate_sync


@pytest.fixture
def project(session, tmp_path):
    return _sync_project(session, tmp_path)


def _sync_project(session, tmp_path):
    data = generate_sync(clips=3, seed=8, out=tmp_path / "sync", min_duration=2.0, max_duration=2.2, size=64)
    import_clips(session, "s", "sync", data / "clips", data / "labels.csv")
    project = get_project(session, "s")
    clips = session.exec(select(Clip).order_by(Clip.id)).all()
    write_proposals(session, project, "avst", "v1", [
        NewProposal({"offset_frames": -2, "scores": {"-2": 1.0}, "curve": []}, clip_id=c.id, uncertainty=u)
        for c, u in zip(clips, (0.1, 0.9, 0.5))])
    return project


def test_queue_gives_the_most_uncertain_clip_with_the_models_offset(session, project):
    user = create_user(session, "ann", Role.annotator, "password123")
    item = sr.next_sync_item(session, project, user)
    clips = session.exec(select(Clip).order_by(Clip.id)).all()
    assert item.clip_id == clips[1].id and item.offset_frames == -2 and item.model_version == "v1"
    assert sr.next_sync_item(session, project, user).clip_id == item.clip_id  # the same lease until answered


def test_verdicts_of_each_kind(session, project):
    user = create_user(session, "ann", Role.annotator, "password123")
    first = sr.next_sync_item(session, project, user)
    assert sr.save_sync_verdict(session, user, project, first, "evident", False, 4).offset_frames == 4
    second = sr.next_sync_item(session, project, user)
    assert second.clip_id != first.clip_id
    synced = sr.save_sync_verdict(session, user, project, second, "evident", True, 7)
    assert synced.in_sync and synced.offset_frames == 0  # in sync as it is
    third = sr.next_sync_item(session, project, user)
    ambient = sr.save_sync_verdict(session, user, project, third, "uniform_ambient", True, 3)
    assert ambient.in_sync is None and ambient.offset_frames is None
    assert sr.next_sync_item(session, project, user) is None
    with pytest.raises(VerdictError):
        sr.save_sync_verdict(session, user, project, first, "evident", False, 20)


def test_tolerance_answers_are_kept_apart(session, project):
    user = create_user(session, "ann", Role.annotator, "password123")
    item = sr.next_sync_item(session, project, user)
    sr.save_sync_verdict(session, user, project, item, "evident", True)
    rng = random.Random(0)
    trials = [sr.tolerance_trial(session, project, rng) for _ in range(3)]
    assert all(t.clip_id == item.clip_id for t in trials)  # clips judged evident are preferred
    for trial, answer in zip(trials, (True, False, True)):
        sr.save_tolerance_answer(session, user, project, trial, answer)
    histogram = sr.tolerance_histogram(session, project)
    assert sum(total for _, total in histogram.values()) == 3
    assert sum(yes for yes, _ in histogram.values()) == 2
    assert [v.clip_id for v in sr.review_verdicts(session, project)] == [item.clip_id]


def test_shifted_media_delays_the_audio_and_is_cached(session, project):
    clip = session.exec(select(Clip).order_by(Clip.id)).first()
    path = sr.shifted_media(clip.media_path, clip.id, 5)
    assert path.is_file() and sr.shifted_media(clip.media_path, clip.id, 5) == path
    original, shifted = read_audio(clip.media_path), read_audio(path)
    lag = int(np.argmax(np.correlate(shifted[:24000], original[:16000], "valid")))
    assert abs(lag - 5 * 640) <= 16  # 5 frames at 25 fps = 3200 samples
    with pytest.raises(ValueError):
        sr.shifted_media(clip.media_path, clip.id, 16)


def test_page_services_take_names_and_ids_and_return_plain_values(database, tmp_path):
    with session_scope() as session:
        _sync_project(session, tmp_path)
        user = create_user(session, "ann", Role.annotator, "password123")
    assert sr.sync_projects() == ["s"]
    item = sr.claim_sync_item("s", user.id)
    assert isinstance(item, sr.SyncItem) and sr.claim_sync_item("s", user.id).clip_id == item.clip_id
    verdict_id = sr.save_sync("s", user.id, item, "evident", False, 3)
    with session_scope() as session:
        assert session.get(Verdict, verdict_id).offset_frames == 3
        assert session.get(Assignment, item.assignment_id).completed_at is not None
    with pytest.raises(VerdictError):
        sr.save_sync("s", user.id, item, "evident", False, 20)
    trial = sr.draw_tolerance_trial("s", random.Random(1))
    assert trial.clip_id == item.clip_id  # the clip judged evident
    sr.save_tolerance("s", user.id, trial, True)
    assert sr.tolerance_results("s") == {trial.offset_frames: (1, 1)}
