"""`train localizer` with --nproc-per-node 2 (gloo on CPU) follows the one-process run, and --init."""

import json

import numpy as np
import pytest
import torch

from core.synthetic.localization import generate_localization
from core.checkpoints import load_checkpoint, model_config
from training.cli import main


@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory):
    return generate_localization(clips=8, seed=7, out=tmp_path_factory.mktemp("loc"), duration=3.0, size=64)


def _train(clips_dir, out, *extra):
    argv = ["train", "localizer", "--data", str(clips_dir), "--out", str(out), "--config", "micro",
            "--max-steps", "3", "--batch-size", "4", "--lr", "1e-3", "--seed", "3", *extra]
    assert main(argv) == 0
    record = json.loads(out.with_suffix(".train.json").read_text())  # rank 0's record, losses included
    return {**json.loads(out.with_suffix(".json").read_text())["train"], **record}


def test_two_gloo_processes_follow_the_one_process_losses(clips_dir, tmp_path):
    single = _train(clips_dir, tmp_path / "one.pt")
    double = _train(clips_dir, tmp_path / "two.pt", "--nproc-per-node", "2", "--master-port", "29631")
    assert single["processes"] == 1 and double["processes"] == 2
    assert len(double["losses"]) == len(single["losses"]) == 3
    # the same global batches and embeddings gathered over both processes; only the batch-norm
    # statistics differ (each CPU process normalises its own half of the batch)
    assert np.allclose(double["losses"], single["losses"], rtol=0.05, atol=0.01)


def test_init_starts_from_the_given_weights(clips_dir, tmp_path):
    _train(clips_dir, tmp_path / "parent.pt")
    parent, _ = load_checkpoint(tmp_path / "parent.pt")
    train = _train(clips_dir, tmp_path / "child.pt", "--init", str(tmp_path / "parent.pt"), "--max-steps", "1",
                   "--lr", "1e-9", "--variant", "no-ignore")
    child, meta = load_checkpoint(tmp_path / "child.pt")
    assert train["init"] == str(tmp_path / "parent.pt") and model_config(meta, "localizer")["loss"]["variant"] == "no-ignore"
    moved = [k for k in parent if parent[k].is_floating_point() and "running" not in k
             and not torch.allclose(parent[k], child[k], atol=1e-5)]
    assert not moved  # a step at lr 1e-9 leaves the parent's weights as they were
