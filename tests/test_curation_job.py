"""A curate job on a clip-verification project, run by the job runner on tiny generated clips; and
`predict audio-verification` on one file."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlmodel import select

from annotation_db import curation
from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Clip, CurationDecision, JobStatus, Role, TrainingJob, User
from annotation_db.projects import get_project
from annotation_db.users import AccessDenied, create_user
from core.checkpoints import checkpoint_version
from core.synthetic.curation import generate_curation, generate_overlay_set
from core.vggsound import read_labels_csv
from training.audioclass.curate_job import launch_curation
from core.audioclass.curation_report import STAGES
from training.audioclass.options import AudioClassTrainOptions
from training.audioclass.train import train
from training.cli import main
from training.job_runner import run_job
from training.jobs import finish_job, launch_job, submit_job


@pytest.fixture(scope="module")
def micro_verifier(tmp_path_factory):
    """A speech / music / other classifier of the micro config after two steps (enough to run stage 3)."""
    root = tmp_path_factory.mktemp("verifier")
    data = generate_overlay_set(clips=6, seed=1, out=root / "overlay", seconds=2.0)
    train(AudioClassTrainOptions(data=data, out=root / "verifier.pt", config="micro", max_steps=2, batch_size=6,
                                 threads=1))
    return root / "verifier.pt"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    out = generate_curation(clips=60, classes=4, seed=5, out=tmp_path_factory.mktemp("cur") / "cur", seconds=2.0,
                            wrong_labels=0.3, overlays=0.2, duplicates=0.1)
    shutil.move(out / "truth.csv", out.parent / "truth.csv")  # curation never reads the truth
    return out


def _job_params(verifier) -> dict:
    return {"verifier": str(verifier), "config": "micro", "epochs": 1, "batch_size": 8, "threads": 1}


def test_a_curate_job_stores_every_clips_decision(database, clips, micro_verifier, tmp_path):
    with session_scope() as session:
        import_clips(session, "cur", "clip-verification", clips / "clips", clips / "labels.csv")
        rita = create_user(session, "rita", Role.researcher, "password1")
        project = get_project(session, "cur")
        classes = curation.project_classes(session, project.id)
        allow_music = classes[0]
        curation.save_rules(session, rita, project.id, {"classes": {allow_music: {"reject": ["speech"]}}})
        project_id, rita_id = project.id, rita.id
    job_id = launch_job(rita_id, "audioclass", "curate", "cur", _job_params(micro_verifier))
    with session_scope(immediate=True) as session:  # what the worker's claim does
        session.get(TrainingJob, job_id).status = JobStatus.running
    assert run_job(job_id) == 0
    finish_job(job_id, JobStatus.succeeded)

    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        assert job.progress_step == job.progress_total == 8
        metric = job.last_metric["curation"]
        counts = metric["counts"]
        assert counts["clips"] == 60 and counts["stage3_rejected"] + counts["stage4_input"] == 60
        assert set(metric["seconds"]) == {"decode", "stage3", "twofold", "retrieval", "final", "dedup"}
        assert metric["rules"]["classes"] == {allow_music: {"reject": ["speech"]}}
        assert set(metric["models"]["twofold"]) == {"r0h0", "r0h1", "r1h0", "r1h1"}
        rows = session.exec(select(CurationDecision).where(CurationDecision.job_id == job_id)).all()
        clip_ids = set(session.exec(select(Clip.id).where(Clip.project_id == project_id)))
        assert {r.clip_id for r in rows} == clip_ids and len(rows) == 60
        assert sum(r.kept for r in rows) == counts["kept"]
        assert all(r.decided_by in STAGES and r.record["stage3"]["model_version"] for r in rows)
        for r in rows:
            clip = session.get(Clip, r.clip_id)
            assert r.record["key"] == clip.key and r.record["label"] == clip.label
            if r.record["stage3"]["rejected"]:
                assert r.decided_by == "stage3" and not r.kept
                if clip.label == allow_music:  # its own rule: music is allowed
                    assert {x["sound"] for x in r.record["stage3"]["rejections"]} == {"speech"}
            else:
                assert len(r.record["twofold"]["predictions"]) == 2
        kept_keys = {r.record["key"] for r in rows if r.kept}

    view = curation.curation_view(project_id)
    assert view.job_id == job_id and view.counts == counts
    assert sum(row["clips"] for row in view.classes) == 60
    assert sum(row["kept"] for row in view.classes) == counts["kept"]
    exported = tmp_path / "kept.csv"
    exported.write_text(curation.kept_clips_csv(rita_id, project_id), encoding="utf-8")
    assert set(read_labels_csv(exported)) == kept_keys


def test_a_curate_job_refuses_what_it_sets_itself(database, clips):
    with session_scope() as session:
        import_clips(session, "cur", "clip-verification", clips / "clips", clips / "labels.csv")
        rita = create_user(session, "rita", Role.researcher, "password1")
        job = submit_job(session, rita, "audioclass", "curate", get_project(session, "cur"), {"data": "/tmp/x"})
        job_id = job.id
    with pytest.raises(ValueError, match="sets data itself"):
        run_job(job_id)
    with session_scope() as session:
        assert session.exec(select(CurationDecision)).all() == []
        rita = session.exec(select(User).where(User.name == "rita")).one()
        with pytest.raises(ValueError, match="a family that curates"):
            submit_job(session, rita, "avst", "curate", None)
        with pytest.raises(ValueError, match="a curate job needs a project"):
            submit_job(session, rita, "audioclass", "curate", None)


def test_predict_audio_verification_prints_the_three_sounds(clips, micro_verifier, capsys):
    clip = sorted((clips / "clips").iterdir())[0]
    assert main(["predict", "audio-verification", "--clip", str(clip), "--checkpoint", str(micro_verifier),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"speech", "music", "other", "model_version", "confident", "clip"}
    assert abs(result["speech"] + result["music"] + result["other"] - 1) < 1e-3
    assert result["confident"] == (max(result["speech"], result["music"], result["other"]) >= 0.5)
    assert result["model_version"] == checkpoint_version(micro_verifier)
    assert main(["predict", "audio-verification", "--clip", str(clips / "missing.wav"), "--json"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_predict_audio_verification_uses_the_bundled_verifier(clips, capsys):
    clip = sorted((clips / "clips").iterdir())[0]
    assert main(["predict", "audio-verification", "--clip", str(clip), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model_version"].startswith("audioclass-verifier")


def test_researchers_launch_curate_jobs_annotators_cannot(database, clips):
    with session_scope() as session:
        import_clips(session, "cur", "clip-verification", clips / "clips", clips / "labels.csv")
        rita = create_user(session, "rita", Role.researcher, "password1")
        ann = create_user(session, "ann", Role.annotator, "password1")
        rita_id, ann_id = rita.id, ann.id
    job_id = launch_curation(rita_id, "cur", {"epochs": 2})
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        assert (job.kind.value, job.model, job.params, job.status) == ("curate", "audioclass", {"epochs": 2},
                                                                       JobStatus.queued)
    with session_scope() as session:
        project_id = get_project(session, "cur").id
    assert curation.newest_curation_job(project_id).job_id == job_id
    with pytest.raises(AccessDenied):
        launch_curation(ann_id, "cur")
    with session_scope() as session:
        assert len(session.exec(select(TrainingJob)).all()) == 1


def test_a_curate_job_whose_rules_reject_everything_fails_clearly(database, clips, micro_verifier):
    with session_scope() as session:
        import_clips(session, "cur", "clip-verification", clips / "clips", clips / "labels.csv")
        rita = create_user(session, "rita", Role.researcher, "password1")
        project = get_project(session, "cur")
        curation.save_rules(session, rita, project.id, {"threshold": 0.001})  # speech or music always passes it
        job = submit_job(session, rita, "audioclass", "curate", project, _job_params(micro_verifier))
        job_id = job.id
    with pytest.raises(ValueError, match="stage 4 needs at least 2 clips: 0 of 60 passed stage 3"):
        run_job(job_id)
    with session_scope() as session:
        assert session.exec(select(CurationDecision)).all() == []
