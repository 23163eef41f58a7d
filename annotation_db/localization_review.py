"""DB services of the VGG-SS review pages: box queue, box and sound verdicts, agreement, consensus."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from annotation_db.assignment import ClipInfo, complete_assignment, hold_lease, next_assignment, refresh_queue_open
from annotation_db.engine import session_scope
from annotation_db.export_vggss import export_vggss
from annotation_db.models import (Assignment, Clip, Project, ProjectKind, Proposal, User, Verdict,
                                  VerdictKind)
from annotation_db.projects import get_project, list_projects
from annotation_db.users import get_user
from annotation_db.verdicts import counted_verdict, record_verdict
from core.localizer.metrics import box_mask, ciou, consensus_mask


@dataclass(frozen=True)
class ProposalInfo:
    """The model's latest proposal on a clip (plain values, no ORM object)."""

    id: int
    model_version: str
    uncertainty: float | None
    payload: dict

    @classmethod
    def of(cls, proposal: Proposal) -> ProposalInfo:
        """The plain view of a stored proposal."""
        return cls(proposal.id, proposal.model_version, proposal.uncertainty, dict(proposal.payload or {}))


@dataclass
class ClipTask:
    """What a review page shows for one clip (plain values, no ORM objects)."""

    clip: ClipInfo
    assignment_id: int | None
    proposal: ProposalInfo | None
    reference_boxes: list[list[float]] | None  # imported (e.g. the public VGG-SS file)
    my_boxes: list[list[float]] | None  # this user's latest boxes ([] if cannot be localised), None if none
    people_boxes: list[list[float]] | None = None  # the latest boxes by any person, None if none

    @property
    def has_media(self) -> bool:
        return self.clip.media_path is not None

    @property
    def model_boxes(self) -> list[list[float]]:
        """The proposal's boxes without their scores."""
        return [b[:4] for b in self.proposal.payload.get("boxes", [])] if self.proposal else []

    @property
    def heatmap_path(self) -> str | None:
        return self.proposal.payload.get("heatmap_path") if self.proposal else None

    def starting_boxes(self) -> list[list[float]]:
        """The boxes the editor opens with: mine, else the reference, else the model's."""
        if self.my_boxes is not None:
            return list(self.my_boxes)
        return list(self.reference_boxes or self.model_boxes)


@dataclass
class ClassAgreement:
    """Agreement between pairs of annotators over the clips of one class."""

    label: str
    clips: int
    mean_ciou: float
    cious: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class AgreementOverview:
    """What the agreement page shows for one project."""

    annotators_per_item: int
    agreement: list[ClassAgreement]
    clips: list[ClipInfo]  # boxed by at least two people
    boxes: dict[int, dict[int, list[list[float]]]]  # {clip id: {user id: boxes}}
    names: dict[int, str]  # {user id: name}


def localization_projects() -> list[str]:
    """Names of the localisation projects, oldest first."""
    with session_scope() as session:
        return [p.name for p in list_projects(session, ProjectKind.localization)]


def _user_boxes(session: Session, project_id: int, clip_id: int, user_id: int) -> Verdict | None:
    return session.exec(select(Verdict).where(
        Verdict.project_id == project_id, Verdict.clip_id == clip_id, Verdict.user_id == user_id,
        Verdict.kind == VerdictKind.boxes, counted_verdict()).order_by(Verdict.id.desc())).first()


def _boxes_of(verdict: Verdict | None) -> list[list[float]] | None:
    if verdict is None:
        return None
    return [] if verdict.cannot_localise else list(verdict.boxes or [])


def _reference_boxes(session: Session, project_id: int, clip_id: int) -> list[list[float]] | None:
    row = session.exec(select(Verdict).join(User, User.id == Verdict.user_id).where(
        Verdict.project_id == project_id, Verdict.clip_id == clip_id, Verdict.kind == VerdictKind.boxes,
        User.is_system.is_(True), counted_verdict()).order_by(Verdict.id.desc())).first()
    return None if row is None else list(row.boxes or [])


def _latest_proposal(session: Session, clip_id: int) -> Proposal | None:
    return session.exec(select(Proposal).where(Proposal.clip_id == clip_id)
                        .order_by(Proposal.id.desc())).first()


