"""Import audio-visual clips (and VGG-Sound labels) into a localisation, sync or verification project.

Every clip is found and probed before anything is written; the write is one short bulk transaction.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from annotation_db.models import Clip, ProjectKind
from annotation_db.projects import check_project_name, ensure_project, existing_project
from annotation_db.reports import ImportPlan, ImportReport, Progress, insert_rows, planned, reading, row_values
from core.errors import InputError
from core.media import MEDIA_SUFFIXES, MediaError, MediaInfo, probe
from core.vggsound import LabelRow, parse_clip_key, read_labels_csv

CLIP_TASKS = (ProjectKind.localization, ProjectKind.sync, ProjectKind.clip_verification)


def plan_clips(project: str, task: str, clips: str | Path, labels: str | Path | None = None,
               skip_bad: bool = False, progress: Progress = None, *,
               session: Session | None = None) -> ImportPlan:
    """Find and probe the clips (no write transaction); the plan adds every new one that has audio."""
    kind = ProjectKind(task)
    if kind not in CLIP_TASKS:
        raise ValueError(f"task must be one of {', '.join(k.value for k in CLIP_TASKS)}")
    report = ImportReport(project=project, source=str(clips))
    with reading(session) as reader:
        existing = existing_project(reader, project, kind)
        if existing is None:
            check_project_name(project)  # a new project: refused before anything is written
        taken = set(reader.exec(select(Clip.key).where(Clip.project_id == existing.id))) if existing else set()
    rows = read_labels_csv(labels) if labels else {}
    paths = find_media(clips)
    problems, seen, new = [], set(), []
    for done, path in enumerate(paths):
        if progress:
            progress(done, len(paths), f"probing {path.name}")
        key = path.stem
        if key in taken or key in seen:
            report.warnings.append(f"{path.name}: clip {key} is already in the project, skipped")
            continue
        try:
            info = checked_media(path)
        except InputError as exc:
            problems.append((str(path), exc.problem))
            continue
        new.append(row_values(clip_row(0, key, path, info, rows.get(key))))
        seen.add(key)
        if rows and key not in rows:
            report.warnings.append(f"{path.name}: no row in {Path(labels).name}; imported unlabelled")
    report.refuse(problems, skip_bad, str(clips))
    if not new and not report.warnings:
        raise InputError(clips, "no usable clip")
    missing = sorted(set(rows) - seen - taken)
    if missing:
        report.warnings.append(f"{len(missing)} labelled clip(s) have no media file: "
                               f"{', '.join(missing[:10])}")

    def write(session: Session, report: ImportReport) -> None:
        target = ensure_project(session, project, kind)
        now_taken = set(session.exec(select(Clip.key).where(Clip.project_id == target.id)))
        fresh = [row for row in new if row["key"] not in now_taken]
        for row in new:
            if row["key"] in now_taken:
                report.warnings.append(f"clip {row['key']} is already in the project, skipped")
        insert_rows(session, Clip, [{**row, "project_id": target.id} for row in fresh])
        report.created["clips"] += len(fresh)

    return ImportPlan(report, write)


@planned(plan_clips)
def import_clips(session: Session, project: str, task: str, clips: str | Path,
                 labels: str | Path | None = None, skip_bad: bool = False,
                 progress: Progress = None) -> ImportReport:
    """Add every mp4/mkv/webm under `clips` that has audio; nothing is written if it raises."""
    return plan_clips(project, task, clips, labels, skip_bad, progress, session=session).apply(session)


def find_media(path: str | Path) -> list[Path]:
    """Media files at `path` (a file, or a folder searched recursively), sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(path, "no such file or folder")
    found = sorted(p for p in path.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES)
    if not found:
        raise InputError(path, f"folder holds no {'/'.join(MEDIA_SUFFIXES)} files")
    return found


def checked_media(path: Path) -> MediaInfo:
    """Probe facts of a clip; InputError unless it has both a picture and a sound stream."""
    try:
        info = probe(path)
    except MediaError as exc:
        raise InputError(path, "cannot be read as media (unreadable or truncated)") from exc
    if not info.has_audio:
        raise InputError(path, "media has no audio stream")
    if not info.has_video:
        raise InputError(path, "media has no video stream")
    if info.duration <= 0:
        raise InputError(path, "media has zero duration")
    return info


def clip_row(project_id: int, key: str, path: Path | None, info: MediaInfo | None,
             label: LabelRow | None, label_text: str | None = None) -> Clip:
    """A Clip row from a file's probe facts and its label (either may be missing)."""
    parsed = parse_clip_key(key)
    return Clip(
        project_id=project_id, key=key, media_path=str(path.resolve()) if path else None,
        label=label.label if label else label_text, split=label.split if label else None,
        youtube_id=parsed[0] if parsed else None,
        start_seconds=float(parsed[1]) if parsed else None,
        duration=info.duration if info else None, fps=info.fps if info else None,
        sample_rate=info.sample_rate if info else None,
        width=info.width if info else None, height=info.height if info else None)
