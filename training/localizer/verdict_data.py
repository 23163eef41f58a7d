"""Localizer training and held-out sets from a localisation project's verdicts (thesis 5.3.3, 5.4.1).

Clips people boxed train with the oracle loss (one person's boxes, or the consensus of several with
C = 2, as the metrics use); clips nobody boxed train with the tri-map loss. Clips whose sound check
(stage 3) was No, or that people marked "cannot be localised", are left out. Verified clips of the
project's held-out share go only to the held-out set, with people's boxes as the truth.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.models import Answer, Clip, User, Verdict, VerdictKind
from annotation_db.verdicts import counted_verdict, latest_verdicts
from training.holdout import is_held_out
from training.localizer.options import PEOPLE_BOXES
from training.verdict_sets import VerdictTrainingSet


def people_box_verdicts(session: Session, project_id: int) -> dict[int, list[Verdict]]:
    """{clip id: each person's latest boxes verdict} (imported reference boxes are not people's)."""
    rows = session.exec(select(Verdict).join(User, User.id == Verdict.user_id).where(
        Verdict.project_id == project_id, Verdict.kind == VerdictKind.boxes,
        User.is_system.is_(False), counted_verdict()).order_by(Verdict.id)).all()
    latest: dict[int, dict[int, Verdict]] = defaultdict(dict)
    for verdict in rows:
        latest[verdict.clip_id][verdict.user_id] = verdict
    return {clip_id: list(users.values()) for clip_id, users in latest.items()}


def build_training_set(session: Session, project_id: int, out_dir: Path) -> VerdictTrainingSet:
    """Write out_dir/train (clips + people_boxes.json, what `train localizer --data` reads) and
    out_dir/heldout (clips + vggss.json, what `eval localizer --data` reads)."""
    out_dir = Path(out_dir)
    train_dir, heldout_dir = out_dir / "train", out_dir / "heldout"
    for folder in (train_dir, heldout_dir):
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "clips").mkdir(parents=True)
    boxes = people_box_verdicts(session, project_id)
    sounds = latest_verdicts(session, project_id, VerdictKind.sound, humans_only=True)
    clips = session.exec(select(Clip).where(Clip.project_id == project_id).order_by(Clip.id)).all()
    counts = {"oracle": 0, "trimap": 0, "left_out": 0, "held_out": 0, "no_media": 0}
    people, heldout, verdict_ids = [], [], []
    for clip in clips:
        verdicts = boxes.get(clip.id, [])
        boxed = [v for v in verdicts if not v.cannot_localise and v.boxes]
        sound = sounds.get(clip.id)
        if sound is not None and sound.answer is Answer.no:
            counts["left_out"] += 1
            verdict_ids.append(sound.id)
            continue
        if verdicts and not boxed:  # everyone who looked said it cannot be localised
            counts["left_out"] += 1
            verdict_ids += [v.id for v in verdicts]
            continue
        if not clip.media_path or not Path(clip.media_path).is_file():
            counts["no_media"] += 1
            continue
        held = bool(boxed) and is_held_out(project_id, f"clip:{clip.id}")
        _link_media(Path(clip.media_path), (heldout_dir if held else train_dir) / "clips", clip.key)
        if held:
            counts["held_out"] += 1
            heldout.append(_entry(clip, boxed))
        elif boxed:
            counts["oracle"] += 1
            people.append(_entry(clip, boxed))
            verdict_ids += [v.id for v in boxed]
        else:
            counts["trimap"] += 1
    (train_dir / PEOPLE_BOXES).write_text(json.dumps(people, indent=1), encoding="utf-8")
    if not heldout:
        shutil.rmtree(heldout_dir)
    else:
        (heldout_dir / "vggss.json").write_text(json.dumps(heldout, indent=1), encoding="utf-8")
    return VerdictTrainingSet(train_dir=train_dir, heldout_dir=heldout_dir if heldout else None,
                              verdict_ids=sorted(verdict_ids), counts=counts)


def _entry(clip: Clip, boxed: list[Verdict]) -> dict:
    """A VGG-SS entry: "bbox" every box people drew (their union), "annotators" each person's boxes."""
    annotators = [[list(map(float, b[:4])) for b in v.boxes] for v in boxed]
    return {"file": clip.key, "class": clip.label, "bbox": [b for boxes in annotators for b in boxes],
            "annotators": annotators, "clip_id": clip.id, "verdict_ids": [v.id for v in boxed]}


def _link_media(source: Path, folder: Path, key: str) -> None:
    """The clip's media as folder/<key><suffix>: a hard link where the file system allows, else a copy."""
    target = folder / f"{key}{source.suffix}"
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def ignore_verdicts(session: Session, data: VerdictTrainingSet, project_id: int) -> VerdictTrainingSet:
    """A retrain's control: no people's boxes, every training clip (the boxed ones too) trains with the
    tri-map loss.

    The clips left out (sound check No) stay out, so the control sees the same clips; only the
    boxes verdicts are dropped from its verdict ids.
    """
    path = data.train_dir / PEOPLE_BOXES
    boxed = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    path.write_text("[]", encoding="utf-8")
    dropped = {i for entry in boxed for i in entry.get("verdict_ids", [])}
    counts = {**data.counts, "oracle": 0, "trimap": data.counts.get("trimap", 0) + len(boxed),
              "ignored_verdicts": len(dropped)}
    return VerdictTrainingSet(data.train_dir, data.heldout_dir,
                              [i for i in data.verdict_ids if i not in dropped], counts)
