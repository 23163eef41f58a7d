"""The CUDA paths of the three models: predictors (bf16 autocast) agree with their fp32 CPU selves, and
each trainer's real entry point runs two steps on the device.

Skipped where torch sees no GPU; TEST_DEVICE=cpu runs the same checks on the CPU (to test the tests).
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from core.autocorrect.memory_map import TileInput
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.rasterize import Shape
from core.autocorrect.se2 import se2_matrix
from core.autocorrect.windows import image_to_float
from core.checkpoints import load_checkpoint
from training.family import bundled_checkpoint

DEVICE = os.environ.get("TEST_DEVICE", "cuda")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(), reason="no CUDA device")]


def railway_tile(seed: int, size: int = 256, tracks: int = 5) -> SimpleNamespace:
    """Parallel bright tracks on a textured ground, labelled a few pixels off."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 120, (3, size, size)).astype(np.uint8)
    shapes = []
    for k in range(tracks):
        y = 30 + k * (size - 60) / max(tracks - 1, 1)
        image[:, int(y) - 2:int(y) + 3, 10:size - 10] = 200
        track = Shape((np.array([[10.0, y], [size - 10.0, y + 8.0]]),), closed=False, half_width=3.0)
        shapes.append(track.moved(se2_matrix(rng.uniform(-4, 4), rng.uniform(-4, 4),
                                             np.radians(rng.uniform(-2, 2)), track.centroid())))
    return SimpleNamespace(image=image, shapes=shapes, verified=None)


def _corrections(device: str, tiles: list[SimpleNamespace]) -> list:
    predictor = AutoCorrectPredictor.from_checkpoint(bundled_checkpoint("autocorrect-railway"), device)
    return predictor.correct([TileInput(image_to_float(t.image), t.shapes) for t in tiles], uncertainty=True)


def test_autocorrect_predictor_on_device_matches_cpu():
    tiles = [railway_tile(seed) for seed in range(3)]
    cpu, dev = _corrections("cpu", tiles), _corrections(DEVICE, tiles)
    for a, b in zip(cpu, dev):
        shift = np.abs(np.array(a.matrices)[:, :2, 2] - np.array(b.matrices)[:, :2, 2])
        assert shift.max() < 1.0, f"translations differ by up to {shift.max():.3f} px"
        assert np.allclose(a.uncertainty, b.uncertainty, atol=1.0)


def test_autocorrect_trainer_runs_two_steps_on_device(tmp_path):
    from training.autocorrect.options import AutoCorrectTrainOptions
    from training.autocorrect.train import run_training

    out = tmp_path / "ac.pt"
    options = AutoCorrectTrainOptions(data=tmp_path, out=out, config="tiny", max_steps=2, batch_size=8, device=DEVICE)
    record = run_training(options, progress=lambda _: None,
                          loaded=("railway", [railway_tile(seed, size=128, tracks=3) for seed in range(2)]))
    assert record["steps"] == 2 and np.isfinite(record["losses"]).all()
    state, meta = load_checkpoint(out)
    assert meta["train"]["steps"] == 2 and all(v.device.type == "cpu" for v in state.values())


@pytest.fixture(scope="module")
def localization_clips(tmp_path_factory):
    from core.synthetic.localization import generate_localization

    return generate_localization(clips=4, seed=5, out=tmp_path_factory.mktemp("loc"), duration=3.0, size=64)


def test_localizer_trainer_runs_two_steps_on_device(localization_clips, tmp_path):
    from training.cli import main

    out = tmp_path / "loc.pt"
    assert main(["train", "localizer", "--data", str(localization_clips), "--out", str(out), "--config", "micro",
                 "--max-steps", "2", "--batch-size", "4", "--device", DEVICE]) == 0
    assert load_checkpoint(out)[1]["train"]["steps"] == 2


def test_localizer_predictor_on_device_matches_cpu(localization_clips):
    from training.localizer.predict import load_predictor

    cpu, dev = load_predictor(device="cpu"), load_predictor(device=DEVICE)
    for path in sorted((localization_clips / "clips").glob("*.mp4")):
        frame, audio = cpu.decode(path)
        a, b = cpu.heatmaps(frame[None], audio[None])[0], dev.heatmaps(frame[None], audio[None])[0]
        assert np.abs(a - b).max() < 0.05 * (a.max() - a.min()) + 1e-6
        assert dev.localize_arrays(frame[None], audio[None])[0].model_version == cpu.model_version


@pytest.fixture(scope="module")
def sync_clips(tmp_path_factory):
    from core.synthetic.sync import generate_sync

    return generate_sync(clips=4, seed=3, out=tmp_path_factory.mktemp("sync"), min_duration=3.0, max_duration=3.0)


def test_avst_trainer_runs_two_steps_on_device(sync_clips, tmp_path):
    from training.cli import main

    out = tmp_path / "avst.pt"
    assert main(["train", "avst", "--data", str(sync_clips), "--out", str(out), "--variant", "enc-mp",
                 "--epochs", "2", "--stage1-epochs", "1", "--batch-size", "2", "--group", "2", "--max-steps", "2",
                 "--all-categories", "--config", "tiny", "--device", DEVICE]) == 0
    assert load_checkpoint(out)[1]["steps"] == 2


def test_avst_predictor_on_device_matches_cpu(sync_clips):
    from core.avst.predictor import AVSTPredictor

    cpu = AVSTPredictor.from_checkpoint(bundled_checkpoint("avst-demo"), "cpu")
    dev = AVSTPredictor.from_checkpoint(bundled_checkpoint("avst-demo"), DEVICE)
    for path in sorted((sync_clips / "clips").glob("*.mp4")):
        clip = cpu.load(path)
        a, b = cpu.predict_clip(clip), dev.predict_clip(clip)
        scores_a, scores_b = np.array(list(a.scores.values())), np.array(list(b.scores.values()))
        assert np.abs(scores_a - scores_b).max() < 0.1 * (scores_a.max() - scores_a.min()) + 1e-3
        if np.sort(scores_a)[-1] - np.sort(scores_a)[-2] > 0.2 * (scores_a.max() - scores_a.min()):
            assert a.offset_frames == b.offset_frames
