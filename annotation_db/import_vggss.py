"""Import a VGG-SS box file: one clip per entry, its boxes kept as a reference verdict."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from annotation_db.import_clips import checked_media, clip_row
from annotation_db.models import Clip, ProjectKind, Verdict, VerdictKind
from annotation_db.projects import ensure_project
from annotation_db.reports import ImportReport, Progress
from annotation_db.users import system_user
from core.errors import InputError
from core.media import MEDIA_SUFFIXES
from core.vggsound import check_box, read_vggss_entries


def import_vggss(session: Session, project: str, path: str | Path,
                 media: str | Path | None = None, skip_bad: bool = False,
                 progress: Progress = None) -> ImportReport:
    """Add every entry of a VGG-SS JSON; clips whose media is missing keep their boxes."""
    path = Path(path)
    report = ImportReport(project=project, source=str(path))
    entries = read_vggss_entries(path)
    target = ensure_project(session, project, ProjectKind.localization)
    reference = system_user(session)
    taken = set(session.exec(select(Clip.key).where(Clip.project_id == target.id)))
    checked = [_checked_boxes(entry, index, report) for index, entry in enumerate(entries)]
    report.refuse([p for _, problems in checked for p in problems], skip_bad, str(path))
    missing_media, rows = 0, []
    for done, (entry, (boxes, _)) in enumerate(zip(entries, checked)):
        if progress and done % 200 == 0:
            progress(done, len(entries), f"importing {entry['file']}")
        if entry["file"] in taken:
            report.warnings.append(f"{entry['file']}: already in the project, left unchanged")
            continue
        taken.add(entry["file"])
        media_path, info = _media_for(entry["file"], media, report)
        missing_media += media_path is None
        rows.append((clip_row(target.id, entry["file"], media_path, info, None,
                              str(entry["class"])), boxes))
    session.add_all([clip for clip, _ in rows])
    session.flush()  # assigns clip ids
    session.add_all([Verdict(project_id=target.id, user_id=reference.id, kind=VerdictKind.boxes,
                             clip_id=clip.id, boxes=[list(b) for b in boxes],
                             cannot_localise=False, source=f"import:{path.name}")
                     for clip, boxes in rows])
    report.created["clips"] += len(rows)
    report.created["boxes"] += sum(len(boxes) for _, boxes in rows)
    if missing_media:
        report.warnings.append(f"{missing_media} clip(s) have no media file; their boxes are "
                               "kept and can be exported, but they cannot be played")
    session.flush()
    return report


def _checked_boxes(entry: dict, index: int, report: ImportReport) -> tuple[list, list]:
    boxes, problems = [], []
    for number, raw in enumerate(entry["bbox"]):
        checked = check_box(raw)
        where = f"entry {index} ({entry['file']}) box {number}"
        if checked.problem:
            problems.append((where, checked.problem))
        else:
            boxes.append(checked.box)
            if checked.repair:
                report.repaired.append(f"{where}: {checked.repair}")
    return boxes, problems


def _media_for(key: str, media: str | Path | None, report: ImportReport):
    if media is None:
        return None, None
    for suffix in MEDIA_SUFFIXES:
        candidate = Path(media) / f"{key}{suffix}"
        if candidate.exists():
            try:
                return candidate, checked_media(candidate)
            except InputError as exc:
                report.warnings.append(f"{candidate.name}: {exc.problem}; boxes kept without media")
                return None, None
    return None, None
