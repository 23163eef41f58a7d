"""Adapting AVST and the localizer to a project's unlabelled clips: held-out split, self-checks, activation."""

from __future__ import annotations

import json

import pytest

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Role
from annotation_db.projects import get_project
from annotation_db.users import create_user
from core.synthetic.sync import generate_sync
from training.cli import main
from training.clip_adapt import split_clips
from training.jobs import job_details, submit_job
from training.worker import run_worker


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return generate_sync(clips=16, seed=31, out=tmp_path_factory.mktemp("sync"), min_duration=4.0,
                         max_duration=5.0, size=64)


def test_the_held_out_clips_are_a_stable_share_and_never_trained_on(clips, tmp_path):
    first = split_clips(clips, 0.25, tmp_path / "a")
    second = split_clips(clips, 0.25, tmp_path / "b")
    trained = {p.name for p in (first.train_dir / "clips").iterdir()}
    checked = {p.name for p in (first.check_dir / "clips").iterdir()}
    assert trained and checked and not trained & checked and len(trained | checked) == 16
    assert checked == {p.name for p in (second.check_dir / "clips").iterdir()}
    with pytest.raises(ValueError, match="too few"):
        split_clips(clips, 0.95, tmp_path / "c")


def test_adapt_avst_never_reads_offsets_and_self_checks_parent_and_child(clips, tmp_path, capsys):
    data = tmp_path / "data"
    (data / "clips").mkdir(parents=True)
    for path in (clips / "clips").iterdir():
        (data / "clips" / path.name).symlink_to(path)
    (data / "sync.json").write_text("not json: adapting must not read the offsets")
    assert main(["adapt", "avst", "--data", str(data), "--out", str(tmp_path / "child.pt"), "--max-steps", "2",
                 "--batch-size", "4"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["held_out_clips"] + record["trained_clips"] == 16 and record["steps"] == 2
    for who in ("parent", "child"):
        check = record["self_check"][who]
        assert check["clips"] == record["held_out_clips"] and 0 <= check["recovered"] <= 1
    ranks = [tuple(record["self_check"][w]["rank_key"]) for w in ("parent", "child")]
    assert record["improved"] == (ranks[1] > ranks[0])


@pytest.mark.parametrize("model", ["avst", "localizer"])
def test_an_adapt_job_on_a_clip_project_registers_the_child_and_activates_it_only_if_better(
        model, clips, database):
    kind = "sync" if model == "avst" else "localization"
    with session_scope() as session:
        import_clips(session, "clips", kind, clips / "clips", clips / "labels.csv")
        rita = create_user(session, "rita", Role.researcher, "password1")
        job = submit_job(session, rita, model, "adapt", get_project(session, "clips"),
                         {"max_steps": 2, "batch_size": 4, "threads": 1})
    assert run_worker(until_idle=True, poll_s=0.1) >= 1
    with session_scope() as session:
        details = job_details(session, job.id)
        assert details["status"] == "succeeded", details["error"]
        metrics = details["version"]["metrics"]
        assert metrics["adapted"] and metrics["training_data"] == {"clips": 16} and metrics["held_out_clips"] > 0
        ranks = [tuple(metrics["self_check"][w].get("rank_key") or (metrics["self_check"][w]["score"],))
                 for w in ("parent", "child")]
        assert metrics["activated"] == (ranks[1] > ranks[0])
        active = get_project(session, "clips").active_model_version_id
        assert (active == details["version"]["id"]) == metrics["activated"]
