"""The verdict-free control of a localizer retrain: boxed clips lose people's boxes, nothing else changes."""

from __future__ import annotations

import json

from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.localization_review import save_boxes, save_sound
from annotation_db.models import Clip, Role
from annotation_db.projects import get_project
from annotation_db.users import create_user
from core.config import get_settings
from core.localizer.dataset import read_annotations
from core.synthetic.localization import generate_localization
from training.localizer.commands import PEOPLE_BOXES
from training.localizer.verdict_data import build_training_set
from training.verdict_control import ignore_verdicts


def test_the_localizer_control_drops_the_boxes_and_keeps_the_clips(database, tmp_path, monkeypatch):
    monkeypatch.setenv("HOLDOUT_SHARE", "0.3")
    get_settings.cache_clear()
    data = generate_localization(clips=10, seed=12, out=tmp_path / "gen", duration=1.0, size=64)
    truth = {e["file"]: e["bbox"] for e in json.loads((data / "vggss.json").read_text())}
    with session_scope() as session:
        import_clips(session, "loc", "localization", data / "clips", data / "labels.csv")
        project = get_project(session, "loc")
        person = create_user(session, "ann", Role.annotator, "password123")
        clips = list(session.exec(select(Clip).order_by(Clip.id)))
        for clip in clips[:8]:  # eight boxed, the first one's sound check No, two clips unboxed
            save_boxes(session, person, project, clip.id, truth[clip.key])
        no = save_sound(session, person, project, clips[0].id, "no")
        real = build_training_set(session, project.id, tmp_path / "real")
        control = ignore_verdicts(session, "localizer", build_training_set(session, project.id, tmp_path / "ctl"))

    assert real.counts["left_out"] == 1 and real.counts["oracle"] >= 1 and real.counts["held_out"] >= 1
    assert real.counts["oracle"] + real.counts["held_out"] == 7 and real.counts["trimap"] == 2
    assert len(read_annotations(real.train_dir / PEOPLE_BOXES)) == real.counts["oracle"]
    assert read_annotations(control.train_dir / PEOPLE_BOXES) == {}
    assert control.counts == {**real.counts, "oracle": 0, "trimap": 2 + real.counts["oracle"],
                              "ignored_verdicts": real.counts["oracle"]}
    assert control.verdict_ids == [no.id]  # the left-out clip stays out; no boxes verdict is used
    assert sorted(p.name for p in (control.train_dir / "clips").iterdir()) == \
        sorted(p.name for p in (real.train_dir / "clips").iterdir())
    assert (control.heldout_dir / "vggss.json").read_text() == (real.heldout_dir / "vggss.json").read_text()
