"""Export a localisation project's boxes in the public VGG-SS JSON layout."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.models import Clip, VerdictKind
from annotation_db.projects import get_project
from annotation_db.users import require_exporter
from annotation_db.verdicts import latest_verdicts
from core.config import inside_data_dir


def vggss_entries(session: Session, project: str) -> list[dict]:
    """One {file, class, bbox} entry per clip that has boxes; people's boxes win over imported ones."""
    target = get_project(session, project)
    human = latest_verdicts(session, target.id, VerdictKind.boxes, humans_only=True)
    anyone = latest_verdicts(session, target.id, VerdictKind.boxes)
    clips = session.exec(select(Clip).where(Clip.project_id == target.id).order_by(Clip.id)).all()
    entries = []
    for clip in clips:
        verdict = human.get(clip.id) or anyone.get(clip.id)
        if verdict is not None:
            boxes = [] if verdict.cannot_localise else [list(map(float, b)) for b in verdict.boxes or []]
            entries.append({"file": clip.key, "class": clip.label, "bbox": boxes})
    return entries


def export_vggss(session: Session, project: str, out: str | Path, *, user=None) -> int:
    """Write the VGG-SS JSON for `project` to `out`; returns the number of entries.

    With `user` (a page's caller): AccessDenied unless a researcher or admin, and `out` must lie
    inside the data folder. Without (the command line): any path."""
    out = Path(out)
    if user is not None:
        require_exporter(user)
        out = inside_data_dir(out)
    entries = vggss_entries(session, project)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(entries), encoding="utf-8")
    return len(entries)
