"""VGG-Sound curation of a clip-verification project (thesis 4.3.3-4.3.4): the curate jobs' per-clip
decisions, the project's stage-3 rules, the kept clips as a VGG-Sound CSV, and the clips a researcher
sends to the clip verification queue.

The per-clip records are those of training/audioclass/curate.py; the page's tables and histograms are
core/audioclass/curation_report.py's functions over the records of a project's latest curation.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from annotation_db.clip_verification import clip_answers
from annotation_db.engine import session_scope
from annotation_db.models import (Clip, CurationDecision, JobKind, JobStatus, Project, ProjectKind, Role,
                                  TrainingJob, User, as_utc, utcnow)
from annotation_db.users import get_user, require_exporter, require_role
from core.audioclass.curation_report import STAGES, class_table, label_probability_histogram, least_sure
from core.audioclass.verification import SOUNDS, VerificationRules
from core.vggsound import parse_clip_key

RULES_KEY = "curation_rules"  # Project.settings key of the stage-3 rules (VerificationRules.to_dict layout)
LEAST_SURE = 20  # clips listed for a researcher to send to clip verification
ACTIVE = (JobStatus.queued, JobStatus.running)


class CurationError(ValueError):
    """Bad input to a curation service; nothing was changed."""


@dataclass(frozen=True)
class CurationJob:
    """The state of a project's newest curate job (what the page shows while one runs)."""

    job_id: int
    status: str
    step: int
    total: int
    stage: str | None
    error: str | None


@dataclass(frozen=True)
class CurationView:
    """A project's latest finished curation, as the page shows it."""

    job_id: int
    finished_at: str | None
    counts: dict
    seconds: dict
    retrieval_features: str | None
    rules: dict | None
    totals: dict  # clips, kept and a count per deciding stage, over every class
    classes: list[dict]  # class_table(): class, clips, kept and a count per deciding stage
    histogram: dict  # label_probability_histogram(): edges, kept, removed
    least_sure: list[dict]  # least_sure() rows with clip_id, requested (bool) and people's answer (yes / no /
    # not_sure, None while unanswered)
    requested: int  # clips of this curation sent to clip verification


def vggsound_row(clip: Clip) -> tuple[str, int, str, str]:
    """(youtube_id, start, label, split) of a clip; a key that is not VGG-Sound's becomes <key>_000000."""
    parsed = parse_clip_key(clip.key)
    youtube_id, start = parsed if parsed else (clip.key, 0)
    return youtube_id, start, clip.label or "", clip.split or "train"


# ---- decisions ----


def store_decisions(session: Session, job_id: int, records: Iterable[dict], clip_ids: dict[str, int]) -> int:
    """Store one row per curated clip (records: curate()'s per-clip decisions; clip_ids: record key -> clip id);
    returns how many were stored. Unknown keys or clips of another project are refused before anything is
    written."""
    job = session.get(TrainingJob, job_id)
    if job is None or job.kind is not JobKind.curate or job.project_id is None:
        raise CurationError(f"job {job_id} is not a curate job of a project")
    records = list(records)
    missing = sorted({r["key"] for r in records} - set(clip_ids))
    if missing:
        raise CurationError(f"no clip for the curated key(s) {', '.join(missing[:5])}")
    ids = {clip_ids[r["key"]] for r in records}
    foreign = session.exec(select(func.count()).select_from(Clip).where(
        Clip.id.in_(sorted(ids)), Clip.project_id != job.project_id)).one()
    if foreign:
        raise CurationError(f"{foreign} curated clip(s) are not in project {job.project_id}")
    session.add_all(CurationDecision(job_id=job_id, project_id=job.project_id, clip_id=clip_ids[r["key"]],
                                     decided_by=r["decided_by"], kept=bool(r["kept"]), record=r)
                    for r in records)
    session.flush()
    return len(records)


def latest_curation_job(session: Session, project_id: int) -> TrainingJob | None:
    """The newest succeeded curate job of the project that stored decisions (None if there is none)."""
    return session.exec(select(TrainingJob).where(
        TrainingJob.project_id == project_id, TrainingJob.kind == JobKind.curate,
        TrainingJob.status == JobStatus.succeeded,
        select(CurationDecision.id).where(CurationDecision.job_id == TrainingJob.id).exists())
        .order_by(TrainingJob.id.desc())).first()


