"""Curation services: stored decisions, the page's view of them, stage-3 rules, the kept CSV, and clips sent
to the clip verification queue."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from annotation_db import curation
from annotation_db.clip_verification import class_report, class_samples, next_clip, save_answer, scope_progress
from annotation_db.curation import (CurationError, kept_csv, project_rules, request_verification, save_rules,
                                    store_decisions)
from annotation_db.models import Clip, CurationDecision, JobKind, JobStatus, Project, ProjectKind, Role, TrainingJob
from annotation_db.users import AccessDenied, create_user

CLASSES = ("dog barking", "playing violin")


def _project(session, per_class: int = 25) -> tuple[Project, list[Clip]]:
    project = Project(name="cur", kind=ProjectKind.clip_verification)
    session.add(project)
    session.flush()
    clips = [Clip(project_id=project.id, key=f"yt{c}{i:03d}_{i:06d}", youtube_id=f"yt{c}{i:03d}",
                  start_seconds=float(i), label=label, split="train", media_path=f"/clips/{c}-{i}.mp4")
             for c, label in enumerate(CLASSES) for i in range(per_class)]
    session.add_all(clips)
    session.flush()
    return project, clips


def _record(clip: Clip, n: int) -> dict:
    """A curate() record: every 5th clip removed by stage 3; the others by their two-fold rank."""
    key = f"{clip.youtube_id}_{int(clip.start_seconds):06d}"
    if n % 5 == 0:
        return {"key": key, "label": clip.label, "split": "train", "kept": False, "decided_by": "stage3",
                "stage3": {"scores": {"speech": 0.9, "music": 0.05, "other": 0.05}, "rejected": True,
                           "rule": f"{clip.label}: reject speech or music above 0.5", "model_version": "v-s3"}}
    rank = 1 + n % 6  # ranks 1..6: 3 and 4 sit next to the keep line
    other = CLASSES[1 - CLASSES.index(clip.label)]
    top = [[clip.label, 0.6], [other, 0.4]] if rank == 1 else [[other, 0.7], [clip.label, 0.3]]
    split_vote = rank == 4  # one model has the label in its top 3, the other does not
    predictions = [{"model": "r0h0", "model_version": "v-a", "top": top, "label_probability": 0.5},
                   {"model": "r1h1", "model_version": "v-b",
                    "top": [[other, 0.9]] if split_vote else top, "label_probability": 0.2}]
    kept = rank <= 3
    return {"key": key, "label": clip.label, "split": "train", "kept": kept,
            "decided_by": "easy" if kept else "rejected",
            "twofold": {"predictions": predictions, "label_rank": rank, "label_probability": round(0.9 - rank / 10, 2),
                        "easy_positive": kept, "ensemble_top": top}}


def _curated(session, project: Project, clips: list[Clip], user) -> TrainingJob:
    job = TrainingJob(kind=JobKind.curate, model="audioclass", project_id=project.id, launched_by=user.id,
                      status=JobStatus.succeeded, last_metric={"curation": {"counts": {"clips": len(clips)}}})
    session.add(job)
    session.flush()
    records = [_record(clip, n) for n, clip in enumerate(clips)]
    ids = {r["key"]: clip.id for r, clip in zip(records, clips)}
    assert store_decisions(session, job.id, records, ids) == len(clips)
    return job


def _people(session):
    return (create_user(session, "rita", Role.researcher, "password1"),
            create_user(session, "ann", Role.annotator, "password1"))


def test_rules_round_trip_and_bad_rules_change_nothing(session):
    project, _ = _project(session, per_class=2)
    rita, ann = _people(session)
    assert project_rules(session, project.id).to_dict()["default"] == {"reject": ["speech", "music"]}
    saved = save_rules(session, rita, project.id, '{"threshold": 0.6, "classes": '
                                                  '{"playing violin": {"reject": ["speech"]}}}')
    assert project_rules(session, project.id) == saved
    assert project_rules(session, project.id).rule_for("playing violin").reject == ("speech",)
    assert project_rules(session, project.id).rule_for("dog barking").reject == ("speech", "music")
    before = dict(project.settings)
    for bad, message in (('{"classes": {"playing violin": {"reject": ["noise"]}}}', "noise"),
                         ('{"classes": {"playing cello": {"reject": ["speech"]}}}', "no class 'playing cello'"),
                         ('{"classes": {"dog barking": {"reject": "speech"}}}', "list of sounds"),
                         ('{"threshold": 1.5}', "between 0 and 1"),
                         ('{"treshold": 0.5}', "unknown key"),
                         ("{not json", "not JSON")):
        with pytest.raises(CurationError, match=message):
            save_rules(session, rita, project.id, bad)
        session.refresh(project)
        assert project.settings == before
    with pytest.raises(AccessDenied):
        save_rules(session, ann, project.id, "{}")
    assert project.settings == before


def test_decisions_are_stored_and_read_back_as_the_page_shows_them(database, session):
    project, clips = _project(session, per_class=12)
    rita, ann = _people(session)
    job = _curated(session, project, clips, rita)
    rows = session.exec(select(CurationDecision).where(CurationDecision.job_id == job.id)).all()
    assert len(rows) == len(clips) and {r.clip_id for r in rows} == {c.id for c in clips}
    assert all(r.record["decided_by"] == r.decided_by and r.project_id == project.id for r in rows)
    session.commit()

    view = curation.curation_view(project.id)
    assert view.job_id == job.id and view.counts == {"clips": 24}
    by_class = {row["class"]: row for row in view.classes}
    assert set(by_class) == set(CLASSES)
    kept = [r for r in (_record(c, n) for n, c in enumerate(clips)) if r["kept"]]
    assert sum(row["kept"] for row in view.classes) == len(kept)
    assert sum(row["stage3"] for row in view.classes) == sum(1 for n in range(24) if n % 5 == 0)
    assert sum(view.histogram["kept"]) == len(kept)
    assert sum(view.histogram["kept"]) + sum(view.histogram["removed"]) == 24 - 5  # stage-3 clips have no score
    assert view.least_sure and all(row["label_rank"] in (3, 4) for row in view.least_sure)
    keys = {c.id: f"{c.youtube_id}_{int(c.start_seconds):06d}" for c in clips}
    assert all(keys[row["clip_id"]] == row["key"] and not row["requested"] for row in view.least_sure)

    lines = list(csv.reader(io.StringIO(kept_csv(session, rita, project.id))))
    assert sorted(line[0] for line in lines) == sorted(r["key"].rsplit("_", 1)[0] for r in kept)
    assert all(line[2] in CLASSES and line[3] == "train" for line in lines)
    with pytest.raises(AccessDenied):
        kept_csv(session, ann, project.id)


def test_decisions_of_unknown_clips_are_refused_whole(session):
    project, clips = _project(session, per_class=2)
    rita, _ = _people(session)
    job = TrainingJob(kind=JobKind.curate, model="audioclass", project_id=project.id, status=JobStatus.running)
    session.add(job)
    session.flush()
    records = [_record(clip, n) for n, clip in enumerate(clips)]
    ids = {r["key"]: clip.id for r, clip in zip(records[:-1], clips)}
    with pytest.raises(CurationError, match="no clip for the curated key"):
        store_decisions(session, job.id, records, ids)
    assert session.exec(select(CurationDecision)).all() == []


@pytest.mark.both_databases
def test_clips_sent_from_the_curation_are_served_first(session):
    project, clips = _project(session, per_class=25)
    rita, ann = _people(session)
    _curated(session, project, clips, rita)
    sample = class_samples(session, project.id)
    outside = [c.id for c in clips if c.label == "dog barking" and c.id not in sample["dog barking"]][:2]
    assert len(outside) == 2
    report_before = class_report(session, project.id)

    with pytest.raises(CurationError, match="not in curation job"):
        request_verification(session, rita, project.id, [outside[0], 10_000])
    with pytest.raises(AccessDenied):
        request_verification(session, ann, project.id, outside)
    assert session.exec(select(CurationDecision).where(CurationDecision.requested_at.is_not(None))).all() == []

    assert request_verification(session, rita, project.id, outside) == 2
    assert request_verification(session, rita, project.id, outside) == 0  # already sent
    served = []
    for _ in range(2):
        clip = next_clip(session, project.id, ann.id)
        served.append(clip.id)
        save_answer(session, project.id, ann.id, clip.id, "no")
    assert sorted(served) == sorted(outside)
    third = next_clip(session, project.id, ann.id)
    assert third.id in sample["dog barking"] + sample["playing violin"]
    assert scope_progress(session, project.id, ann.id).sampled == 40 + 2
    assert scope_progress(session, project.id, ann.id, "playing violin").sampled == 20
    assert class_report(session, project.id) == report_before  # the class decision reads the random sample only


def test_a_clip_already_on_screen_stays_when_clips_are_sent(session):
    project, clips = _project(session, per_class=25)
    rita, ann = _people(session)
    _curated(session, project, clips, rita)
    showing = next_clip(session, project.id, ann.id)
    sample = class_samples(session, project.id)
    outside = [c.id for c in clips if c.id not in sample[c.label]][:1]
    request_verification(session, rita, project.id, outside)
    assert next_clip(session, project.id, ann.id).id == showing.id
    save_answer(session, project.id, ann.id, showing.id, "yes")
    assert next_clip(session, project.id, ann.id).id == outside[0]
