"""`python -m training curate` end to end on tiny generated clips (stages 3 and 4, 4.3.3-4.3.4)."""

from __future__ import annotations

import json
import shutil

import pytest

from core.synthetic.curation import generate_curation, generate_overlay_set
from core.vggsound import read_labels_csv
from training.audioclass.options import AudioClassTrainOptions
from training.audioclass.train import train
from training.cli import main


@pytest.fixture(scope="module")
def micro_verifier(tmp_path_factory):
    """A speech / music / other classifier of the micro config after two steps (good enough to run stage 3)."""
    root = tmp_path_factory.mktemp("verifier")
    data = generate_overlay_set(clips=6, seed=1, out=root / "overlay", seconds=2.0)
    train(AudioClassTrainOptions(data=data, out=root / "verifier.pt", config="micro", max_steps=2, batch_size=6,
                                 threads=1))
    return root / "verifier.pt"


@pytest.mark.slow  # about 25 s on a shared 2-core CPU, most of it writing the clips
def test_curate_records_every_decision_and_writes_the_kept_clips(tmp_path, micro_verifier, capsys):
    data = generate_curation(clips=24, classes=3, seed=5, out=tmp_path / "cur", seconds=2.0, wrong_labels=0.3,
                             overlays=0.2, duplicates=0.1)
    shutil.move(data / "truth.csv", tmp_path / "truth.csv")  # curation never reads the truth
    out = tmp_path / "out" / "kept.csv"
    assert main(["curate", "--data", str(data), "--out", str(out), "--verifier", str(micro_verifier),
                 "--config", "micro", "--epochs", "1", "--batch-size", "6", "--threads", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    counts = summary["counts"]
    assert counts["clips"] == 24 and counts["stage3_rejected"] + counts["stage4_input"] == 24
    assert counts["kept"] == (counts["easy_positives"] + counts["hard_positives"] + counts["final_recovered"]
                              - counts["duplicates"])
    assert summary["retrieval_features"] == "visual"
    assert set(summary["seconds"]) == {"decode", "stage3", "twofold", "retrieval", "final", "dedup"}
    kept = read_labels_csv(out) if counts["kept"] else {}
    assert len(kept) == counts["kept"]
    decisions = json.loads((tmp_path / "out" / "kept.decisions.json").read_text())
    assert decisions["rules_file"] == str(data / "rules.json")
    by_key = {d["key"]: d for d in decisions["clips"]}
    assert len(by_key) == 24 and {k for k, d in by_key.items() if d["kept"]} == set(kept)
    for d in by_key.values():
        stage3 = d["stage3"]
        assert set(stage3["scores"]) == {"speech", "music", "other"} and stage3["model_version"]
        assert all({"sound", "score", "rule"} <= set(r) for r in stage3["rejections"])
        if stage3["rejected"]:
            assert d["decided_by"] == "stage3" and not d["kept"]
            continue
        predictions = d["twofold"]["predictions"]
        assert len(predictions) == 2 and {p["model"][:2] for p in predictions} == {"r0", "r1"}
        assert all(p["model_version"] for p in predictions)
        assert d["twofold"]["easy_positive"] == (d["twofold"]["label_rank"] <= 3)
    versions = decisions["models"]
    assert set(versions["twofold"]) == {"r0h0", "r0h1", "r1h0", "r1h1"} and versions["final"]