def job_decisions(session: Session, job_id: int) -> tuple[dict, dict[str, CurationDecision]]:
    """({"clips": records}, record key -> row) of one curate job, in clip order: what curation_report reads."""
    rows = session.exec(select(CurationDecision).where(CurationDecision.job_id == job_id)
                        .order_by(CurationDecision.clip_id)).all()
    return {"clips": [row.record for row in rows]}, {row.record["key"]: row for row in rows}


def request_verification(session: Session, user: User, project_id: int, clip_ids: Iterable[int]) -> int:
    """Send clips of the project's latest curation to the clip verification queue (researchers only); returns
    how many were newly sent. Clips not in that curation are refused and nothing is changed."""
    require_role(user, Role.researcher, Role.admin)
    _project(session, project_id)
    job = latest_curation_job(session, project_id)
    if job is None:
        raise CurationError(f"project {project_id} has no finished curation")
    wanted = set(clip_ids)
    if not wanted:
        raise CurationError("choose at least one clip to send")
    rows = session.exec(select(CurationDecision).where(CurationDecision.job_id == job.id,
                                                       CurationDecision.clip_id.in_(sorted(wanted)))).all()
    unknown = wanted - {row.clip_id for row in rows}
    if unknown:
        raise CurationError(f"clip(s) {', '.join(map(str, sorted(unknown)))} are not in curation job {job.id}")
    fresh = [row for row in rows if row.requested_at is None]
    now = utcnow()
    for row in fresh:
        row.requested_at, row.requested_by = now, user.id
        session.add(row)
    session.flush()
    return len(fresh)


def kept_csv(session: Session, user, project_id: int, job_id: int | None = None) -> str:
    """The kept clips of a curation (default: the latest) as a VGG-Sound CSV (youtube_id,start_seconds,label,
    split; no header); researchers and admins only."""
    require_exporter(user)
    job = session.get(TrainingJob, job_id) if job_id is not None else latest_curation_job(session, project_id)
    if job is None or job.project_id != project_id or job.kind is not JobKind.curate:
        raise CurationError(f"project {project_id} has no such finished curation")
    clips = session.exec(select(Clip).join(CurationDecision, CurationDecision.clip_id == Clip.id).where(
        CurationDecision.job_id == job.id, CurationDecision.kept.is_(True)).order_by(Clip.id)).all()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(vggsound_row(clip) for clip in clips)
    return buffer.getvalue()


# ---- stage-3 rules ----


def project_rules(session: Session, project_id: int) -> VerificationRules:
    """The project's stage-3 rules (default: every class rejects speech and music above 0.5)."""
    stored = (_project(session, project_id).settings or {}).get(RULES_KEY)
    return VerificationRules() if stored is None else VerificationRules.from_dict(stored)


def parse_rules(data: dict | str, classes: Iterable[str] | None = None) -> VerificationRules:
    """Rules from their JSON layout (a dict or its text), checked: CurationError names what is wrong.

    With `classes`, a rule for a class the project does not have is refused (a typo would never apply)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise CurationError(f"stage-3 rules are not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CurationError("stage-3 rules must be a JSON object")
    default, per_class = data.get("default", {}), data.get("classes", {})
    if not isinstance(default, dict) or not isinstance(per_class, dict) or \
            not all(isinstance(rule, dict) for rule in per_class.values()):
        raise CurationError('"default" and each of "classes" must be an object like {"reject": ["speech"]}')
    for rule in (default, *per_class.values()):
        reject = rule.get("reject", [])
        if isinstance(reject, str) or not all(isinstance(sound, str) for sound in reject):
            raise CurationError(f'"reject" must be a list of sounds among {", ".join(SOUNDS)}, not {reject!r}')
    try:
        rules = VerificationRules.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise CurationError(str(exc)) from None
    if not 0.0 < rules.threshold < 1.0:
        raise CurationError(f"threshold must lie between 0 and 1 (the thesis uses 0.5), not {rules.threshold}")
    if classes is not None:
        unknown = sorted(set(rules.classes) - set(classes))
        if unknown:
            raise CurationError(f"no class {', '.join(map(repr, unknown))} in this project")
    return rules


def save_rules(session: Session, user: User, project_id: int, data: dict | str) -> VerificationRules:
    """Check and store the project's stage-3 rules (researchers only); bad rules change nothing."""
    require_role(user, Role.researcher, Role.admin)
    project = _project(session, project_id)
    rules = parse_rules(data, project_classes(session, project_id))
    project.settings = {**(project.settings or {}), RULES_KEY: rules.to_dict()}
    session.add(project)
    session.flush()
    return rules


