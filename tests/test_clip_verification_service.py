"""Clip verification (VGG-Sound stage 4): sample, leases, class report, CSV exports."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from annotation_db import clip_verification as cv
from annotation_db.clip_verification import (DROPPED, KEPT, UNDECIDED, VerificationConfig,
                                             class_decision, class_report, class_samples,
                                             classes_csv, next_clip, sample_ids, save_answer,
                                             scope_progress, verdicts_csv)
from annotation_db.engine import session_scope
from annotation_db.models import Answer, Assignment, Clip, Project, ProjectKind, Role, Verdict, utcnow
from annotation_db.users import create_user
from annotation_db.verdicts import VerdictError


def _project(session, name: str = "curation", kind: str = "clip-verification") -> Project:
    project = Project(name=name, kind=ProjectKind(kind))
    session.add(project)
    session.flush()
    return project


def _add_clips(session, project: Project, label: str | None, count: int, first: int = 0,
               media: bool = True) -> list[Clip]:
    clips = [Clip(project_id=project.id, key=f"id{label or 'none'}{i:04d}_{i:06d}",
                  youtube_id=f"id{label or 'none'}{i:04d}", start_seconds=float(i), label=label,
                  media_path=f"/clips/{label}-{i}.mp4" if media else None)
             for i in range(first, first + count)]
    session.add_all(clips)
    session.flush()
    return clips


def _user(session, name: str, role: Role = Role.annotator):
    return create_user(session, name, role, "password1")


def test_sample_is_capped_stable_and_leaves_out_clips_that_cannot_be_checked(session):
    project = _project(session)
    dogs = _add_clips(session, project, "dog barking", 30)
    small = _add_clips(session, project, "cat meowing", 5)
    _add_clips(session, project, None, 4)
    _add_clips(session, project, "cat meowing", 3, first=100, media=False)
    samples = class_samples(session, project.id)
    assert list(samples) == ["cat meowing", "dog barking"]
    assert len(samples["dog barking"]) == 20
    assert samples["dog barking"] != [c.id for c in dogs[:20]]  # a random draw, not the first 20
    assert samples["cat meowing"] == [c.id for c in small]
    assert class_samples(session, project.id) == samples
    other_seed = class_samples(session, project.id, VerificationConfig(seed=1))
    assert set(other_seed["dog barking"]) != set(samples["dog barking"])
    assert len(class_samples(session, project.id, VerificationConfig(sample_size=7))
               ["dog barking"]) == 7

    _add_clips(session, project, "dog barking", 3, first=30)
    grown = set(class_samples(session, project.id)["dog barking"])
    assert len(grown) == 20 and len(grown - set(samples["dog barking"])) <= 3


def test_leases_give_each_sampled_clip_to_one_annotator(session):
    project = _project(session)
    dogs = _add_clips(session, project, "dog barking", 3)
    cats = _add_clips(session, project, "cat meowing", 2)
    ann, bob = _user(session, "ann"), _user(session, "bob")
    first = next_clip(session, project.id, ann.id, "dog barking")
    assert first.id in {c.id for c in dogs}
    assert next_clip(session, project.id, ann.id, "dog barking").id == first.id  # resumed
    second = next_clip(session, project.id, bob.id, "dog barking")
    assert second.id != first.id and second.label == "dog barking"

    save_answer(session, project.id, ann.id, first.id, "yes")
    lease = session.exec(select(Assignment).where(Assignment.user_id == ann.id)).one()
    assert lease.completed_at is not None
    third = next_clip(session, project.id, ann.id, "dog barking")
    assert third.id not in (first.id, second.id)
    save_answer(session, project.id, ann.id, third.id, Answer.no)
    assert next_clip(session, project.id, ann.id, "dog barking") is None  # bob holds the last

    later = utcnow() + timedelta(hours=2)
    assert next_clip(session, project.id, ann.id, "dog barking", now=later).id == second.id
    # switching class hands the open lease back, so bob can take it again
    assert next_clip(session, project.id, ann.id, "cat meowing", now=later).label == "cat meowing"
    assert next_clip(session, project.id, bob.id, "dog barking", now=later).id == second.id
    assert next_clip(session, project.id, bob.id, None, now=later).id == second.id
    everything = {c.id for c in dogs + cats}
    assert sample_ids(session, project.id) == everything


def test_a_clip_answered_without_a_lease_is_not_offered_again(session):
    project = _project(session)
    (only,) = _add_clips(session, project, "dog barking", 1)
    ann = _user(session, "ann")
    save_answer(session, project.id, ann.id, only.id, "not_sure")
    assert next_clip(session, project.id, ann.id) is None


def test_saving_checks_the_project_and_the_answer(session):
    project = _project(session)
    other = _project(session, "sync-project", kind="sync")
    (clip,) = _add_clips(session, project, "dog barking", 1)
    (foreign,) = _add_clips(session, other, "dog barking", 1)
    ann = _user(session, "ann")
    with pytest.raises(VerdictError, match="another project"):
        save_answer(session, project.id, ann.id, foreign.id, "yes")
    with pytest.raises(VerdictError, match="not a clip-verification project"):
        save_answer(session, other.id, ann.id, foreign.id, "yes")
    with pytest.raises(ValueError):
        save_answer(session, project.id, ann.id, clip.id, "maybe")


@pytest.mark.parametrize(("counts", "sampled", "share", "decision", "settled"), [
    ({}, 20, None, UNDECIDED, False),
    ({"yes": 2, "no": 1, "not_sure": 1}, 4, 0.5, KEPT, True),  # 2 of 4: exactly 50% is kept
    ({"yes": 1, "no": 1, "not_sure": 1}, 4, 1 / 3, DROPPED, False),  # a Yes could still save it
    ({"yes": 1, "no": 1}, 5, 0.5, KEPT, False),
    ({"no": 3}, 5, 0.0, DROPPED, True),  # 2 Yes at best: 40%
    ({"yes": 10}, 20, 1.0, KEPT, True),
    ({"yes": 9, "no": 10, "not_sure": 1}, 20, 0.45, DROPPED, True),
])
def test_class_decision_counts_not_sure_as_not_confirmed(counts, sampled, share, decision, settled):
    row = class_decision("c", sampled, Counter({Answer(k): v for k, v in counts.items()}))
    assert row.answered == sum(counts.values())
    assert row.share_yes == (None if share is None else pytest.approx(share))
    assert (row.decision, row.settled) == (decision, settled)


def test_class_decision_can_leave_not_sure_out_of_the_denominator():
    config = VerificationConfig(not_sure_in_denominator=False)
    row = class_decision("c", 4, Counter({Answer.yes: 1, Answer.no: 1, Answer.not_sure: 2}),
                         config)
    assert row.share_yes == 0.5 and row.decision == KEPT and row.settled
    only_unsure = class_decision("c", 4, Counter({Answer.not_sure: 1}), config)
    assert only_unsure.share_yes is None and only_unsure.decision == UNDECIDED


def _answered_project(session):
    """Two classes answered by hand: 'dog barking' kept (3 of 4), 'cat meowing' dropped (1 of 3)."""
    project = _project(session)
    dogs = _add_clips(session, project, "dog barking", 4)
    cats = _add_clips(session, project, "cat meowing", 3)
    _add_clips(session, project, "hail", 2)
    ann, bob = _user(session, "ann"), _user(session, "bob")
    for clip, answer in zip(dogs, ("yes", "yes", "no", "yes")):
        save_answer(session, project.id, ann.id, clip.id, answer)
    save_answer(session, project.id, ann.id, cats[0].id, "no")
    save_answer(session, project.id, ann.id, cats[0].id, "yes")  # supersedes her "no"
    save_answer(session, project.id, ann.id, cats[1].id, "no")
    save_answer(session, project.id, ann.id, cats[2].id, "yes")
    save_answer(session, project.id, bob.id, cats[2].id, "no")  # a tie counts as Not sure
    return project, ann, bob, dogs, cats


def test_class_report_on_hand_made_verdicts(session):
    project, ann, _, dogs, cats = _answered_project(session)
    rows = {row.label: row for row in class_report(session, project.id)}
    assert list(rows) == ["cat meowing", "dog barking", "hail"]
    dog, cat, hail = rows["dog barking"], rows["cat meowing"], rows["hail"]
    assert (dog.sampled, dog.answered, dog.yes, dog.no, dog.not_sure) == (4, 4, 3, 1, 0)
    assert dog.share_yes == 0.75 and dog.decision == KEPT and dog.settled
    assert (cat.yes, cat.no, cat.not_sure) == (1, 1, 1)
    assert cat.share_yes == pytest.approx(1 / 3) and cat.decision == DROPPED and cat.settled
    assert (hail.answered, hail.decision) == (0, UNDECIDED)
    progress = scope_progress(session, project.id, ann.id, "cat meowing")
    assert (progress.sampled, progress.answered, progress.by_me) == (3, 3, 3)
    everything = scope_progress(session, project.id, ann.id)
    assert (everything.sampled, everything.answered) == (9, 7)


def test_csv_exports_hold_the_decisions_and_every_annotators_latest_answer(session):
    project, ann, bob, dogs, cats = _answered_project(session)
    rows = class_report(session, project.id)
    kept = list(csv.DictReader(io.StringIO(classes_csv(rows, KEPT))))
    dropped = list(csv.DictReader(io.StringIO(classes_csv(rows, DROPPED))))
    assert [r["class"] for r in kept] == ["dog barking"]
    assert kept[0] == {"class": "dog barking", "sampled": "4", "answered": "4", "yes": "3",
                       "no": "1", "not_sure": "0", "share_yes": "0.7500", "decision": "kept",
                       "settled": "true"}
    assert [(r["class"], r["share_yes"]) for r in dropped] == [("cat meowing", "0.3333")]
    assert len(list(csv.DictReader(io.StringIO(classes_csv(rows))))) == 3

    verdicts = list(csv.DictReader(io.StringIO(verdicts_csv(session, project.id))))
    assert len(verdicts) == 8  # ann's superseded "no" is left out
    first = verdicts[0]
    assert {k: first[k] for k in ("clip_key", "youtube_id", "start_seconds", "label",
                                  "in_sample", "annotator", "answer")} == {
        "clip_key": dogs[0].key, "youtube_id": dogs[0].youtube_id, "start_seconds": "0",
        "label": "dog barking", "in_sample": "true", "annotator": "ann", "answer": "yes"}
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    on_cat0 = [r for r in verdicts if r["clip_key"] == cats[0].key]
    assert [(r["annotator"], r["answer"]) for r in on_cat0] == [("ann", "yes")]
    on_cat2 = sorted((r["annotator"], r["answer"]) for r in verdicts
                     if r["clip_key"] == cats[2].key)
    assert on_cat2 == [("ann", "yes"), ("bob", "no")]


def test_page_services_take_ids_and_return_plain_values(database):
    with session_scope() as session:
        project = _project(session)
        _project(session, "sync-project", kind="sync")
        dogs = _add_clips(session, project, "dog barking", 2)
        _add_clips(session, project, "cat meowing", 1)
        ann = _user(session, "ann")
    assert cv.verification_projects() == {"curation": project.id}
    assert cv.class_names(project.id) == ["cat meowing", "dog barking"]
    clip, progress = cv.clip_to_verify(project.id, ann.id, "dog barking")
    assert isinstance(clip, cv.ClipInfo) and clip.label == "dog barking"
    assert (progress.sampled, progress.answered, progress.by_me) == (2, 0, 0)
    verdict_id = cv.answer_clip(project.id, ann.id, clip.id, "yes")
    with session_scope() as session:
        assert session.get(Verdict, verdict_id).answer is Answer.yes
        assert session.exec(select(Assignment).where(Assignment.completed_at.is_(None))).all() == []
    again, progress = cv.clip_to_verify(project.id, ann.id, "dog barking", revisit=clip.id)
    assert again == clip and (progress.answered, progress.by_me) == (1, 1)
    other, _ = cv.clip_to_verify(project.id, ann.id, "dog barking")
    assert other.id in {d.id for d in dogs} - {clip.id}
    with pytest.raises(VerdictError, match="not a clip-verification project"):
        cv.answer_clip(project.id + 1, ann.id, other.id, "yes")
    report = cv.verification_report(project.id)
    assert [row.label for row in report.classes] == ["cat meowing", "dog barking"]
    assert report.verdicts_csv.count("\n") == 2  # the header and ann's answer
