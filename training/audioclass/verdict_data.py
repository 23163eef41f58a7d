"""Audio classifier training and held-out sets from a clip-verification project's verdicts (4.3.4).

A Yes says the clip's label is right: the clip trains (or, in the project's held-out share, is
held out with its label as the truth). A No says the label is wrong: the clip is left out. Clips
nobody answered, or answered Not sure, train with the label they came with (the noisy labels the
classifier is robust to, 4.3.4). Written in the VGG-Sound layout `train audioclass --data` reads.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.curation import vggsound_row
from annotation_db.models import Answer, Clip, VerdictKind
from annotation_db.verdicts import latest_verdicts
from core.synthetic.localization import write_labels_csv
from core.vggsound import read_labels_csv
from training.holdout import is_held_out
from training.verdict_sets import VerdictTrainingSet

LEFT_OUT = "left_out.csv"  # clips a No left out, with their labels (a control puts them back)


def link_media(source: Path, folder: Path, row: tuple[str, int, str, str]) -> None:
    """Hard-link (else copy) a clip's media into folder as <youtube_id>_<start, 6 digits><suffix>."""
    target = folder / f"{row[0]}_{row[1]:06d}{source.suffix}"
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def build_training_set(session: Session, project_id: int, out_dir: Path) -> VerdictTrainingSet:
    """Write out_dir/train (clips/ + labels.csv) and out_dir/heldout (Yes clips of the held-out share)."""
    out_dir = Path(out_dir)
    train_dir, heldout_dir = out_dir / "train", out_dir / "heldout"
    for folder in (train_dir, heldout_dir):
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "clips").mkdir(parents=True)
    answers = latest_verdicts(session, project_id, VerdictKind.clip, humans_only=True)
    clips = session.exec(select(Clip).where(Clip.project_id == project_id).order_by(Clip.id)).all()
    counts = {"confirmed": 0, "unconfirmed": 0, "left_out": 0, "held_out": 0, "no_media": 0, "unlabelled": 0}
    train_rows, heldout_rows, left_rows, verdict_ids = [], [], [], []
    for clip in clips:
        if not clip.label:
            counts["unlabelled"] += 1
            continue
        if not clip.media_path or not Path(clip.media_path).is_file():
            counts["no_media"] += 1
            continue
        verdict, row = answers.get(clip.id), vggsound_row(clip)
        answer = None if verdict is None else verdict.answer
        if answer is Answer.no:
            counts["left_out"] += 1
            verdict_ids.append(verdict.id)
            left_rows.append(row)
            link_media(Path(clip.media_path), train_dir / "clips", row)
            continue
        held = answer is Answer.yes and is_held_out(project_id, f"clip:{clip.id}")
        link_media(Path(clip.media_path), (heldout_dir if held else train_dir) / "clips", row)
        if held:
            counts["held_out"] += 1
            heldout_rows.append(row)
        else:
            counts["confirmed" if answer is Answer.yes else "unconfirmed"] += 1
            train_rows.append(row)
            if answer is Answer.yes:
                verdict_ids.append(verdict.id)
    if not train_rows:
        raise ValueError(f"project {project_id}: no labelled clip with media to train on")
    write_labels_csv(train_dir / "labels.csv", train_rows)
    write_labels_csv(train_dir / LEFT_OUT, left_rows)
    if heldout_rows:
        write_labels_csv(heldout_dir / "labels.csv", heldout_rows)
    else:
        shutil.rmtree(heldout_dir)
    return VerdictTrainingSet(train_dir=train_dir, heldout_dir=heldout_dir if heldout_rows else None,
                              verdict_ids=sorted(verdict_ids), counts=counts)


def ignore_verdicts(session: Session, data: VerdictTrainingSet, project_id: int) -> VerdictTrainingSet:
    """A retrain's control: the clips a No left out train again with their given labels; no verdict is used."""
    left = data.train_dir / LEFT_OUT
    rows = list(read_labels_csv(data.train_dir / "labels.csv").values())
    if left.is_file() and left.stat().st_size:
        rows += list(read_labels_csv(left).values())
        left.write_text("", encoding="utf-8")
    write_labels_csv(data.train_dir / "labels.csv", [(r.youtube_id, r.start_seconds, r.label, r.split) for r in rows])
    counts = {**data.counts, "unconfirmed": data.counts.get("unconfirmed", 0) + data.counts.get("confirmed", 0)
              + data.counts.get("left_out", 0), "confirmed": 0, "left_out": 0,
              "ignored_verdicts": len(data.verdict_ids)}
    return VerdictTrainingSet(data.train_dir, data.heldout_dir, [], counts)
