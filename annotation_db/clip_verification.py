"""VGG-Sound curation stage 4 (thesis 4.3.4): per-class samples, Yes / No / Not sure, class report.

A fixed sample of clips per class (20 by default) is watched and heard; a class is kept when at
least half of its sample is confirmed. Clips a researcher sent from the curation page (the ones the
automatic filter is least sure about) are asked about too, before the sample; they are not part of
the random sample, so they do not bias the class decision: the class report counts the sample only.

The thesis says "classes with at least 50% correct are kept" and does not say how LISA's "Not sure" (5.B.1) counts; here Not sure counts as not
confirmed, i.e. it stays in the denominator (share = Yes / answered), unless
`VerificationConfig.not_sure_in_denominator` is False (share = Yes / (Yes + No)).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, select

from annotation_db.assignment import ClipInfo, complete_assignment, hold_lease, next_assignment
from annotation_db.engine import session_scope
from annotation_db.models import (Answer, Assignment, Clip, CurationDecision, Project, ProjectKind, User,
                                  Verdict, VerdictKind, as_utc)
from annotation_db.projects import list_projects
from annotation_db.verdicts import VerdictError, record_verdict

KEPT, DROPPED, UNDECIDED = "kept", "dropped", "undecided"
CLASS_COLUMNS = ("class", "sampled", "answered", "yes", "no", "not_sure", "share_yes", "decision",
                 "settled")
VERDICT_COLUMNS = ("clip_key", "youtube_id", "start_seconds", "label", "in_sample", "annotator",
                   "answer", "time")


@dataclass(frozen=True)
class VerificationConfig:
    """How stage 4 samples and decides (thesis 4.3.4)."""

    sample_size: int = 20  # clips checked per class
    keep_share: float = 0.5  # a class is kept with at least this share of Yes
    seed: int = 0  # the sample is a function of (seed, class, clip key) only
    not_sure_in_denominator: bool = True  # Not sure counts as "not confirmed"


DEFAULT_CONFIG = VerificationConfig()


@dataclass(frozen=True)
class ClassReport:
    """One class: its sample, the answers so far and the keep / drop decision."""

    label: str
    sampled: int
    answered: int  # sampled clips with at least one answer
    yes: int
    no: int
    not_sure: int
    share_yes: float | None  # None while nothing counts towards the denominator
    decision: str  # kept | dropped | undecided (no countable answer yet)
    settled: bool  # the remaining sampled clips cannot change the decision


@dataclass(frozen=True)
class ScopeProgress:
    """Progress of one class (or all classes) of a project's sample."""

    sampled: int
    answered: int
    by_me: int


@dataclass(frozen=True)
class VerificationReport:
    """A project's class report and its per-clip verdicts as CSV, read together."""

    classes: list[ClassReport]
    verdicts_csv: str


def verification_projects() -> dict[str, int]:
    """{name: id} of the clip-verification projects, oldest first."""
    with session_scope() as session:
        return {p.name: p.id for p in list_projects(session, ProjectKind.clip_verification)}


def class_samples(session: Session, project_id: int,
                  config: VerificationConfig = DEFAULT_CONFIG) -> dict[str, list[int]]:
    """Per class (sorted), the ids of its sampled clips in import order (all, if fewer).

    Only labelled clips with media can be checked. Each clip's rank is a hash of (seed, class,
    key), so every annotator gets the same sample, and adding clips to a class later displaces
    at most as many sampled clips as were added.
    """
    rows = session.exec(select(Clip.id, Clip.key, Clip.label).where(
        Clip.project_id == project_id, Clip.label.is_not(None), Clip.media_path.is_not(None)))
    by_class: dict[str, list[tuple[int, str]]] = {}
    for clip_id, key, label in rows:
        by_class.setdefault(label, []).append((clip_id, key))
    samples = {}
    for label in sorted(by_class):
        ranked = sorted(by_class[label], key=lambda item: _rank(config.seed, label, item[1]))
        samples[label] = sorted(clip_id for clip_id, _ in ranked[:config.sample_size])
    return samples