def clip_task(session: Session, project: Project, clip: Clip, user: User,
              assignment_id: int | None = None) -> ClipTask:
    """Everything the pages show for one clip and user."""
    people = session.exec(select(Verdict).join(User, User.id == Verdict.user_id).where(
        Verdict.project_id == project.id, Verdict.clip_id == clip.id, Verdict.kind == VerdictKind.boxes,
        User.is_system.is_(False), counted_verdict()).order_by(Verdict.id.desc())).first()
    proposal = _latest_proposal(session, clip.id)
    return ClipTask(ClipInfo.of(clip), assignment_id, None if proposal is None else ProposalInfo.of(proposal),
                    _reference_boxes(session, project.id, clip.id),
                    _boxes_of(_user_boxes(session, project.id, clip.id, user.id)),
                    None if people is None else list(people.boxes or []))


def next_box_task(session: Session, project: Project, user: User) -> ClipTask | None:
    """The user's leased clip (or a new lease, most uncertain first) for stage 2; None when done.

    Call inside `session_scope(immediate=True)`.
    """
    assignment = next_assignment(session, project, user)
    if assignment is None:
        return None
    return clip_task(session, project, session.get(Clip, assignment.clip_id), user, assignment.id)


def save_boxes(session: Session, user: User, project: Project, task_clip_id: int,
               boxes: list[list[float]], cannot_localise: bool = False,
               proposal_id: int | None = None, assignment_id: int | None = None) -> Verdict:
    """Record a stage-2 verdict (boxes, or cannot be localised) and close the lease.

    ItemReassigned (nothing stored) if the lease expired and the clip went to someone else.
    """
    hold_lease(session, project, user, task_clip_id, assignment_id)
    verdict = record_verdict(session, user, project, VerdictKind.boxes, clip_id=task_clip_id,
                             proposal_id=proposal_id, boxes=[] if cannot_localise else boxes,
                             cannot_localise=cannot_localise)
    _complete(session, assignment_id, user)
    return verdict


def skip_clip(session: Session, user: User, assignment_id: int | None) -> None:
    """Give back a leased clip without a verdict (e.g. its media is missing)."""
    _complete(session, assignment_id, user)


def _complete(session: Session, assignment_id: int | None, user: User) -> None:
    if assignment_id is None:
        return
    assignment = session.get(Assignment, assignment_id)
    if (assignment is not None and assignment.user_id == user.id and assignment.completed_at is None
            and assignment.released_at is None):  # a released lease is someone else's item now
        complete_assignment(session, assignment)


def next_sound_task(session: Session, project: Project, user: User) -> ClipTask | None:
    """Stage 3: the first clip with media and people's boxes that this user has not checked yet."""
    boxed = session.exec(select(Verdict.clip_id).join(User, User.id == Verdict.user_id).where(
        Verdict.project_id == project.id, Verdict.kind == VerdictKind.boxes,
        User.is_system.is_(False), Verdict.cannot_localise.is_not(True), counted_verdict())).all()
    answered = set(session.exec(select(Verdict.clip_id).where(
        Verdict.project_id == project.id, Verdict.kind == VerdictKind.sound, Verdict.user_id == user.id,
        counted_verdict())))
    for clip_id in sorted(set(boxed) - answered):
        clip = session.get(Clip, clip_id)
        if clip.media_path is not None:
            return clip_task(session, project, clip, user)
    return None


def save_sound(session: Session, user: User, project: Project, clip_id: int, answer: str) -> Verdict:
    """Record a stage-3 answer: does the boxed object make this sound (yes / no / not_sure)?"""
    return record_verdict(session, user, project, VerdictKind.sound, clip_id=clip_id, answer=answer)


def boxes_by_annotator(session: Session, project: Project) -> dict[int, dict[int, list[list[float]]]]:
    """{clip id: {user id: latest boxes}} of people's verdicts (cannot-localise ones left out)."""
    rows = session.exec(select(Verdict).join(User, User.id == Verdict.user_id).where(
        Verdict.project_id == project.id, Verdict.kind == VerdictKind.boxes,
        User.is_system.is_(False), counted_verdict()).order_by(Verdict.id)).all()
    latest: dict[int, dict[int, Verdict]] = defaultdict(dict)
    for verdict in rows:
        latest[verdict.clip_id][verdict.user_id] = verdict
    return {clip: {user: list(v.boxes) for user, v in users.items() if not v.cannot_localise and v.boxes}
            for clip, users in latest.items()}


def pair_ciou(first: list[list[float]], second: list[list[float]]) -> float:
    """cIoU of one annotator's boxes taken as the prediction against another's (= their mask IoU)."""
    return ciou(box_mask(first), box_mask(second))


