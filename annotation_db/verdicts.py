"""Recording verdicts, and reading the latest one per item."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, select

from annotation_db.models import (Answer, Clip, GeometryAction, Instance, Project, Proposal,
                                  SyncCategory, User, Verdict, VerdictKind)

MAX_OFFSET_FRAMES = 15
# an undo (annotation_db.undo) keeps both rows: the verdict it takes back gets a source starting with
# UNDONE, and a marker row with source UNDO records who took it back and when; neither counts
UNDO = "undo"
UNDONE = "undone"


def counted_verdict():
    """The condition a verdict row counts under: not an undo marker, not taken back by one."""
    return and_(Verdict.source != UNDO, Verdict.source.not_like(f"{UNDONE}%"))


class VerdictError(ValueError):
    """A verdict that does not fit its kind, its item or its project."""


def record_verdict(session: Session, user: User, project: Project, kind: VerdictKind | str,
                   *, instance_id: int | None = None, clip_id: int | None = None,
                   proposal_id: int | None = None, source: str = "app", **fields: Any) -> Verdict:
    """Check and store one verdict; it supersedes the same person's earlier one on that item."""
    kind = VerdictKind(kind)
    _check_item(session, project, kind, instance_id, clip_id, proposal_id)
    _check_fields(kind, fields)
    verdict = Verdict(project_id=project.id, user_id=user.id, kind=kind, instance_id=instance_id,
                      clip_id=clip_id, proposal_id=proposal_id, source=source, **fields)
    session.add(verdict)
    session.flush()
    return verdict


def _check_item(session: Session, project: Project, kind: VerdictKind, instance_id: int | None,
                clip_id: int | None, proposal_id: int | None) -> None:
    if kind is VerdictKind.geometry:
        item = session.get(Instance, instance_id) if instance_id else None
        if item is None or clip_id is not None:
            raise VerdictError("a geometry verdict needs an instance_id of this project")
    else:
        item = session.get(Clip, clip_id) if clip_id else None
        if item is None or instance_id is not None:
            raise VerdictError(f"a {kind.value} verdict needs a clip_id of this project")
    if item.project_id != project.id:
        raise VerdictError(f"item belongs to another project than {project.name!r}")
    if proposal_id is not None:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None or (proposal.instance_id, proposal.clip_id) != (instance_id, clip_id):
            raise VerdictError("the proposal is not about this item")


def _check_fields(kind: VerdictKind, fields: dict[str, Any]) -> None:
    if kind is VerdictKind.geometry:
        action = GeometryAction(fields.get("action"))
        if action in (GeometryAction.accepted, GeometryAction.adjusted) and \
                not fields.get("final_geometry_wkt"):
            raise VerdictError(f"an {action.value} geometry verdict needs final_geometry_wkt")
    elif kind is VerdictKind.boxes:
        boxes = fields.get("boxes") or []
        if not boxes and not fields.get("cannot_localise"):
            raise VerdictError("give at least one box, or cannot_localise=True")
        for box in boxes:
            x1, y1, x2, y2 = (float(v) for v in box)
            if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
                raise VerdictError(f"box {box} is not [x1, y1, x2, y2] inside [0, 1]")
    elif kind in (VerdictKind.sound, VerdictKind.clip):
        fields["answer"] = Answer(fields.get("answer"))
    elif kind is VerdictKind.sync:
        category = SyncCategory(fields.get("category"))
        offset = fields.get("offset_frames")
        if category is SyncCategory.evident and fields.get("in_sync") is None:
            raise VerdictError("an evident clip needs in_sync (and offset_frames if not in sync)")
        if offset is not None and abs(int(offset)) > MAX_OFFSET_FRAMES:
            raise VerdictError(f"offset_frames must lie in -{MAX_OFFSET_FRAMES}..{MAX_OFFSET_FRAMES}")


def latest_verdicts(session: Session, project_id: int, kind: VerdictKind,
                    humans_only: bool = False) -> dict[int, Verdict]:
    """The most recent verdict of `kind` per item (instance or clip id) in a project."""
    item = Verdict.instance_id if kind is VerdictKind.geometry else Verdict.clip_id
    query = select(func.max(Verdict.id)).where(Verdict.project_id == project_id,
                                               Verdict.kind == kind, counted_verdict())
    if humans_only:
        query = query.join(User, User.id == Verdict.user_id).where(User.is_system.is_(False))
    rows = session.exec(select(Verdict).where(Verdict.id.in_(query.group_by(item)))).all()
    return {(v.instance_id if kind is VerdictKind.geometry else v.clip_id): v for v in rows}


def latest_proposals(session: Session, project_id: int) -> dict[int, Proposal]:
    """The most recent proposal per item (instance or clip id) in a project."""
    newest = select(func.max(Proposal.id)).where(Proposal.project_id == project_id) \
        .group_by(Proposal.instance_id, Proposal.clip_id)
    rows = session.exec(select(Proposal).where(Proposal.id.in_(newest))).all()
    return {(p.instance_id if p.instance_id is not None else p.clip_id): p for p in rows}


def latest_instance_proposals(session: Session, instance_ids: list[int]) -> dict[int, Proposal]:
    """The most recent proposal of each of these instances (one raster's worth: no project scan)."""
    if not instance_ids:
        return {}
    newest = select(func.max(Proposal.id)).where(Proposal.instance_id.in_(instance_ids)) \
        .group_by(Proposal.instance_id)
    return {p.instance_id: p for p in session.exec(select(Proposal).where(Proposal.id.in_(newest)))}