def project_classes(session: Session, project_id: int) -> list[str]:
    """The labels of the project's clips, sorted."""
    return sorted(session.exec(select(Clip.label).where(Clip.project_id == project_id,
                                                        Clip.label.is_not(None)).distinct()))


# ---- page services: ids in, plain values out, one transaction each ----


def curation_view(project_id: int, limit: int = LEAST_SURE) -> CurationView | None:
    """The project's latest finished curation (None if there is none yet)."""
    with session_scope() as session:
        job = latest_curation_job(session, project_id)
        if job is None:
            return None
        report = _job_report(session, job.id, limit)
        requested = set(session.exec(select(CurationDecision.clip_id).where(
            CurationDecision.job_id == job.id, CurationDecision.requested_at.is_not(None))))
        answers = clip_answers(session, project_id)
        doubtful = [{**row, "requested": row["clip_id"] in requested,
                     "answer": _answer_of(answers, row["clip_id"])} for row in report["least_sure"]]
        metric = (job.last_metric or {}).get("curation", {})
        return CurationView(job.id, as_utc(job.finished_at).isoformat() if job.finished_at else None,
                            metric.get("counts", {}), metric.get("seconds", {}), metric.get("retrieval_features"),
                            metric.get("rules"), report["totals"], report["classes"], report["histogram"],
                            doubtful, len(requested))


_REPORTS: dict[tuple[str, int, int], dict] = {}  # a job's decisions never change once stored: read them once
_REPORTS_KEPT = 8


def _job_report(session: Session, job_id: int, limit: int) -> dict:
    """Per-class table, totals, histogram and least-sure clips (with clip ids) of one curate job, cached per
    database, job and limit (a page redraw would otherwise parse every clip's record again: 1 s per 10,000)."""
    key = (str(session.get_bind().url), job_id, limit)
    if key not in _REPORTS:
        decisions, rows = job_decisions(session, job_id)
        classes = class_table(decisions)
        _REPORTS[key] = {
            "classes": classes, "totals": {k: sum(row[k] for row in classes) for k in ("clips", "kept", *STAGES)},
            "histogram": label_probability_histogram(decisions),
            "least_sure": [{**row, "clip_id": rows[row["key"]].clip_id} for row in least_sure(decisions, limit)]}
        while len(_REPORTS) > _REPORTS_KEPT:
            _REPORTS.pop(next(iter(_REPORTS)))
    return _REPORTS[key]


def newest_curation_job(project_id: int) -> CurationJob | None:
    """The project's newest curate job, whatever its status (None if it never had one)."""
    with session_scope() as session:
        job = session.exec(select(TrainingJob).where(TrainingJob.project_id == project_id,
                                                     TrainingJob.kind == JobKind.curate)
                           .order_by(TrainingJob.id.desc())).first()
        if job is None:
            return None
        return CurationJob(job.id, job.status.value, job.progress_step, job.progress_total,
                           (job.last_metric or {}).get("stage"), job.error)


def rules_text(project_id: int) -> str:
    """The project's stage-3 rules as indented JSON (what the editor shows)."""
    with session_scope() as session:
        return json.dumps(project_rules(session, project_id).to_dict(), indent=1)


def class_rules(project_id: int) -> list[dict]:
    """Per class of the project: the sounds its stage-3 rule rejects and whether it has a rule of its own."""
    with session_scope() as session:
        rules = project_rules(session, project_id)
        return [{"class": label, "rejects": ", ".join(rules.rule_for(label).reject) or "nothing",
                 "own_rule": label in rules.classes} for label in project_classes(session, project_id)]


def update_rules(user_id: int, project_id: int, text: str) -> dict:
    """save_rules() from the editor's text as its own transaction; returns the stored rules."""
    with session_scope(immediate=True) as session:
        return save_rules(session, get_user(session, user_id), project_id, text).to_dict()


def send_to_verification(user_id: int, project_id: int, clip_ids: Iterable[int]) -> int:
    """request_verification() as its own transaction."""
    with session_scope(immediate=True) as session:
        return request_verification(session, get_user(session, user_id), project_id, clip_ids)


def kept_clips_csv(user_id: int, project_id: int) -> str:
    """kept_csv() of the latest curation for a researcher."""
    with session_scope() as session:
        return kept_csv(session, get_user(session, user_id), project_id)


def _answer_of(answers: dict, clip_id: int) -> str | None:
    answer = answers.get(clip_id)
    return None if answer is None else answer.value


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.kind != ProjectKind.clip_verification:
        raise CurationError(f"project {project_id} is not a clip-verification project")
    return project
