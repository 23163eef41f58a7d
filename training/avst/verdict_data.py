"""AVST training and held-out sets from a sync project's verdicts (issue 6, thesis Table 6.1).

Clips people judged audio-visually evident and in sync are positives as they are; clips they put
at an offset are re-cut with the audio moved back by that offset, so they become in sync; uniform /
ambient and no-source clips are left out, as VGG-Sound Sync leaves them out (6.4.2.2). Verified clips
of the project's held-out share go only to the held-out set, where their true offset is 0.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from annotation_db.models import Clip, SyncCategory, Verdict, VerdictKind
from annotation_db.sync_review import TOLERANCE_NOTE
from annotation_db.verdicts import counted_verdict
from core.media import write_shifted
from training.holdout import is_held_out
from training.verdict_sets import VerdictTrainingSet

SPEECH_WORDS = ("speech", "speaking", "talking")  # VGG-Sound labels of speech (+-1 frame tolerance)


@dataclass(frozen=True)
class SyncTruth:
    """What people said about one clip: how far its audio is late (None: not usable for sync)."""

    clip: Clip
    verdict: Verdict
    offset_frames: int | None


def review_truths(session: Session, project_id: int) -> list[SyncTruth]:
    """Each clip's latest sync-review verdict (tolerance-study answers ignored), oldest clip first."""
    newest = select(func.max(Verdict.id)).where(
        Verdict.project_id == project_id, Verdict.kind == VerdictKind.sync,
        Verdict.note != TOLERANCE_NOTE, counted_verdict()).group_by(Verdict.clip_id)
    verdicts = session.exec(select(Verdict).where(Verdict.id.in_(newest))).all()
    clips = {c.id: c for c in session.exec(select(Clip).where(Clip.project_id == project_id))}
    truths = [SyncTruth(clips[v.clip_id], v, _offset(v)) for v in verdicts]
    return sorted(truths, key=lambda t: t.clip.id)


def _offset(verdict: Verdict) -> int | None:
    """Frames the audio comes late; None for non-evident clips or 'not in sync' without an offset."""
    if verdict.category is not SyncCategory.evident:
        return None
    if verdict.in_sync:
        return 0
    return None if verdict.offset_frames is None else int(verdict.offset_frames)


def is_speech(label: str | None) -> bool:
    """True for speech labels, which are scored at +-1 frame instead of +-5."""
    return bool(label) and any(word in label.lower() for word in SPEECH_WORDS)


def build_training_set(session: Session, project_id: int, out_dir: Path) -> VerdictTrainingSet:
    """Write out_dir/train (and out_dir/heldout) sync sets, in the layout `train|eval avst --data` read."""
    out_dir = Path(out_dir)
    train_dir, heldout_dir = out_dir / "train", out_dir / "heldout"
    for folder in (train_dir, heldout_dir):
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "clips").mkdir(parents=True)
    truths = review_truths(session, project_id)
    train, heldout, verdict_ids = [], [], []
    counts = {"positives": 0, "shifted": 0, "left_out": 0, "held_out": 0, "no_media": 0}
    for truth in truths:
        if truth.offset_frames is None:
            counts["left_out"] += 1
            continue
        if not truth.clip.media_path or not Path(truth.clip.media_path).is_file():
            counts["no_media"] += 1
            continue
        held = is_held_out(project_id, f"clip:{truth.clip.id}")
        folder = heldout_dir if held else train_dir
        (heldout if held else train).append(write_in_sync(truth, folder))
        if held:
            counts["held_out"] += 1
        else:
            counts["shifted" if truth.offset_frames else "positives"] += 1
            verdict_ids.append(truth.verdict.id)
    counts["unverified"] = _clip_count(session, project_id) - len(truths)
    write_index(train_dir, train)
    write_index(heldout_dir, heldout)
    if not heldout:
        shutil.rmtree(heldout_dir)
    return VerdictTrainingSet(train_dir=train_dir, heldout_dir=heldout_dir if heldout else None,
                              verdict_ids=verdict_ids, counts=counts)


def write_in_sync(truth: SyncTruth, folder: Path) -> dict:
    """The clip in folder/clips, its audio moved back by the offset people found; its sync.json row."""
    clip, source = truth.clip, Path(truth.clip.media_path)
    if truth.offset_frames:
        write_shifted(source, folder / "clips" / f"{clip.key}.mp4", -truth.offset_frames)
    else:
        shutil.copyfile(source, folder / "clips" / f"{clip.key}{source.suffix}")
    return {"file": clip.key, "label": clip.label, "category": SyncCategory.evident.value,
            "duration": clip.duration, "speech": is_speech(clip.label), "offset_frames": 0,
            "clip_id": clip.id, "verdict_id": truth.verdict.id,
            "corrected_by_frames": -truth.offset_frames}


def write_index(folder: Path, rows: list[dict]) -> None:
    """folder/sync.json, what `train|eval avst --data` read."""
    (folder / "sync.json").write_text(json.dumps(rows, indent=1))


def _clip_count(session: Session, project_id: int) -> int:
    return session.exec(select(func.count()).select_from(Clip).where(Clip.project_id == project_id)).one()


def ignore_verdicts(session: Session, data: VerdictTrainingSet, project_id: int) -> VerdictTrainingSet:
    """A retrain's control: every verified clip outside the held-out share, as imported, in sync.

    Clips people left out (uniform/ambient, no source) come in too, and clips they put at an
    offset train unshifted: what the verdicts said is not used, only which clips were verified.
    """
    shutil.rmtree(data.train_dir / "clips")
    (data.train_dir / "clips").mkdir()
    rows, ignored = [], 0
    for truth in review_truths(session, project_id):
        media = truth.clip.media_path
        if is_held_out(project_id, f"clip:{truth.clip.id}") or not media or not Path(media).is_file():
            continue
        rows.append(write_in_sync(SyncTruth(truth.clip, truth.verdict, 0), data.train_dir))
        ignored += 1
    write_index(data.train_dir, rows)
    counts = {**data.counts, "positives": len(rows), "shifted": 0, "left_out": 0, "ignored_verdicts": ignored}
    return VerdictTrainingSet(data.train_dir, data.heldout_dir, [], counts)
