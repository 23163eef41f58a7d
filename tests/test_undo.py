"""Undo of one's own last verdict: the history kept, the item reopened for that person."""

from __future__ import annotations

import pytest
from sqlmodel import select

from annotation_db import geo_review as gr
from annotation_db import localization_review as lr
from annotation_db import sync_review as sr
from annotation_db.engine import session_scope
from annotation_db.import_geo import import_geo
from annotation_db.models import Assignment, Clip, Project, ProjectKind, Role, Verdict, VerdictKind
from annotation_db.progress import review_progress
from annotation_db.projects import ensure_project
from annotation_db.undo import undo_last
from annotation_db.users import create_user
from annotation_db.verdicts import latest_verdicts
from core.synthetic.geo import generate_geo


def _people(*names: str) -> list[int]:
    with session_scope() as session:
        return [create_user(session, n, Role.annotator, "password1").id for n in names]


def _rows(kind: VerdictKind) -> list[tuple[int, str, str]]:
    with session_scope() as session:
        return [(v.user_id, v.source, v.note) for v in
                session.exec(select(Verdict).where(Verdict.kind == kind).order_by(Verdict.id))]


@pytest.mark.both_databases
def test_undo_a_geometry_verdict_puts_the_instance_back_to_review_and_keeps_both_rows(database, tmp_path):
    data = generate_geo(kind="buildings", tiles=1, size=256, seed=3, out=tmp_path / "geo")
    with session_scope() as session:
        import_geo(session, "blocks", "buildings", data / "rasters", data / "annotations.geojson")
    ann, bob = _people("ann", "bob")
    assert undo_last("blocks", ann, "geometry") is None  # nothing to undo yet
    tile = gr.claim_tile("blocks", ann)
    first, second = tile.instances[0].instance_id, tile.instances[1].instance_id
    gr.save_geometry("blocks", ann, tile, first, "original")
    gr.save_geometry("blocks", ann, tile, second, "obsolete")
    undone = undo_last("blocks", ann, "geometry")
    assert (undone.instance_id, undone.raster_id) == (second, tile.raster_id)
    actions = {i.instance_id: i.action for i in gr.claim_tile("blocks", ann).instances}
    assert actions[second] is None and actions[first] == "original"
    assert _rows(VerdictKind.geometry) == [(ann, "app", ""), (ann, "undone:app", ""),
                                           (ann, "undo", f"undo of verdict #{undone.verdict_id}")]
    assert review_progress("blocks", ann, "geometry").done == 1
    with session_scope() as session:
        assert set(latest_verdicts(session, 1, VerdictKind.geometry)) == {first}
    assert undo_last("blocks", bob, "geometry") is None  # only one's own verdicts


@pytest.mark.both_databases
def test_undo_of_the_verdict_that_completed_a_tile_reopens_it_for_that_person(database, tmp_path):
    data = generate_geo(kind="buildings", tiles=1, size=256, seed=3, out=tmp_path / "geo")
    with session_scope() as session:
        import_geo(session, "blocks", "buildings", data / "rasters", data / "annotations.geojson")
    ann, bob = _people("ann", "bob")
    tile = gr.claim_tile("blocks", ann)
    for item in tile.instances:
        gr.save_geometry("blocks", ann, tile, item.instance_id, "original")
    assert gr.claim_tile("blocks", ann) is None
    undo_last("blocks", ann, "geometry")
    again = gr.claim_tile("blocks", ann)
    assert again.assignment_id == tile.assignment_id
    assert [i.instance_id for i in again.instances if i.action is None] == [tile.instances[-1].instance_id]
    assert gr.claim_tile("blocks", bob) is None  # ann's again, not free for others


def _sync_project(clips: int = 2) -> None:
    with session_scope() as session:
        project = ensure_project(session, "p", ProjectKind.sync)
        session.add_all([Clip(project_id=project.id, key=f"c{i}", media_path=f"/media/c{i}.mp4")
                         for i in range(clips)])


@pytest.mark.both_databases
def test_undo_a_sync_verdict_shows_the_clip_again(database):
    _sync_project()
    (ann,) = _people("ann")
    item = sr.claim_sync_item("p", ann)
    sr.save_sync("p", ann, item, "evident", in_sync=False, offset_frames=3)
    assert sr.claim_sync_item("p", ann).clip_id != item.clip_id
    undone = undo_last("p", ann, "sync")
    assert undone.clip_id == item.clip_id
    assert sr.claim_sync_item("p", ann).clip_id == item.clip_id  # the reopened lease comes first
    with session_scope() as session:
        assert latest_verdicts(session, 1, VerdictKind.sync) == {}
        lease = session.get(Assignment, item.assignment_id)
        assert lease.completed_at is None and lease.released_at is None
    assert [s for _, s, _ in _rows(VerdictKind.sync)] == ["undone:app", "undo"]


@pytest.mark.both_databases
def test_undo_twice_takes_back_the_two_last_verdicts(database):
    _sync_project()
    (ann,) = _people("ann")
    first = sr.claim_sync_item("p", ann)
    sr.save_sync("p", ann, first, "no_source")
    second = sr.claim_sync_item("p", ann)
    sr.save_sync("p", ann, second, "no_source")
    assert undo_last("p", ann, "sync").clip_id == second.clip_id
    assert undo_last("p", ann, "sync").clip_id == first.clip_id
    assert undo_last("p", ann, "sync") is None


def _birds(tmp_path) -> None:
    media = tmp_path / "a.mp4"
    media.write_bytes(b"")
    with session_scope() as session:
        project = Project(name="birds", kind=ProjectKind.localization)
        session.add(project)
        session.flush()
        session.add_all([Clip(project_id=project.id, key=f"k{i}", label="dog barking", media_path=str(media))
                         for i in range(2)])


def test_undo_boxes_reopens_the_clip_with_no_boxes_of_that_person(database, tmp_path):
    _birds(tmp_path)
    (ann,) = _people("ann")
    task = lr.claim_box_task("birds", ann)
    lr.save_box_verdict("birds", ann, task.clip.id, [[0.1, 0.1, 0.5, 0.5]], assignment_id=task.assignment_id)
    assert lr.claim_box_task("birds", ann).clip.id != task.clip.id
    assert undo_last("birds", ann, "boxes").clip_id == task.clip.id
    again = lr.claim_box_task("birds", ann)
    assert again.clip.id == task.clip.id and again.my_boxes is None and again.people_boxes is None
    assert [s for _, s, _ in _rows(VerdictKind.boxes)] == ["undone:app", "undo"]


def test_undo_a_sound_answer_asks_again(database, tmp_path):
    _birds(tmp_path)
    (ann,) = _people("ann")
    for _ in range(2):
        task = lr.claim_box_task("birds", ann)
        lr.save_box_verdict("birds", ann, task.clip.id, [[0.1, 0.1, 0.5, 0.5]], assignment_id=task.assignment_id)
    first = lr.sound_task("birds", ann)
    lr.save_sound_answer("birds", ann, first.clip.id, "yes")
    assert lr.sound_task("birds", ann).clip.id != first.clip.id
    assert undo_last("birds", ann, "sound").clip_id == first.clip.id
    assert lr.sound_task("birds", ann).clip.id == first.clip.id
    assert [s for _, s, _ in _rows(VerdictKind.sound)] == ["undone:app", "undo"]
    assert [s for _, s, _ in _rows(VerdictKind.boxes)] == ["app", "app"]  # only the kind asked for
