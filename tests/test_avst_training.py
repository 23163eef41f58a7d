"""AVST training through the real entry point, a short run whose loss falls, eval and predict commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.avst.audio import LogSpectrogram
from core.avst.builder import build_avst
from core.avst.config import get_config
from core.avst.dataset import load_clip, read_sync_set, stage1_batch, stage2_batch
from core.avst.losses import info_nce
from core.synthetic.sync import generate_sync
from core.checkpoints import load_checkpoint
from training.cli import main

SMALL = ["--config", "tiny"]


@pytest.fixture(scope="module")
def sync_set(tmp_path_factory):
    return generate_sync(clips=6, seed=3, out=tmp_path_factory.mktemp("sync"), min_duration=2.4,
                         max_duration=2.6, size=64)


@pytest.fixture(scope="module")
def checkpoint(sync_set, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt") / "avst.pt"
    code = main(["train", "avst", "--data", str(sync_set), "--out", str(out), "--variant", "enc-mp",
                 "--epochs", "2", "--stage1-epochs", "1", "--batch-size", "3", "--group", "3", "--max-steps", "2",
                 "--all-categories", *SMALL])
    assert code == 0
    return out


def test_two_training_steps_write_a_loadable_checkpoint(checkpoint):
    state, config = load_checkpoint(checkpoint)
    assert config["family"] == "avst" and config["steps"] == 2 and config["model"]["variant"] == "enc-mp"
    model = build_avst(get_config("tiny", variant="enc-mp"))
    model.load_state_dict(state)


def test_curriculum_batches(sync_set):
    config = get_config("tiny")
    clips = [load_clip(e, 64, LogSpectrogram(config.n_mels)) for e in read_sync_set(sync_set)]
    rng = np.random.default_rng(0)
    frames, spec, lengths = stage1_batch(clips[:3], rng)
    assert frames.shape[:3] == (3, 3, int(lengths.max())) and spec.shape[2] == 80 * int(lengths.max())
    assert all(5 <= n <= clips[i].n_frames // 5 for i, n in enumerate(lengths.tolist()))
    frames, spans, length = stage2_batch(clips[:3], rng)
    assert frames.shape[:3] == (3, 3, length) and 5 <= length <= min(c.n_frames // 5 for c in clips[:3])
    assert spans.shape == (3, config.n_mels, 80 * length + 16 * 30)  # every offset -15..15 of each video
    assert not torch.equal(frames[0], frames[1])


def test_short_run_loss_falls(sync_set):
    """A few Adam steps on fixed stage-1 batches bring the InfoNCE below its start."""
    torch.manual_seed(0)
    config = get_config("tiny", variant="enc-mp", image_size=32)
    clips = [load_clip(e, 32, LogSpectrogram(config.n_mels)) for e in read_sync_set(sync_set)]
    batch = stage1_batch(clips[:4], np.random.default_rng(1))
    model = build_avst(config).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(12):
        frames, spec, lengths = batch
        vis, vis_pad = model.visual_tokens(frames, lengths)
        aud, aud_pad = model.audio_tokens(spec, lengths)
        loss = info_nce(model.score_matrix(vis, vis_pad, aud, aud_pad))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.5 * losses[0]


def test_eval_prints_model_classical_and_chance(sync_set, checkpoint, capsys):
    capsys.readouterr()
    assert main(["eval", "avst", "--data", str(sync_set), "--checkpoint", str(checkpoint), "--json",
                 "--lengths", "1,2"]) == 0
    report = json.loads(capsys.readouterr().out)
    for method in ("model", "classical", "chance"):
        assert 0 <= report[method]["accuracy"] <= 1
        assert set(report[method]["accuracy_by_length"]) <= {"1", "2"}


def test_predict_clip_prints_offset_and_31_scores(sync_set, checkpoint, capsys):
    clip = next((sync_set / "clips").glob("*.mp4"))
    capsys.readouterr()
    assert main(["predict", "avst", "--clip", str(clip), "--checkpoint", str(checkpoint), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(int(k) for k in out["scores"]) == list(range(-15, 16))
    assert int(max(out["scores"], key=out["scores"].get)) == out["model_offset_frames"]
    # a checkpoint whose card has no calibration is never confident: it proposes no offset
    assert out["confident"] is False and out["offset_frames"] is None


def test_bad_data_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "avst", "--data", str(tmp_path), "--out", str(tmp_path / "x.pt"), *SMALL]) == 2
    assert "sync.json" in capsys.readouterr().err


def test_predict_project_writes_stamped_proposals(session, sync_set, checkpoint):
    from annotation_db.import_clips import import_clips
    from annotation_db.projects import get_project
    from annotation_db.verdicts import latest_proposals
    from training.avst.predict import predict_project
    from core.checkpoints import checkpoint_version

    import_clips(session, "sync", "sync", sync_set / "clips", sync_set / "labels.csv")
    project = get_project(session, "sync")
    seen = []
    assert predict_project(session, project, checkpoint, "cpu", progress=lambda d, t: seen.append((d, t))) == 6
    proposals = latest_proposals(session, project.id)
    assert len(proposals) == 6 and seen[-1] == (6, 6)
    for proposal in proposals.values():
        assert proposal.model == "avst" and proposal.model_version == checkpoint_version(checkpoint)
        assert set(proposal.payload) == {"offset_frames", "scores", "curve", "confident", "sync_score", "calibration"}
        assert len(proposal.payload["scores"]) == 31 and proposal.payload["curve"]
        assert 0 <= proposal.uncertainty <= 1


# ---- common training API: --init and several processes ----


def _losses(path) -> list[float]:
    return [row["loss"] for row in json.loads(path.read_text())["losses"]]


def test_two_gloo_processes_give_the_one_process_losses(sync_set, tmp_path):
    """The same global batch split over 2 CPU ranks (gloo) gives the same per-step losses."""
    import socket

    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    common = ["train", "avst", "--data", str(sync_set), "--variant", "enc-mp", "--epochs", "3",
              "--stage1-epochs", "1", "--batch-size", "4", "--group", "2", "--max-steps", "3", "--lr", "1e-3",
              "--all-categories", "--threads", "1", *SMALL]
    assert main([*common, "--out", str(tmp_path / "one.pt"), "--loss-log", str(tmp_path / "one.json")]) == 0
    assert main([*common, "--out", str(tmp_path / "two.pt"), "--loss-log", str(tmp_path / "two.json"),
                 "--nproc-per-node", "2", "--master-port", str(port)]) == 0
    one, two = _losses(tmp_path / "one.json"), _losses(tmp_path / "two.json")
    assert len(one) == len(two) == 3
    assert json.loads((tmp_path / "two.json").read_text())["processes"] == 2
    np.testing.assert_allclose(two, one, rtol=1e-4, atol=1e-5)
    assert (tmp_path / "two.pt").is_file()


def test_init_starts_from_the_parent_weights_and_config(sync_set, checkpoint, tmp_path):
    out = tmp_path / "child.pt"
    assert main(["train", "avst", "--data", str(sync_set), "--out", str(out), "--init", str(checkpoint),
                 "--variant", "dec", "--epochs", "1", "--batch-size", "3", "--group", "3", "--max-steps", "1",
                 "--lr", "1e-12", "--all-categories", *SMALL]) == 0
    parent, _ = load_checkpoint(checkpoint)
    child, config = load_checkpoint(out)
    assert config["model"]["variant"] == "enc-mp" and config["train"]["init"] == str(checkpoint)
    for name in ("visual.stem.0.weight", "audio.temporal.weight", "head.2.weight"):
        assert torch.allclose(child[name], parent[name], atol=1e-6)
    assert main(["train", "avst", "--data", str(sync_set), "--out", str(tmp_path / "x.pt"),
                 "--init", str(tmp_path / "missing.pt"), *SMALL]) == 2


def test_stage0_scores_come_from_the_encoders_alone(sync_set):
    """Stage 0's offset scores ignore the Transformer and head; changing them leaves the scores as they were."""
    torch.manual_seed(0)
    config = get_config("tiny", variant="dec")
    clips = [load_clip(e, 64, LogSpectrogram(config.n_mels)) for e in read_sync_set(sync_set)]
    frames, spans, length = stage2_batch(clips[:2], np.random.default_rng(0))
    model = build_avst(config).eval()
    with torch.no_grad():
        before = model.encoder_offset_scores(frames, spans, length, 31)
        for block in model.blocks:
            block.ffn[0].weight.add_(1.0)
        model.head[2].weight.mul_(-3.0)
        after = model.encoder_offset_scores(frames, spans, length, 31)
        transformer = model.offset_scores(frames, spans, length, 31)
    assert before.shape == (2, 31) and torch.equal(before, after)
    assert before.abs().max() <= 1 / 0.1 + 1e-4  # cosines over the temperature
    assert not torch.allclose(transformer, before)


def test_stage0_then_stage2_through_the_cli(sync_set, tmp_path):
    out = tmp_path / "s0.pt"
    assert main(["train", "avst", "--data", str(sync_set), "--out", str(out), "--variant", "enc-mp",
                 "--epochs", "2", "--stage0-epochs", "1", "--stage1-epochs", "0", "--batch-size", "3", "--group", "3",
                 "--lr", "1e-3", "--loss-log", str(tmp_path / "log.json"), *SMALL]) == 0
    stages = [row["stage"] for row in json.loads((tmp_path / "log.json").read_text())["losses"]]
    assert stages[0] == 0 and stages[-1] == 2 and sorted(set(stages)) == [0, 2]
    assert load_checkpoint(out)[1]["train"]["stage0_epochs"] == 1
