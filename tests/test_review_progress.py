"""Review progress ("n of m · yours k"): items with a person's verdict, this user's, undone ones not counted."""

from __future__ import annotations

import random

import pytest

from annotation_db import sync_review as sr
from annotation_db.engine import session_scope
from annotation_db.models import Clip, ProjectKind, Role
from annotation_db.progress import QueueProgress, review_progress
from annotation_db.projects import ensure_project
from annotation_db.undo import undo_last
from annotation_db.users import create_user


@pytest.mark.both_databases
def test_sync_progress_counts_items_people_answered_and_ones_own(database):
    with session_scope() as session:
        project = ensure_project(session, "p", ProjectKind.sync)
        session.add_all([Clip(project_id=project.id, key=f"c{i}", media_path=f"/media/c{i}.mp4") for i in range(4)]
                        + [Clip(project_id=project.id, key="boxes-only")])  # no media: not a sync item
        ann, bob = (create_user(session, n, Role.annotator, "password1").id for n in ("ann", "bob"))
    assert review_progress("p", ann, "sync") == QueueProgress(total=4, done=0, mine=0)

    for person in (ann, ann, bob):
        sr.save_sync("p", person, sr.claim_sync_item("p", person), "no_source")
    trial = sr.draw_tolerance_trial("p", random.Random(1))
    sr.save_tolerance("p", bob, trial, looks_in_sync=True)  # a study answer, not a review of the clip
    assert review_progress("p", ann, "sync") == QueueProgress(total=4, done=3, mine=2)
    assert review_progress("p", bob, "sync") == QueueProgress(total=4, done=3, mine=1)

    undo_last("p", ann, "sync")
    progress = review_progress("p", ann, "sync")
    assert progress == QueueProgress(total=4, done=2, mine=1)
    assert progress.text("clips reviewed") == "2 of 4 clips reviewed · yours 1" and progress.share == 0.5
    with pytest.raises(ValueError, match="unknown review queue"):
        review_progress("p", ann, "everything")


@pytest.mark.both_databases
def test_boxes_and_sound_queues_count_people_only_and_ask_about_boxed_clips(database):
    from annotation_db.models import VerdictKind
    from annotation_db.progress import sound_checks_left
    from annotation_db.users import system_user
    from annotation_db.verdicts import record_verdict

    with session_scope() as session:
        project = ensure_project(session, "loc", ProjectKind.localization)
        clips = [Clip(project_id=project.id, key=f"c{i}", media_path=f"/media/c{i}.mp4") for i in range(4)]
        session.add_all(clips + [Clip(project_id=project.id, key="no-media")])
        session.flush()
        ann = create_user(session, "ann", Role.annotator, "password1")
        imported = system_user(session)  # the VGG-SS file's boxes: not a person's verdict
        box = [[0.1, 0.1, 0.5, 0.5]]
        record_verdict(session, imported, project, VerdictKind.boxes, clip_id=clips[0].id, boxes=box)
        record_verdict(session, ann, project, VerdictKind.boxes, clip_id=clips[1].id, boxes=box)
        record_verdict(session, ann, project, VerdictKind.boxes, clip_id=clips[2].id, cannot_localise=True)
        record_verdict(session, ann, project, VerdictKind.boxes, clip_id=clips[3].id, boxes=box)
        record_verdict(session, ann, project, VerdictKind.sound, clip_id=clips[1].id, answer="yes")
        ann_id, ids = ann.id, [c.id for c in clips]
    assert review_progress("loc", ann_id, "boxes") == QueueProgress(total=4, done=3, mine=3)
    # the sound check asks about clips with a person's boxes: c1 (answered) and c3, not c0 or c2
    assert review_progress("loc", ann_id, "sound") == QueueProgress(total=2, done=1, mine=1)
    assert sound_checks_left("loc", ann_id) == [(ids[3], "/media/c3.mp4")]
