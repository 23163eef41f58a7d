"""The audioclass family through the registry: verdict training sets, project proposals, one-clip scores, jobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Clip, ModelVersion, Proposal, Role
from annotation_db.projects import get_project
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.config import get_settings
from core.synthetic.curation import generate_curation
from core.vggsound import read_labels_csv
from training.audioclass.options import AudioClassTrainOptions
from training.audioclass.predict import predict_clip, predict_project
from training.audioclass.train import train
from training.audioclass.verdict_data import build_training_set, ignore_verdicts
from training.families import family_for_kind, get_family
from training.jobs import job_details, submit_job
from training.options import PredictOptions
from training.registry import promote_version
from training.worker import run_worker


@pytest.fixture
def audioclass(database, monkeypatch):
    """The built-in family, with a larger held-out share (here and in job processes)."""
    monkeypatch.setenv("HOLDOUT_SHARE", "0.4")
    get_settings.cache_clear()
    yield get_family("audioclass")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    return generate_curation(clips=12, classes=3, seed=8, out=tmp_path_factory.mktemp("cur") / "cur", seconds=2.0,
                             overlays=0.0, duplicates=0.0)


@pytest.fixture(scope="module")
def micro(tmp_path_factory, clips) -> Path:
    out = tmp_path_factory.mktemp("micro") / "micro.pt"
    train(AudioClassTrainOptions(data=clips, out=out, config="micro", max_steps=2, batch_size=6, threads=1))
    return out


def _project(session, clips: Path):
    import_clips(session, "verify", "clip-verification", clips / "clips", clips / "labels.csv")
    return get_project(session, "verify")


def test_the_family_serves_clip_verification_projects(audioclass):
    assert family_for_kind("clip-verification") is audioclass
    assert audioclass.bundled_for().name == "audioclass-demo.pt"


def test_verdicts_make_the_training_set_yes_trains_no_is_left_out(audioclass, clips, tmp_path):
    with session_scope() as session:
        project = _project(session, clips)
        ann = create_user(session, "ann", Role.annotator, "password1")
        ids = [c.id for c in session.exec(select(Clip).order_by(Clip.id))]
        for n, clip_id in enumerate(ids[:8]):
            record_verdict(session, ann, project, "clip", clip_id=clip_id, answer=("yes", "no")[n % 2])
        data = build_training_set(session, project.id, tmp_path / "set")
        counts = data.counts
        assert counts["left_out"] == 4 and counts["confirmed"] + counts["held_out"] == 4
        assert counts["unconfirmed"] == 4 and len(data.verdict_ids) == 4 + counts["confirmed"]
        trained = read_labels_csv(data.train_dir / "labels.csv")
        assert len(trained) == counts["confirmed"] + counts["unconfirmed"]
        no_keys = {session.get(Clip, i).key for i in ids[1:8:2]}
        assert not no_keys & set(trained)
        if data.heldout_dir is not None:
            assert len(read_labels_csv(data.heldout_dir / "labels.csv")) == counts["held_out"]
        control = ignore_verdicts(session, data, project.id)
        assert no_keys <= set(read_labels_csv(control.train_dir / "labels.csv")) and control.verdict_ids == []


def test_project_proposals_say_whether_the_label_is_in_the_top3(audioclass, clips, micro):
    with session_scope() as session:
        project = _project(session, clips)
        assert predict_project(session, project, micro) == 12
        proposals = session.exec(select(Proposal)).all()
        labels = {c.id: c.label for c in session.exec(select(Clip))}
    for proposal in proposals:
        payload = proposal.payload
        assert payload["label"] == labels[proposal.clip_id] and payload["label_known"]
        assert payload["label_in_top3"] == (payload["label_rank"] <= 3)
        assert len(payload["top_classes"]) == 3  # the micro model knows 3 classes
        assert set(payload["audio_verification"]) == {"speech", "music", "other"}
        assert isinstance(payload["confident"], bool) and 0 <= proposal.uncertainty <= 1
        assert proposal.model_version.startswith("micro-")


def test_one_clip_gives_speech_music_other(clips, micro):
    clip = next((clips / "clips").iterdir())
    result = predict_clip(PredictOptions(clip=clip, checkpoint=micro))
    assert set(result) >= {"speech", "music", "other", "verifier_version", "top_classes", "model_version"}
    assert abs(result["speech"] + result["music"] + result["other"] - 1) < 1e-3


@pytest.mark.slow
def test_train_predict_evaluate_and_retrain_run_as_jobs(audioclass, clips, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                                   os.environ.get("PYTHONPATH")])))
    with session_scope() as session:
        project = _project(session, clips)
        rita = create_user(session, "rita", Role.researcher, "password1")
        ann = create_user(session, "ann", Role.annotator, "password1")
        for n, clip in enumerate(session.exec(select(Clip).order_by(Clip.id))):
            record_verdict(session, ann, project, "clip", clip_id=clip.id, answer="yes" if n % 3 else "no")
        first = submit_job(session, rita, "audioclass", "train", project,
                           {"data": str(clips), "config": "micro", "max_steps": 2, "batch_size": 6})
    assert run_worker(until_idle=True, poll_s=0.1) >= 1
    with session_scope() as session:
        version = session.exec(select(ModelVersion).where(ModelVersion.job_id == first.id)).one()
        promote_version(session, session.get(type(rita), rita.id), get_project(session, "verify"), version.id)
    assert run_worker(until_idle=True, poll_s=0.1) >= 1
    with session_scope() as session:
        assert {p.model_version for p in session.exec(select(Proposal))} == {version.version}
        user, project = session.get(type(rita), rita.id), get_project(session, "verify")
        evaluation = submit_job(session, user, "audioclass", "evaluate", project, {"benchmark": {"items": 4}})
        retrain = submit_job(session, user, "audioclass", "train", project,
                             {"max_steps": 2, "batch_size": 4, "benchmark": {"items": 4}})
    assert run_worker(until_idle=True, poll_s=0.1) >= 2
    with session_scope() as session:
        details = job_details(session, evaluation.id)
        assert details["status"] == "succeeded", details["error"]
        report = details["progress"]["last_metric"]["evaluation"]
        assert report["synthetic"]["clips"] + report["synthetic"]["unknown_labels"] == 4
        details = job_details(session, retrain.id)
        assert details["status"] == "succeeded", details["error"]
        assert details["version"]["parent_id"] == version.id and details["version"]["verdict_ids"]
