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
from training.localizer.options import PEOPLE_BOXES
from training.localizer.verdict_data import build_training_set
from training.families import get_family


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
        control = get_family("localizer").ignore_verdicts(session, build_training_set(session, project.id, tmp_path / "ctl"),
                                  project.id)

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


def test_the_avst_control_trains_every_verified_clip_as_imported(database, tmp_path, monkeypatch):
    from annotation_db.sync_review import next_sync_item, save_sync_verdict
    from core.avst.dataset import read_sync_set
    from core.media import write_shifted
    from core.synthetic.sync import generate_sync
    from training.avst.verdict_data import build_training_set as build_sync_set
    from training.holdout import is_held_out

    monkeypatch.setenv("HOLDOUT_SHARE", "0.3")
    get_settings.cache_clear()
    data = generate_sync(clips=8, seed=21, out=tmp_path / "gen", min_duration=2.0, max_duration=2.2, size=32)
    truth = {row["file"]: row["category"] for row in json.loads((data / "sync.json").read_text())}
    late = [key for key, category in truth.items() if category == "evident"][:2]
    media = tmp_path / "media"
    media.mkdir()
    for key in truth:  # the first two evident clips are imported with their audio 6 frames late
        write_shifted(data / "clips" / f"{key}.mp4", media / f"{key}.mp4", 6 if key in late else 0)
    with session_scope() as session:
        import_clips(session, "sync", "sync", media, data / "labels.csv")
        project = get_project(session, "sync")
        person = create_user(session, "ann", Role.annotator, "password123")
        for _ in range(7):  # one clip stays unverified
            item = next_sync_item(session, project, person)
            category = truth[item.key]
            extra = ({} if category != "evident" else
                     {"in_sync": False, "offset_frames": 6} if item.key in late else {"in_sync": True})
            save_sync_verdict(session, person, project, item, category, **extra)
            session.flush()
        clips = {c.key: c for c in session.exec(select(Clip).where(Clip.project_id == project.id))}
        judged = [k for k, c in clips.items() if c.id in {v.clip_id for v in _sync_verdicts(session)}]
        real = build_sync_set(session, project.id, tmp_path / "real")
        control = get_family("avst").ignore_verdicts(session, build_sync_set(session, project.id, tmp_path / "ctl"), project.id)

    trained = sorted(k for k in judged if not is_held_out(project.id, f"clip:{clips[k].id}"))
    assert len(judged) == 7 and real.counts["left_out"] >= 1 and real.counts["held_out"] >= 1  # seed 21
    assert sorted(e.key for e in read_sync_set(control.train_dir)) == trained  # left-out kinds come in too
    assert all(e.category == "evident" for e in read_sync_set(control.train_dir))
    for key in trained:  # as imported: the late clips are not moved back
        assert (control.train_dir / "clips" / f"{key}.mp4").read_bytes() == (media / f"{key}.mp4").read_bytes()
    assert control.verdict_ids == [] and control.counts == {
        **real.counts, "positives": len(trained), "shifted": 0, "left_out": 0, "ignored_verdicts": len(trained)}
    assert (control.heldout_dir / "sync.json").read_text() == (real.heldout_dir / "sync.json").read_text()


def _sync_verdicts(session):
    from annotation_db.models import Verdict, VerdictKind

    return session.exec(select(Verdict).where(Verdict.kind == VerdictKind.sync)).all()
