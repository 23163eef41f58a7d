"""The localizer's train / eval / predict entry points on tiny generated clips."""

import json
import os

import numpy as np
import pytest
from sqlmodel import select

from annotation_db.import_clips import import_clips
from annotation_db.models import Proposal
from core.checkpoints import model_config
from core.localizer.config import named_config
from core.localizer.dataset import load_clip_set
from core.synthetic.localization import generate_localization
from training.cli import main
from training.localizer.predict import predict_project
from training.localizer.options import LocalizerTrainOptions
from training.localizer.train import train_localizer


@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory):
    return generate_localization(clips=8, seed=5, out=tmp_path_factory.mktemp("loc"), duration=3.0, size=64)


@pytest.fixture(scope="module")
def checkpoint(clips_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "micro.pt"
    code = main(["train", "localizer", "--data", str(clips_dir), "--out", str(out), "--config", "micro",
                 "--max-steps", "2", "--batch-size", "4", "--lr", "1e-3",
                 "--oracle-boxes", str(clips_dir / "vggss.json")])
    assert code == 0
    return out


def test_two_training_steps_write_a_checkpoint_with_its_config(checkpoint, capsys):
    config = json.loads(checkpoint.with_suffix(".json").read_text())
    assert model_config(config, "localizer", checkpoint)["name"] == "micro"
    assert config["train"]["steps"] == 2 and config["train"]["oracle_clips"] == 8


def test_eval_prints_model_and_centre_prior_metrics(clips_dir, checkpoint, capsys):
    capsys.readouterr()
    assert main(["eval", "localizer", "--data", str(clips_dir), "--checkpoint", str(checkpoint), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["model_version"] and {"model", "centre_prior"} <= set(results)
    for values in (results["model"], results["centre_prior"]):
        assert {"ciou@0.5", "mean_ciou", "auc"} <= set(values)
        assert 0 <= values["mean_ciou"] <= 1 and values["clips"] == 8


def test_decoded_inputs_are_cached_until_a_file_changes(clips_dir):
    config = named_config("micro")
    first = load_clip_set(clips_dir, config.network.image_size, config.audio)
    cached = sorted((clips_dir / ".cache").glob("localizer-inputs-*.npz"))
    again = load_clip_set(clips_dir, config.network.image_size, config.audio)
    assert sorted((clips_dir / ".cache").glob("localizer-inputs-*.npz")) == cached
    assert np.array_equal(first.images, again.images) and np.array_equal(first.waveforms, again.waveforms)
    media = next((clips_dir / "clips").iterdir())
    os.utime(media, ns=(media.stat().st_atime_ns, media.stat().st_mtime_ns + 10**9))
    load_clip_set(clips_dir, config.network.image_size, config.audio)
    assert len(list((clips_dir / ".cache").glob("localizer-inputs-*.npz"))) == len(cached) + 1


def test_a_short_run_lowers_the_loss(clips_dir):
    config = named_config("micro", "trimap")
    clips = load_clip_set(clips_dir, config.network.image_size, config.audio)
    result = train_localizer(config, clips, LocalizerTrainOptions(
        data=clips_dir, out=clips_dir / 'unused.pt', batch_size=4, lr=3e-3, max_steps=30, seed=1))
    assert np.mean(result.losses[-5:]) < np.mean(result.losses[:5]) - 0.02


def test_predict_writes_a_stamped_proposal_per_clip(session, clips_dir, checkpoint):
    import_clips(session, "loc", "localization", clips_dir / "clips", clips_dir / "labels.csv")
    from annotation_db.projects import get_project

    project = get_project(session, "loc")
    assert predict_project(session, project, checkpoint=checkpoint) == 8
    proposals = session.exec(select(Proposal).where(Proposal.project_id == project.id)).all()
    assert len(proposals) == 8
    for proposal in proposals:
        assert proposal.model == "localizer" and proposal.model_version.startswith("micro-")
        assert proposal.model_version_id is not None and 0 <= proposal.uncertainty <= 1
        heat = np.load(proposal.payload["heatmap_path"])
        assert heat.shape == (4, 4)
        for box in proposal.payload["boxes"]:
            x1, y1, x2, y2, _ = box
            assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1


def test_soft_thresholds_from_the_command_line_are_stored_and_checked(clips_dir, tmp_path, capsys):
    out = tmp_path / "eps.pt"
    argv = ["train", "localizer", "--data", str(clips_dir), "--out", str(out), "--config", "micro",
            "--max-steps", "1", "--batch-size", "4", "--variant", "no-ignore", "--eps-p", "0.6"]
    assert main(argv) == 0
    loss = model_config(json.loads(out.with_suffix(".json").read_text()), "localizer")["loss"]
    assert (loss["eps_p"], loss["eps_n"], loss["variant"]) == (0.6, 0.4, "no-ignore")
    assert main([*argv[:-2], "--eps-p", "0.3"]) == 2  # a usage error, not a traceback
    assert "eps_n <= eps_p" in capsys.readouterr().err
