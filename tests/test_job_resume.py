"""Resumable training states: a loop stopped at step k and resumed ends where an uninterrupted run ends."""

from __future__ import annotations

import pytest
import torch

from core.checkpoints import load_checkpoint
from training.resume import ResumableRun

KEY = {"run": "test"}


class Stopped(Exception):
    """The run was stopped right after a state was written (as a killed process would be)."""


class StopAfter(ResumableRun):
    """Writes a state after every step and stops the run once step `at` is written."""

    def __init__(self, path, at: int) -> None:
        super().__init__(path, every_s=0.0, key=KEY)
        self.at = at
        self.steps_saved: list[int] = []

    def save(self, state: dict) -> None:
        super().save(state)
        self.steps_saved.append(state["step"])
        if state["step"] >= self.at:
            raise Stopped


def _resumed(path) -> ResumableRun:
    return ResumableRun(path, every_s=3600.0, key=KEY)


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name].float(), b[name].float(), rtol=0, atol=1e-6), name


@pytest.fixture(scope="module")
def rail(tmp_path_factory):
    from core.synthetic.geo import generate_geo

    return generate_geo(kind="railway", tiles=1, size=128, seed=3, out=tmp_path_factory.mktemp("rail"))


def test_autocorrect_stopped_and_resumed_equals_an_uninterrupted_run(rail, tmp_path, capsys):
    from training.autocorrect.options import AutoCorrectTrainOptions
    from training.autocorrect.train import run_training

    def options(out: str) -> AutoCorrectTrainOptions:
        # model_memory 3: the memory layouts made at step 3 are part of the state at step 4
        return AutoCorrectTrainOptions(data=rail, out=tmp_path / out, config="tiny", max_steps=8, batch_size=2,
                                       window=64, seed=1, threads=1, model_memory=3, model_memory_rounds=1,
                                       device="cpu")

    whole = run_training(options("whole.pt"), progress=lambda _: None)
    state_file = tmp_path / "state" / "resume.pt"
    stopper = StopAfter(state_file, at=4)
    with pytest.raises(Stopped):
        run_training(options("parts.pt"), progress=lambda _: None, resume=stopper)
    assert stopper.steps_saved == [1, 2, 3, 4] and state_file.is_file()
    assert not list(state_file.parent.glob("*.partial"))  # written whole, then renamed
    capsys.readouterr()
    parts = run_training(options("parts.pt"), progress=lambda _: None, resume=_resumed(state_file))
    assert "resumed from step 4" in capsys.readouterr().err
    assert parts["steps"] == whole["steps"] == 8
    assert parts["losses"] == pytest.approx(whole["losses"], abs=1e-6)  # the loss history carries over
    _assert_same_weights(load_checkpoint(tmp_path / "whole.pt")[0], load_checkpoint(tmp_path / "parts.pt")[0])
    assert not state_file.exists()  # training ended: the state is removed


def test_a_state_saved_for_other_options_is_not_resumed(rail, tmp_path, capsys):
    from training.autocorrect.options import AutoCorrectTrainOptions
    from training.autocorrect.train import run_training
    from training.resume import run_key

    options = AutoCorrectTrainOptions(data=rail, out=tmp_path / "a.pt", config="tiny", max_steps=3, batch_size=2,
                                      window=64, seed=1, threads=1, device="cpu")
    state_file = tmp_path / "resume.pt"
    stopper = StopAfter(state_file, at=2)
    stopper.key = run_key("autocorrect", options)
    with pytest.raises(Stopped):
        run_training(options, progress=lambda _: None, resume=stopper)
    other = AutoCorrectTrainOptions(**{**vars(options), "lr": 0.5})
    capsys.readouterr()
    record = run_training(other, progress=lambda _: None,
                          resume=ResumableRun(state_file, 3600.0, run_key("autocorrect", other)))
    assert "saved for other options; training from step 0" in capsys.readouterr().err
    assert record["steps"] == 3 and len(record["losses"]) == 3


