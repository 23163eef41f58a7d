"""Adapting a clip family (AVST, localizer) to a project's unlabelled clips: what both share.

A fixed share of the clips (a hash of the file name) is never trained on; parent and child are
self-checked on it, so a model that memorised its training clips gains nothing there. The child is
activated only when its self-check score beats the parent's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.models import Clip
from core.media import MEDIA_SUFFIXES
from training.holdout import held_out_fraction

SelfCheck = Callable[[Path, Path], dict]  # (checkpoint, folder with clips/) -> report with "score"


@dataclass(frozen=True)
class ClipSplit:
    """Folders with clips/ of linked media: what adaptation trains on, and what the self-checks run on."""

    train_dir: Path
    check_dir: Path
    trained: int
    held_out: int


def media_files(folder: Path) -> list[Path]:
    """The media files of folder/clips, sorted by name; FileNotFoundError naming the folder if none."""
    clips = Path(folder) / "clips"
    files = sorted(p for p in clips.iterdir() if p.suffix in MEDIA_SUFFIXES) if clips.is_dir() else []
    if not files:
        raise FileNotFoundError(f"{clips}: no clips (expected DIR/clips/<key>.mp4|mkv|webm)")
    return files


def split_clips(data: Path, share: float, scratch: Path) -> ClipSplit:
    """data/clips split into scratch/train and scratch/check (links, not copies): the share of clips (at
    least 2) with the lowest hash of their name is checked, so a clip keeps its side while the set is unchanged."""
    files = media_files(data)
    checked = max(2, round(share * len(files)))
    lowest = set(sorted(files, key=lambda f: held_out_fraction(0, f.stem))[:checked])
    held = [f in lowest for f in files]
    trained = len(files) - checked
    if trained < 2:
        raise ValueError(f"{data}: {len(files)} clips are too few to train on some and self-check on "
                         f"{share:.0%} of them (need at least 2 of each)")
    for name in ("train", "check"):
        (scratch / name / "clips").mkdir(parents=True, exist_ok=True)
    for path, out in zip(files, held):
        _link(path, scratch / ("check" if out else "train") / "clips" / path.name)
    return ClipSplit(scratch / "train", scratch / "check", trained, checked)


def compare(parent: Path, child: Path, check_dir: Path, self_check: SelfCheck) -> tuple[dict, bool]:
    """({"parent": report, "child": report}, whether the child's self-check score beats the parent's)."""
    reports = {who: {**self_check(path, check_dir), "checkpoint": str(path)}
               for who, path in (("parent", parent), ("child", child))}
    return reports, _rank(reports["child"]) > _rank(reports["parent"])


def _rank(report: dict) -> tuple:
    """What a self-check is ranked by: its rank_key where it has one (ties of the score broken), else its score."""
    return tuple(report.get("rank_key") or (report["score"],))


def export_project_clips(session: Session, project_id: int, out_dir: Path) -> Path:
    """out_dir/clips with a link to every clip of the project that has media; returns out_dir."""
    folder = Path(out_dir) / "clips"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    clips = session.exec(select(Clip).where(Clip.project_id == project_id, Clip.media_path.is_not(None))).all()
    for clip in clips:
        source = Path(clip.media_path)
        if source.is_file():
            _link(source, folder / f"{clip.key}{source.suffix}")
    return Path(out_dir)


def _link(source: Path, target: Path) -> None:
    """A symlink where the file system allows one, else a copy."""
    try:
        os.symlink(source.resolve(), target)
    except OSError:
        shutil.copyfile(source, target)
