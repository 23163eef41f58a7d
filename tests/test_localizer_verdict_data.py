"""Localizer training data from localisation verdicts: oracle / tri-map clips, left-out clips, held-out truth."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from sqlmodel import select

import training.holdout
from annotation_db.import_clips import import_clips
from annotation_db.models import Clip, Role
from annotation_db.projects import get_project
from annotation_db.users import create_user, system_user
from annotation_db.verdicts import record_verdict
from core.config import get_settings
from core.localizer.dataset import oracle_mask, read_annotations
from core.synthetic.localization import generate_localization
from training.cli import main
from training.holdout import is_held_out
from training.localizer.verdict_data import build_training_set

LEFT, RIGHT = [0.0, 0.0, 0.5, 1.0], [0.25, 0.0, 0.75, 1.0]


@pytest.fixture
def judged(session, tmp_path, monkeypatch):
    """Ten clips: two boxed by two people, one 'No' at the sound check, one 'cannot be localised',
    one with imported reference boxes only, one re-boxed, four boxed once, one untouched."""
    settings = replace(get_settings(), holdout_share=0.5)
    monkeypatch.setattr(training.holdout, "get_settings", lambda: settings)
    data = generate_localization(clips=10, seed=8, out=tmp_path / "gen", duration=2.0, size=64)
    import_clips(session, "loc", "localization", data / "clips", data / "labels.csv")
    project = get_project(session, "loc")
    ann, bob = (create_user(session, n, Role.annotator, "password123") for n in ("ann", "bob"))
    clips = session.exec(select(Clip).where(Clip.project_id == project.id).order_by(Clip.id)).all()
    ids: dict[str, list[int]] = {}

    def boxes(user, clip, value, **extra):
        return record_verdict(session, user, project, "boxes", clip_id=clip.id, boxes=value, **extra).id

    ids["pair"] = [boxes(ann, clips[0], [LEFT]), boxes(bob, clips[0], [RIGHT]),
                   boxes(ann, clips[1], [LEFT]), boxes(bob, clips[1], [LEFT, [0.6, 0.6, 0.9, 0.9]])]
    boxes(ann, clips[2], [LEFT])
    ids["no"] = [record_verdict(session, bob, project, "sound", clip_id=clips[2].id, answer="no").id]
    ids["cannot"] = [boxes(ann, clips[3], [], cannot_localise=True)]
    boxes(system_user(session), clips[4], [RIGHT])  # imported reference boxes: not people's
    boxes(ann, clips[5], [LEFT])
    ids["reboxed"] = [boxes(ann, clips[5], [RIGHT])]
    ids["once"] = [boxes(ann, clip, [RIGHT]) for clip in clips[6:9]]
    record_verdict(session, bob, project, "sound", clip_id=clips[6].id, answer="yes")
    session.flush()
    return project, clips, ids


def _keys(folder) -> set[str]:
    return {p.stem for p in (folder / "clips").iterdir()}


def test_verdicts_split_into_oracle_trimap_left_out_and_held_out(session, judged, tmp_path):
    project, clips, ids = judged
    result = build_training_set(session, project.id, tmp_path / "set")
    boxed = [clips[i] for i in (0, 1, 5, 6, 7, 8)]
    held = {c.key for c in boxed if is_held_out(project.id, f"clip:{c.id}")}
    assert held and len(held) < len(boxed), "the fixture must put boxed clips on both sides"
    oracle = {c.key for c in boxed} - held
    trimap = {clips[i].key for i in (4, 9)}  # reference boxes only, untouched
    assert _keys(result.train_dir) == oracle | trimap
    assert _keys(result.heldout_dir) == held
    assert result.counts == {"oracle": len(oracle), "trimap": 2, "left_out": 2, "held_out": len(held),
                             "no_media": 0}
    people = read_annotations(result.train_dir / "people_boxes.json")
    assert set(people) == oracle
    truth = read_annotations(result.heldout_dir / "vggss.json")
    assert set(truth) == held
    expected = {clips[0].key: [[LEFT], [RIGHT]], clips[1].key: [[LEFT], [LEFT, [0.6, 0.6, 0.9, 0.9]]],
                clips[5].key: [[RIGHT]], **{c.key: [[RIGHT]] for c in clips[6:9]}}
    for key, boxes in {**people, **truth}.items():
        assert boxes == expected[key]  # each person's latest boxes, a re-boxed clip's newest
    latest = {0: ids["pair"][:2], 1: ids["pair"][2:], 5: ids["reboxed"],
              **{6 + i: [vid] for i, vid in enumerate(ids["once"])}}
    trained = {vid for i, vids in latest.items() if clips[i].key not in held for vid in vids}
    assert set(result.verdict_ids) == trained | set(ids["no"] + ids["cannot"])


def test_train_uses_people_boxes_and_eval_scores_against_the_held_out_truth(session, judged, tmp_path, capsys):
    project, _, _ = judged
    result = build_training_set(session, project.id, tmp_path / "set")
    out = tmp_path / "ckpt.pt"
    assert main(["train", "localizer", "--data", str(result.train_dir), "--out", str(out), "--config", "micro",
                 "--max-steps", "2", "--batch-size", "4"]) == 0
    train = json.loads(out.with_suffix(".json").read_text())["train"]
    assert train["oracle_clips"] == result.counts["oracle"] and train["clips"] == len(_keys(result.train_dir))
    capsys.readouterr()
    assert main(["eval", "localizer", "--data", str(result.heldout_dir), "--checkpoint", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["clips"] == result.counts["held_out"]


def test_nothing_verified_gives_no_held_out_dir(session, tmp_path):
    data = generate_localization(clips=3, seed=2, out=tmp_path / "gen", duration=2.0, size=64)
    import_clips(session, "bare", "localization", data / "clips", data / "labels.csv")
    result = build_training_set(session, get_project(session, "bare").id, tmp_path / "set")
    assert result.heldout_dir is None and result.verdict_ids == []
    assert result.counts["trimap"] == 3 and len(_keys(result.train_dir)) == 3


def test_oracle_mask_is_the_consensus_of_two_people():
    one = oracle_mask([[LEFT]], 4)
    assert one.tolist() == [[1, 1, 0, 0]] * 4
    two = oracle_mask([[LEFT], [RIGHT]], 4)
    # C = 2: cells both boxed count fully, cells one person boxed count half
    assert two.tolist() == [[0.5, 1.0, 0.5, 0.0]] * 4
    assert np.array_equal(oracle_mask([[LEFT], [LEFT]], 4), one)