def test_localizer_stopped_mid_epoch_and_resumed_equals_an_uninterrupted_run(tmp_path, capsys):
    from core.localizer.config import named_config
    from core.localizer.dataset import load_clip_set
    from core.synthetic.localization import generate_localization
    from training.localizer.options import LocalizerTrainOptions
    from training.localizer.train import train_localizer

    clips_dir = generate_localization(clips=8, seed=5, out=tmp_path / "loc", duration=3.0, size=64)
    config = named_config("micro", "trimap")
    clips = load_clip_set(clips_dir, config.network.image_size, config.audio)
    # batch 4 of 8 clips: 2 steps an epoch, so step 3 stops in the middle of the second epoch
    options = LocalizerTrainOptions(data=clips_dir, out=tmp_path / "unused.pt", batch_size=4, lr=3e-3,
                                    max_steps=6, seed=1, threads=1, device="cpu")
    whole = train_localizer(config, clips, options)
    state_file = tmp_path / "resume.pt"
    with pytest.raises(Stopped):
        train_localizer(config, clips, options, resume=StopAfter(state_file, at=3))
    capsys.readouterr()
    parts = train_localizer(config, clips, options, resume=_resumed(state_file))
    assert "resumed from step 3" in capsys.readouterr().err
    assert parts.steps == whole.steps == 6
    assert parts.losses == pytest.approx(whole.losses, abs=1e-6)
    _assert_same_weights(whole.model.state_dict(), parts.model.state_dict())


def test_avst_stopped_mid_epoch_and_resumed_equals_an_uninterrupted_run(tmp_path, capsys):
    from core.synthetic.sync import generate_sync
    from training.avst.options import AVSTTrainOptions
    from training.avst.train import train_avst

    sync_set = generate_sync(clips=6, seed=3, out=tmp_path / "sync", min_duration=2.4, max_duration=2.6, size=64)

    def options(out: str) -> AVSTTrainOptions:
        # 6 clips, groups of 3: 2 steps an epoch; epochs 0, 1, 2 are stages 0, 1, 2
        return AVSTTrainOptions(data=sync_set, out=tmp_path / out, config="tiny", variant="enc-mp", epochs=3,
                                stage0_epochs=1, stage1_epochs=1, batch_size=3, group=3, all_categories=True,
                                seed=2, threads=1, device="cpu")

    whole = train_avst(options("whole.pt"), log=lambda _: None)
    state_file = tmp_path / "resume.pt"
    with pytest.raises(Stopped):
        train_avst(options("parts.pt"), log=lambda _: None, resume=StopAfter(state_file, at=3))
    capsys.readouterr()
    parts = train_avst(options("parts.pt"), log=lambda _: None, resume=_resumed(state_file))
    assert "resumed from step 3" in capsys.readouterr().err
    assert [row["step"] for row in parts["losses"]] == list(range(6)) and parts["steps"] == whole["steps"] == 6
    assert [row["loss"] for row in parts["losses"]] == pytest.approx([row["loss"] for row in whole["losses"]],
                                                                      abs=1e-6)
    _assert_same_weights(load_checkpoint(tmp_path / "whole.pt")[0], load_checkpoint(tmp_path / "parts.pt")[0])


def test_plain_runs_keep_no_state_and_jobs_keep_theirs_in_their_work_folder(database, monkeypatch, tmp_path):
    from annotation_db.engine import session_scope
    from annotation_db.models import JobKind, TrainingJob
    from core.config import get_settings
    from training.autocorrect.options import AutoCorrectTrainOptions
    from training.progress import JOB_ENV
    from training.resume import job_resume_path

    options = AutoCorrectTrainOptions(data=tmp_path, out=tmp_path / "a.pt")
    monkeypatch.delenv(JOB_ENV, raising=False)
    monkeypatch.delenv("TRAIN_RESUME_STATE", raising=False)
    get_settings.cache_clear()
    assert not ResumableRun.for_training("autocorrect", options).active
    monkeypatch.setenv("TRAIN_RESUME_STATE", str(tmp_path / "mine.pt"))  # asked for
    get_settings.cache_clear()
    assert ResumableRun.for_training("autocorrect", options).path == tmp_path / "mine.pt"
    with session_scope() as session:
        train = TrainingJob(kind=JobKind.train, model="autocorrect")
        adapt = TrainingJob(kind=JobKind.adapt, model="autocorrect")
        session.add_all([train, adapt])
    monkeypatch.setenv(JOB_ENV, str(train.id))
    monkeypatch.setenv("JOB_CHECKPOINT_MINUTES", "0.5")
    get_settings.cache_clear()
    run = ResumableRun.for_training("autocorrect", options)
    assert run.path == job_resume_path(train.id) == get_settings().data_dir / "jobs" / f"job-{train.id}" / "resume.pt"
    assert run.every_s == 30.0 and not run.due()
    monkeypatch.setenv(JOB_ENV, str(adapt.id))  # an adapt job's training starts afresh each time
    assert not ResumableRun.for_training("autocorrect", options).active
