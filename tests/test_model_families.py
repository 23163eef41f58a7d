"""The model-family contract: a family added through the registry alone runs every job kind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Clip, ModelVersion, Proposal, Role, TrainingJob
from annotation_db.projects import get_project
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.config import get_settings
from core.synthetic.localization import generate_localization
from training.benchmarks import BenchmarkSpec
from training.cli import main
from training.families import families, family_for_kind, get_family
from training.jobs import job_details, submit_job
from training.options import from_params, to_argv
from training.registry import promote_version
from training.worker import run_worker

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def toy(database, monkeypatch):
    """The toy family of tests/toy_family.py registered by MODEL_FAMILIES, here and in job processes."""
    monkeypatch.setenv("MODEL_FAMILIES", "toy_family")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("HOLDOUT_SHARE", "0.4")
    get_settings.cache_clear()
    families.cache_clear()
    yield get_family("toy")
    families.cache_clear()


def _run_jobs() -> None:
    """Run every queued job; fail with each unsuccessful job's status and error (its log tail)."""
    assert run_worker(until_idle=True, poll_s=0.1) >= 1
    with session_scope() as session:
        ended = [job_details(session, job.id) for job in session.exec(select(TrainingJob))]
    unsuccessful = [f"job {d['id']} {d['kind']}: {d['status']}\n{d['error']}" for d in ended
                    if d["status"] != "succeeded"]
    assert not unsuccessful, "\n".join(unsuccessful)


def test_a_family_added_by_registry_runs_train_evaluate_predict_and_retrain_as_jobs(toy, tmp_path):
    clips = generate_localization(clips=8, seed=3, out=tmp_path / "gen", duration=1.0, size=32)
    toy.make_benchmark("clip-verification", BenchmarkSpec(seed=1, items=16), tmp_path / "start")
    with session_scope() as session:
        import_clips(session, "verify", "clip-verification", clips / "clips", clips / "labels.csv")
        project = get_project(session, "verify")
        rita = create_user(session, "rita", Role.researcher, "password1")
        ann = create_user(session, "ann", Role.annotator, "password1")
        for n, clip in enumerate(session.exec(select(Clip).order_by(Clip.id))):
            record_verdict(session, ann, project, "clip", clip_id=clip.id, answer="yes" if n % 2 else "no")
        assert family_for_kind("clip-verification") is toy
        first = submit_job(session, rita, "toy", "train", project, {"data": str(tmp_path / "start"), "max_steps": 5})
    _run_jobs()
    with session_scope() as session:
        version = session.exec(select(ModelVersion).where(ModelVersion.job_id == first.id)).one()
        predict = promote_version(session, session.get(type(rita), rita.id), get_project(session, "verify"),
                                  version.id)
    _run_jobs()
    with session_scope() as session:
        proposals = session.exec(select(Proposal)).all()
        log = Path(job_details(session, predict.id)["log_path"]).read_text()
        assert len(proposals) == 8 and {p.model_version for p in proposals} == {version.version}, log
        project = get_project(session, "verify")
        user = session.get(type(rita), rita.id)
        evaluation = submit_job(session, user, "toy", "evaluate", project, {"benchmark": {"items": 6}})
        retrain = submit_job(session, user, "toy", "train", project, {"max_steps": 3, "benchmark": {"items": 6}})
    _run_jobs()
    with session_scope() as session:
        report = job_details(session, evaluation.id)["progress"]["last_metric"]["evaluation"]
        assert report["model_version"] == version.version
        assert 0.0 <= report["heldout"]["model"]["accuracy"] <= 1.0  # held-out verified clips ...
        assert report["synthetic"]["items"] == 6  # ... and the seeded benchmark, each under its own name
        details = job_details(session, retrain.id)
        assert details["status"] == "succeeded", details["error"]
        child = details["version"]
        assert child["parent_id"] == version.id and len(child["verdict_ids"]) > 0
        assert set(child["metrics"]["heldout"]) == {"parent", "child"}
        assert set(child["metrics"]["synthetic"]) == {"parent", "child"}
    assert main(["eval", "toy", "--project", "verify", "--json"]) == 0


def test_job_params_and_command_lines_come_from_the_same_options(toy):
    options = from_params(toy.train_options, {"max_steps": 3, "lr": 1}, data="d", out="o.pt")
    assert options.lr == 1.0 and isinstance(options.lr, float) and options.data == Path("d")
    assert to_argv(options) == ["--data", "d", "--out", "o.pt", "--max-steps", "3", "--lr", "1.0"]
    with pytest.raises(ValueError, match="unknown parameter.*iterations"):
        from_params(toy.train_options, {"iterations": 3}, data="d", out="o.pt")


def test_a_job_for_a_project_of_another_kind_is_refused(database, tmp_path):
    clips = generate_localization(clips=2, seed=3, out=tmp_path / "gen", duration=1.0, size=32)
    with session_scope() as session:
        import_clips(session, "verify", "clip-verification", clips / "clips", clips / "labels.csv")
        rita = create_user(session, "rita", Role.researcher, "password1")
        with pytest.raises(ValueError, match="cannot serve"):
            submit_job(session, rita, "avst", "predict", get_project(session, "verify"))
        with pytest.raises(ValueError, match="needs a project"):
            submit_job(session, rita, "avst", "adapt", None)


@pytest.mark.slow
def test_evaluate_jobs_on_the_demo_projects_of_every_family(database, capsys):
    from training.demo import seed_demo

    list(seed_demo(seed=5))
    ids = {}
    for family, project in (("autocorrect", "demo-railway"), ("localizer", "demo-localization"),
                            ("avst", "demo-sync")):
        params = json.dumps({"benchmark": {"items": 2}, **get_family(family).example_params["evaluate"]})
        assert main(["jobs", "submit", "--model", family, "--kind", "evaluate", "--project", project,
                     "--params", params]) == 0
        ids[family] = int(capsys.readouterr().out.strip())
    _run_jobs()
    for family, job_id in ids.items():
        assert main(["jobs", "show", str(job_id), "--json"]) == 0
        details = json.loads(capsys.readouterr().out)
        assert details["status"] == "succeeded", details["error"]
        report = details["progress"]["last_metric"]["evaluation"]
        assert report["heldout"] is None  # no verified items yet: said, not invented
        assert get_family(family).headline_of(report["synthetic"]) is not None
        assert set(report["splits"]) == {"heldout", "synthetic"}
