"""Import a VGG-SS box file: one clip per entry, its boxes kept as a reference verdict.

The file is read and every box checked (and media probed, with --media) before anything is written.
A new project is then written PART_ROWS entries per short transaction, hidden until the last
(staged_import.py); entries added to an existing project are written in one bulk transaction.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.import_clips import checked_media, clip_row
from annotation_db.models import Clip, ProjectKind, Verdict, VerdictKind
from annotation_db.projects import check_project_name, ensure_project, existing_project
from annotation_db.reports import (ImportPlan, ImportReport, Progress, insert_rows, planned, reading,
                                   row_values)
from annotation_db.users import system_user
from core.errors import InputError
from core.media import MEDIA_SUFFIXES
from core.vggsound import check_box, read_vggss_entries

PART_ROWS = 1000  # entries per write transaction of a new project (about 50 ms of SQLite's write lock)


def plan_vggss(project: str, path: str | Path, media: str | Path | None = None, skip_bad: bool = False,
               progress: Progress = None, *, session: Session | None = None) -> ImportPlan:
    """Read and check a VGG-SS JSON (no write transaction); the plan adds each new entry's clip and boxes."""
    path = Path(path)
    report = ImportReport(project=project, source=str(path))
    entries = read_vggss_entries(path)
    with reading(session) as reader:
        existing = existing_project(reader, project, ProjectKind.localization)
        if existing is None:
            check_project_name(project)  # a new project: refused before anything is written
        taken = clip_keys(reader, existing.id) if existing else set()
    checked = [_checked_boxes(entry, index, report) for index, entry in enumerate(entries)]
    report.refuse([p for _, problems in checked for p in problems], skip_bad, str(path))
    rows = []
    for done, (entry, (boxes, _)) in enumerate(zip(entries, checked)):
        if progress and done % 200 == 0:
            progress(done, len(entries), f"checking {entry['file']}")
        if entry["file"] in taken:
            report.warnings.append(f"{entry['file']}: already in the project, left unchanged")
            continue
        taken.add(entry["file"])
        media_path, info = _media_for(entry["file"], media, report)
        rows.append((row_values(clip_row(0, entry["file"], media_path, info, None, str(entry["class"]))),
                     [list(b) for b in boxes]))

    def write_rows(session: Session, project_id: int, part: list[tuple[dict, list]]) -> None:
        keys = [clip["key"] for clip, _ in part]
        insert_rows(session, Clip, [{**clip, "project_id": project_id} for clip, _ in part])
        ids = dict(session.exec(select(Clip.key, Clip.id).where(Clip.project_id == project_id,
                                                                 Clip.key.in_(keys))).all())
        verdict = row_values(Verdict(project_id=project_id, user_id=system_user(session).id,
                                     kind=VerdictKind.boxes, clip_id=0, cannot_localise=False,
                                     source=f"import:{path.name}"))
        insert_rows(session, Verdict, [{**verdict, "clip_id": ids[clip["key"]], "boxes": boxes}
                                       for clip, boxes in part])
        report.created["clips"] += len(part)
        report.created["boxes"] += sum(len(boxes) for _, boxes in part)

    def write(session: Session, report: ImportReport) -> None:
        target = ensure_project(session, project, ProjectKind.localization)
        now_taken = clip_keys(session, target.id)  # someone may have imported some meanwhile
        for clip, _ in rows:
            if clip["key"] in now_taken:
                report.warnings.append(f"{clip['key']}: already in the project, left unchanged")
        write_rows(session, target.id, [(clip, boxes) for clip, boxes in rows if clip["key"] not in now_taken])

    missing = sum(clip["media_path"] is None for clip, _ in rows)
    if missing:
        report.warnings.append(f"{missing} clip(s) have no media file; their boxes are "
                               "kept and can be exported, but they cannot be played")
    parts = [partial(write_rows, part=rows[start:start + PART_ROWS]) for start in range(0, len(rows), PART_ROWS)]
    return ImportPlan(report, write, new_project=None if existing else ProjectKind.localization, parts=parts,
                      progress=progress)


@planned(plan_vggss)
def import_vggss(session: Session, project: str, path: str | Path,
                 media: str | Path | None = None, skip_bad: bool = False,
                 progress: Progress = None) -> ImportReport:
    """Add every entry of a VGG-SS JSON; clips whose media is missing keep their boxes."""
    return plan_vggss(project, path, media, skip_bad, progress, session=session).apply(session)


def clip_keys(session: Session, project_id: int) -> set[str]:
    """The clip keys already in a project."""
    return set(session.exec(select(Clip.key).where(Clip.project_id == project_id)))


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
