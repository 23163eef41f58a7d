"""DB services of the sync review page: the queue, sync verdicts and the tolerance study (appendix 6.C)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.assignment import complete_assignment, hold_lease, next_assignment
from annotation_db.engine import session_scope
from annotation_db.models import Assignment, Clip, Project, ProjectKind, Proposal, User, Verdict, VerdictKind
from annotation_db.projects import get_project, list_projects
from annotation_db.users import get_user
from annotation_db.verdicts import MAX_OFFSET_FRAMES, counted_verdict, record_verdict
from core.config import get_settings
from core.media import write_shifted

TOLERANCE_NOTE = "tolerance-study"  # sync verdicts of the tolerance study: offset_frames is the offset shown


@dataclass(frozen=True)
class SyncItem:
    """A leased clip and the model's latest proposal on it (plain values, no ORM objects)."""

    assignment_id: int
    clip_id: int
    key: str
    label: str | None
    media_path: str
    proposal_id: int | None
    offset_frames: int  # the model's best offset when it is confident, else 0
    scores: dict[int, float]
    curve: list[list[float]]
    model_version: str | None
    confident: bool | None = None  # False: the model cannot tell (its best offset is not proposed)


def sync_projects() -> list[str]:
    """Names of the synchronisation projects."""
    with session_scope() as session:
        return sorted(p.name for p in list_projects(session, ProjectKind.sync))


def next_sync_item(session: Session, project: Project, user: User) -> SyncItem | None:
    """The user's leased clip (most uncertain first), or None when the queue is empty."""
    assignment = next_assignment(session, project, user)
    while assignment is not None:
        clip = session.get(Clip, assignment.clip_id)
        if clip.media_path:
            return _item(session, assignment, clip)
        complete_assignment(session, assignment)  # nothing to play: skip it
        session.flush()
        assignment = next_assignment(session, project, user)
    return None


def _item(session: Session, assignment: Assignment, clip: Clip) -> SyncItem:
    proposal = session.exec(select(Proposal).where(Proposal.clip_id == clip.id)
                            .order_by(Proposal.id.desc())).first()
    payload = (proposal.payload or {}) if proposal else {}
    return SyncItem(assignment_id=assignment.id, clip_id=clip.id, key=clip.key, label=clip.label,
                    media_path=clip.media_path, proposal_id=proposal.id if proposal else None,
                    offset_frames=int(payload.get("offset_frames", 0)) if payload.get("confident", True) else 0,
                    scores={int(k): float(v) for k, v in (payload.get("scores") or {}).items()},
                    curve=list(payload.get("curve") or []),
                    model_version=proposal.model_version if proposal else None,
                    confident=payload.get("confident"))


def save_sync_verdict(session: Session, user: User, project: Project, item: SyncItem, category: str,
                      in_sync: bool | None = None, offset_frames: int | None = None,
                      finish: bool = True) -> Verdict:
    """Store the annotator's answer on a clip; with finish, the clip's lease is completed.

    ItemReassigned (nothing stored) if the lease expired and the clip went to someone else.
    """
    lease = hold_lease(session, project, user, item.clip_id, item.assignment_id)
    if category != "evident":
        in_sync, offset_frames = None, None
    elif in_sync:
        offset_frames = 0
    verdict = record_verdict(session, user, project, VerdictKind.sync, clip_id=item.clip_id,
                             proposal_id=item.proposal_id, category=category, in_sync=in_sync,
                             offset_frames=offset_frames)
    if finish and lease is not None and lease.completed_at is None:
        complete_assignment(session, lease)
    return verdict


# ---- tolerance study (appendix 6.C) ----


@dataclass(frozen=True)
class ToleranceTrial:
    """A clip to play at a random offset, with the question "is this in sync?"."""

    clip_id: int
    key: str
    media_path: str
    offset_frames: int


def tolerance_trial(session: Session, project: Project, rng: random.Random) -> ToleranceTrial | None:
    """A random clip with media (evident ones if any were judged so) at a random offset in -15..15."""
    clips = session.exec(select(Clip).where(Clip.project_id == project.id, Clip.media_path.is_not(None))).all()
    evident = set(session.exec(select(Verdict.clip_id).where(
        Verdict.project_id == project.id, Verdict.kind == VerdictKind.sync, counted_verdict(),
        Verdict.category == "evident", Verdict.note != TOLERANCE_NOTE)))
    pool = [c for c in clips if c.id in evident] or list(clips)
    if not pool:
        return None
    clip = rng.choice(pool)
    return ToleranceTrial(clip.id, clip.key, clip.media_path,
                          rng.randint(-MAX_OFFSET_FRAMES, MAX_OFFSET_FRAMES))


