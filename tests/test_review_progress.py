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
