"""`train autocorrect --nproc-per-node 2`: two gloo processes on CPU follow the one-process run."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from core.synthetic.geo import generate_geo
from core.checkpoints import load_checkpoint
from training.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def rail(tmp_path_factory):
    return generate_geo(kind="railway", tiles=2, size=128, seed=5, out=tmp_path_factory.mktemp("rail"),
                        exact_share=1.0)


def _train(rail, out, *extra):
    assert main(["train", "autocorrect", "--data", str(rail), "--out", str(out), "--config", "tiny",
                 "--max-steps", "3", "--batch-size", "8", "--loss", "joint", "--seed", "3", "--threads", "1",
                 *extra]) == 0
    return json.loads(out.with_suffix(".train.json").read_text())


def test_two_gloo_processes_match_one_process(rail, tmp_path):
    one = _train(rail, tmp_path / "one.pt")
    two = _train(rail, tmp_path / "two.pt", "--nproc-per-node", "2", "--master-port", str(_free_port()))
    assert two["processes"] == 2 and one["processes"] == 1
    assert two["losses"][0] == pytest.approx(one["losses"][0], rel=1e-5)  # same start, same global batch
    # later steps: same gradients up to batch norm, whose statistics each CPU rank keeps for its half
    assert np.allclose(two["losses"], one["losses"], rtol=0.01)
    state_one, _ = load_checkpoint(tmp_path / "one.pt")
    state_two, _ = load_checkpoint(tmp_path / "two.pt")
    assert state_one.keys() == state_two.keys()  # rank 0 saved the plain (unwrapped) network


def test_init_starts_from_a_checkpoint_and_keeps_its_config(rail, tmp_path):
    _train(rail, tmp_path / "parent.pt", "--no-memory-map")
    child = _train(rail, tmp_path / "child.pt", "--init", str(tmp_path / "parent.pt"))
    state, config = load_checkpoint(tmp_path / "child.pt")
    assert config["model"]["memory_map"] is False  # from the parent's JSON, not the command line
    assert child["init"] == str(tmp_path / "parent.pt")
    parent_loss = json.loads((tmp_path / "parent.train.json").read_text())["losses"]
    assert child["losses"][0] < parent_loss[0]  # it starts where the parent ended, not from scratch