def save_tolerance_answer(session: Session, user: User, project: Project, trial: ToleranceTrial,
                          looks_in_sync: bool) -> Verdict:
    """A sync verdict noted "tolerance-study" whose offset_frames is the offset that was shown."""
    return record_verdict(session, user, project, VerdictKind.sync, clip_id=trial.clip_id,
                          category="evident", in_sync=looks_in_sync, offset_frames=trial.offset_frames,
                          note=TOLERANCE_NOTE, source="app:tolerance-study")


def tolerance_histogram(session: Session, project: Project) -> dict[int, tuple[int, int]]:
    """{offset shown: (answers "in sync", all answers)} of the tolerance study (Figure 6.5)."""
    rows = session.exec(select(Verdict.offset_frames, Verdict.in_sync).where(
        Verdict.project_id == project.id, Verdict.kind == VerdictKind.sync, counted_verdict(),
        Verdict.note == TOLERANCE_NOTE)).all()
    totals, synced = Counter(), Counter()
    for offset, in_sync in rows:
        totals[int(offset)] += 1
        synced[int(offset)] += bool(in_sync)
    return {offset: (synced[offset], totals[offset]) for offset in sorted(totals)}


def review_verdicts(session: Session, project: Project) -> list[Verdict]:
    """The project's sync verdicts from the review itself (tolerance-study answers left out)."""
    return list(session.exec(select(Verdict).where(
        Verdict.project_id == project.id, Verdict.kind == VerdictKind.sync, counted_verdict(),
        Verdict.note != TOLERANCE_NOTE).order_by(Verdict.id)))


# ---- page services: ids and names in, plain values out, one transaction each ----


def claim_sync_item(project_name: str, user_id: int) -> SyncItem | None:
    """The user's leased clip of the project (leased now if need be), or None when the queue is empty."""
    with session_scope(immediate=True) as session:
        return next_sync_item(session, get_project(session, project_name), get_user(session, user_id))


def save_sync(project_name: str, user_id: int, item: SyncItem, category: str, in_sync: bool | None = None,
              offset_frames: int | None = None) -> int:
    """Store the answer on a leased clip and complete its lease; returns the verdict id."""
    with session_scope(immediate=True) as session:
        return save_sync_verdict(session, get_user(session, user_id), get_project(session, project_name), item,
                                 category, in_sync, offset_frames).id


def draw_tolerance_trial(project_name: str, rng: random.Random) -> ToleranceTrial | None:
    """tolerance_trial() of the named project."""
    with session_scope() as session:
        return tolerance_trial(session, get_project(session, project_name), rng)


def save_tolerance(project_name: str, user_id: int, trial: ToleranceTrial, looks_in_sync: bool) -> int:
    """Store one tolerance-study answer; returns the verdict id."""
    with session_scope(immediate=True) as session:
        return save_tolerance_answer(session, get_user(session, user_id), get_project(session, project_name),
                                     trial, looks_in_sync).id


def tolerance_results(project_name: str) -> dict[int, tuple[int, int]]:
    """tolerance_histogram() of the named project."""
    with session_scope() as session:
        return tolerance_histogram(session, get_project(session, project_name))


# ---- media ----


def shifted_media(media_path: str | Path, clip_id: int, offset_frames: int) -> Path:
    """The clip with its audio offset_frames / 25 s late, cut once into the data dir's cache."""
    if abs(int(offset_frames)) > MAX_OFFSET_FRAMES:
        raise ValueError(f"offset_frames must lie in -{MAX_OFFSET_FRAMES}..{MAX_OFFSET_FRAMES}")
    source = Path(media_path)
    target = get_settings().cache_dir / "sync" / f"{clip_id}_{source.stem}_{int(offset_frames):+d}.mp4"
    if not target.is_file():  # core.media writes beside it and moves it in: no request sees half a file
        write_shifted(source, target, int(offset_frames))
    return target