def _rank(seed: int, label: str, key: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{label}\x1f{key}".encode()).hexdigest()


def sample_ids(session: Session, project_id: int, label: str | None = None,
               config: VerificationConfig = DEFAULT_CONFIG) -> set[int]:
    """Clip ids of one class's sample, or of every class's sample when label is None."""
    samples = class_samples(session, project_id, config)
    chosen = samples.values() if label is None else [samples.get(label, [])]
    return {clip_id for ids in chosen for clip_id in ids}


def next_clip(session: Session, project_id: int, user_id: int, label: str | None = None,
              config: VerificationConfig = DEFAULT_CONFIG, now: datetime | None = None
              ) -> Clip | None:
    """The clip leased to this user next, or None when done: their open lease, else a requested clip
    (sent from the curation page), else a sampled one.

    Skips clips the user already answered; others' live leases are respected. Call inside
    `session_scope(immediate=True)`.
    """
    project, user = _project(session, project_id), _user(session, user_id)
    answered = set(session.exec(select(Verdict.clip_id).where(
        Verdict.project_id == project_id, Verdict.kind == VerdictKind.clip,
        Verdict.user_id == user_id)))
    requested = requested_ids(session, project_id, label) - answered
    among = (sample_ids(session, project_id, label, config) | requested) - answered
    assignment = None
    if requested:  # requested clips first; a clip the user is already on stays theirs
        holding = {lease.clip_id for lease in session.exec(select(Assignment).where(
            Assignment.project_id == project_id, Assignment.user_id == user_id,
            Assignment.completed_at.is_(None), Assignment.released_at.is_(None)))}
        assignment = next_assignment(session, project, user, now=now, among=requested | (holding & among))
    if assignment is None:
        assignment = next_assignment(session, project, user, now=now, among=among)
    return session.get(Clip, assignment.clip_id) if assignment else None


def requested_ids(session: Session, project_id: int, label: str | None = None) -> set[int]:
    """Ids of the clips sent to clip verification from a curation (labelled, with media), of one class or all."""
    query = select(CurationDecision.clip_id).join(Clip, Clip.id == CurationDecision.clip_id).where(
        CurationDecision.project_id == project_id, CurationDecision.requested_at.is_not(None),
        Clip.label.is_not(None), Clip.media_path.is_not(None))
    if label is not None:
        query = query.where(Clip.label == label)
    return set(session.exec(query.distinct()))


def get_clip(session: Session, project_id: int, clip_id: int) -> Clip:
    """One clip of the project (e.g. to change an answer); VerdictError if it is not there."""
    clip = session.get(Clip, clip_id)
    if clip is None or clip.project_id != project_id:
        raise VerdictError(f"clip {clip_id} is not in project {project_id}")
    return clip


def save_answer(session: Session, project_id: int, user_id: int, clip_id: int,
                answer: Answer | str) -> Verdict:
    """Store the user's Yes / No / Not sure on a clip and complete their lease on it.

    ItemReassigned (nothing stored) if the user's lease expired and the clip went to someone else.
    """
    user, project = _user(session, user_id), _project(session, project_id)
    hold_lease(session, project, user, clip_id)
    verdict = record_verdict(session, user, project, VerdictKind.clip, clip_id=clip_id, answer=Answer(answer))
    for lease in session.exec(select(Assignment).where(
            Assignment.project_id == project_id, Assignment.user_id == user_id,
            Assignment.clip_id == clip_id, Assignment.completed_at.is_(None),
            Assignment.released_at.is_(None))):
        complete_assignment(session, lease)
    return verdict


def class_report(session: Session, project_id: int,
                 config: VerificationConfig = DEFAULT_CONFIG) -> list[ClassReport]:
    """Per class (sorted): sample size, answer counts, share of Yes and keep / drop."""
    samples = class_samples(session, project_id, config)
    answers = clip_answers(session, project_id)
    return [class_decision(label, len(ids), Counter(answers[i] for i in ids if i in answers),
                           config)
            for label, ids in samples.items()]


def class_decision(label: str, sampled: int, counts: Counter,
                   config: VerificationConfig = DEFAULT_CONFIG) -> ClassReport:
    """The report row of a class from its sample size and per-clip answer counts."""
    yes, no, not_sure = (counts.get(a, 0) for a in (Answer.yes, Answer.no, Answer.not_sure))
    remaining = sampled - yes - no - not_sure
    share = _share(yes, no, not_sure, config)
    best = _share(yes + remaining, no, not_sure, config)
    worst = _share(yes, no + remaining, not_sure, config)
    keep = config.keep_share
    decision = UNDECIDED if share is None else KEPT if share >= keep else DROPPED
    settled = best is not None and worst is not None and (worst >= keep or best < keep)
    return ClassReport(label, sampled, yes + no + not_sure, yes, no, not_sure, share, decision,
                       settled)


def _share(yes: int, no: int, not_sure: int, config: VerificationConfig) -> float | None:
    counted = yes + no + (not_sure if config.not_sure_in_denominator else 0)
    return yes / counted if counted else None


def clip_answers(session: Session, project_id: int) -> dict[int, Answer]:
    """Per clip, the answer of its annotators: the majority of their latest answers.

    A tie between different answers (possible with overlapping annotators) counts as Not sure.
    """
    by_clip: dict[int, list[Answer]] = {}
    for verdict, _ in _latest_clip_verdicts(session, project_id):
        by_clip.setdefault(verdict.clip_id, []).append(verdict.answer)
    return {clip_id: _majority(answers) for clip_id, answers in by_clip.items()}


def _majority(answers: list[Answer]) -> Answer:
    (top, n), *rest = Counter(answers).most_common()
    return Answer.not_sure if rest and rest[0][1] == n else top


def _latest_clip_verdicts(session: Session, project_id: int) -> list[tuple[Verdict, str]]:
    """Each person's latest clip verdict per clip (system accounts left out), with their name."""
    rows = session.exec(select(Verdict, User.name).join(User, User.id == Verdict.user_id).where(
        Verdict.project_id == project_id, Verdict.kind == VerdictKind.clip,
        User.is_system.is_(False)).order_by(Verdict.id)).all()
    latest = {(verdict.clip_id, verdict.user_id): (verdict, name) for verdict, name in rows}
    return list(latest.values())


def scope_progress(session: Session, project_id: int, user_id: int, label: str | None = None,
                   config: VerificationConfig = DEFAULT_CONFIG) -> ScopeProgress:
    """Clips to ask about of one class (or all): the sample and the requested clips; how many have an
    answer, how many are this user's."""
    ids = sample_ids(session, project_id, label, config) | requested_ids(session, project_id, label)
    latest = _latest_clip_verdicts(session, project_id)
    answered = {v.clip_id for v, _ in latest if v.clip_id in ids}
    mine = {v.clip_id for v, _ in latest if v.clip_id in ids and v.user_id == user_id}
    return ScopeProgress(len(ids), len(answered), len(mine))


def classes_csv(rows: Iterable[ClassReport], decision: str | None = None) -> str:
    """The class report as CSV (one class a line), optionally only the kept or dropped ones."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CLASS_COLUMNS)
    for row in rows:
        if decision is None or row.decision == decision:
            values = asdict(row)
            share = "" if row.share_yes is None else f"{row.share_yes:.4f}"
            writer.writerow([row.label, *(values[c] for c in CLASS_COLUMNS[1:6]), share,
                             row.decision, str(row.settled).lower()])
    return buffer.getvalue()


def verdicts_csv(session: Session, project_id: int,
                 config: VerificationConfig = DEFAULT_CONFIG) -> str:
    """Every person's latest answer per clip as CSV, oldest first, with the clip's VGG-Sound id."""
    in_sample = sample_ids(session, project_id, None, config)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(VERDICT_COLUMNS)
    latest = sorted(_latest_clip_verdicts(session, project_id), key=lambda pair: pair[0].id)
    clips = {clip.id: clip for clip in session.exec(select(Clip).where(
        Clip.id.in_({verdict.clip_id for verdict, _ in latest})))}
    for verdict, name in latest:
        clip = clips[verdict.clip_id]
        start = "" if clip.start_seconds is None else f"{clip.start_seconds:g}"
        writer.writerow([clip.key, clip.youtube_id or "", start, clip.label or "",
                         str(clip.id in in_sample).lower(), name, verdict.answer.value,
                         as_utc(verdict.created_at).isoformat()])
    return buffer.getvalue()


# ---- page services: ids in, plain values out, one transaction each ----


def class_names(project_id: int, config: VerificationConfig = DEFAULT_CONFIG) -> list[str]:
    """The classes (sorted) that have a sample to verify."""
    with session_scope() as session:
        return list(class_samples(session, project_id, config))


def clip_to_verify(project_id: int, user_id: int, label: str | None = None, revisit: int | None = None,
                   config: VerificationConfig = DEFAULT_CONFIG) -> tuple[ClipInfo | None, ScopeProgress]:
    """The clip `revisit` (to change an answer), else next_clip(); with the scope's progress."""
    with session_scope(immediate=True) as session:
        if revisit is not None:
            clip = get_clip(session, project_id, revisit)
        else:
            clip = next_clip(session, project_id, user_id, label, config)
        return (None if clip is None else ClipInfo.of(clip),
                scope_progress(session, project_id, user_id, label, config))


def answer_clip(project_id: int, user_id: int, clip_id: int, answer: Answer | str) -> int:
    """save_answer() as its own transaction; returns the verdict id."""
    with session_scope(immediate=True) as session:
        return save_answer(session, project_id, user_id, clip_id, answer).id


def verification_report(project_id: int, config: VerificationConfig = DEFAULT_CONFIG) -> VerificationReport:
    """class_report() and verdicts_csv() of a project."""
    with session_scope() as session:
        return VerificationReport(class_report(session, project_id, config),
                                  verdicts_csv(session, project_id, config))


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.kind != ProjectKind.clip_verification:
        raise VerdictError(f"project {project_id} is not a clip-verification project")
    return project


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise VerdictError(f"no user with id {user_id}")
    return user