def agreement_by_class(session: Session, project: Project) -> list[ClassAgreement]:
    """Mean pairwise cIoU between annotators, per class, over clips boxed by at least two people."""
    labels = dict(session.exec(select(Clip.id, Clip.label).where(Clip.project_id == project.id)).all())
    per_class: dict[str, list[float]] = defaultdict(list)
    for clip_id, users in boxes_by_annotator(session, project).items():
        annotations = list(users.values())
        if len(annotations) < 2:
            continue
        pairs = [pair_ciou(a, b) for i, a in enumerate(annotations) for b in annotations[i + 1:]]
        per_class[labels.get(clip_id) or "(no label)"].append(float(np.mean(pairs)))
    return [ClassAgreement(label, len(v), float(np.mean(v)), v) for label, v in sorted(per_class.items())]


def overlap_clips(session: Session, project: Project) -> list[ClipInfo]:
    """Clips boxed by at least two people."""
    ids = [c for c, users in boxes_by_annotator(session, project).items() if len(users) >= 2]
    if not ids:
        return []
    return [ClipInfo.of(clip) for clip in session.exec(select(Clip).where(Clip.id.in_(ids)).order_by(Clip.id))]


def clip_consensus(session: Session, project: Project, clip_id: int, size: int = 224) -> np.ndarray:
    """The consensus mask g = min(sum_j b_j / C, 1) of the people who boxed a clip (thesis 5.A)."""
    annotations = list(boxes_by_annotator(session, project).get(clip_id, {}).values())
    if not annotations:
        raise ValueError(f"clip {clip_id} has no people's boxes")
    return consensus_mask(annotations, size)


def set_overlap(session: Session, project: Project, annotators: int) -> None:
    """How many people box each clip (2 for the agreement study)."""
    if annotators < 1:
        raise ValueError("at least one annotator per clip")
    project.annotators_per_item = annotators
    session.add(project)
    session.flush()
    refresh_queue_open(session, project)


def user_names(session: Session) -> dict[int, str]:
    """{user id: name} of every account."""
    return dict(session.exec(select(User.id, User.name)).all())


# ---- page services: ids and names in, plain values out, one transaction each ----


def claim_box_task(project_name: str, user_id: int) -> ClipTask | None:
    """Stage 2: the user's leased clip of the project (leased now if need be), or None when done."""
    with session_scope(immediate=True) as session:
        return next_box_task(session, get_project(session, project_name), get_user(session, user_id))


def save_box_verdict(project_name: str, user_id: int, clip_id: int, boxes: list[list[float]],
                     cannot_localise: bool = False, proposal_id: int | None = None,
                     assignment_id: int | None = None) -> int:
    """Store a stage-2 verdict and close the lease; returns the verdict id."""
    with session_scope(immediate=True) as session:
        return save_boxes(session, get_user(session, user_id), get_project(session, project_name), clip_id,
                          boxes, cannot_localise=cannot_localise, proposal_id=proposal_id,
                          assignment_id=assignment_id).id


def skip_leased_clip(user_id: int, assignment_id: int | None) -> None:
    """Give back the user's leased clip without a verdict."""
    with session_scope(immediate=True) as session:
        skip_clip(session, get_user(session, user_id), assignment_id)


def sound_task(project_name: str, user_id: int) -> ClipTask | None:
    """Stage 3: next_sound_task() of the named project and user."""
    with session_scope() as session:
        return next_sound_task(session, get_project(session, project_name), get_user(session, user_id))


def save_sound_answer(project_name: str, user_id: int, clip_id: int, answer: str) -> int:
    """Store a stage-3 answer (yes / no / not_sure); returns the verdict id."""
    with session_scope(immediate=True) as session:
        return save_sound(session, get_user(session, user_id), get_project(session, project_name), clip_id,
                          answer).id


def agreement_overview(project_name: str) -> AgreementOverview:
    """Overlap setting, agreement per class, the doubly boxed clips, their boxes and the people's names."""
    with session_scope() as session:
        project = get_project(session, project_name)
        return AgreementOverview(project.annotators_per_item, agreement_by_class(session, project),
                                 overlap_clips(session, project), boxes_by_annotator(session, project),
                                 user_names(session))


def change_overlap(project_name: str, annotators: int) -> None:
    """set_overlap() on the named project."""
    with session_scope(immediate=True) as session:
        set_overlap(session, get_project(session, project_name), annotators)


def project_consensus(project_name: str, clip_id: int, size: int = 224) -> np.ndarray:
    """clip_consensus() on the named project."""
    with session_scope() as session:
        return clip_consensus(session, get_project(session, project_name), clip_id, size)


def export_boxes(project_name: str, out: str | Path) -> int:
    """Write the project's boxes as a VGG-SS JSON file to `out`; returns how many entries."""
    with session_scope() as session:
        return export_vggss(session, project_name, out)
