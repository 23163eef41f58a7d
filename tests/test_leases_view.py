"""A page view holds its item for the short view lease only; the first save starts the full lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from annotation_db import geo_review as gr
from annotation_db import sync_review as sr
from annotation_db.assignment import lease_length, next_assignment, view_lease_length
from annotation_db.engine import session_scope
from annotation_db.import_geo import import_geo
from annotation_db.models import Assignment, Clip, Project, ProjectKind, Role, User, as_utc, utcnow
from annotation_db.projects import ensure_project
from annotation_db.users import create_user
from core.config import get_settings
from core.synthetic.geo import generate_geo

pytestmark = pytest.mark.both_databases


def _sync_project(clips: int = 1) -> tuple[int, int]:
    with session_scope() as session:
        project = ensure_project(session, "p", ProjectKind.sync)
        session.add_all([Clip(project_id=project.id, key=f"c{i}", media_path=f"/media/c{i}.mp4")
                         for i in range(clips)])
        ann = create_user(session, "ann", Role.annotator, "password1")
        bob = create_user(session, "bob", Role.annotator, "password1")
        return ann.id, bob.id


def _claim(user_id: int, now):
    with session_scope(immediate=True) as session:
        lease = next_assignment(session, session.exec(select(Project)).one(), session.get(User, user_id), now=now)
        return None if lease is None else (lease.id, lease.clip_id or lease.raster_id, as_utc(lease.expires_at))


def test_the_view_lease_is_short_and_defaults_to_two_minutes(database):
    assert get_settings().view_lease_minutes == 2
    assert view_lease_length() == timedelta(minutes=2) < lease_length()


def test_a_view_lease_expires_after_the_short_time_and_another_annotator_gets_the_item(database):
    ann, bob = _sync_project()
    start = utcnow()
    lease_id, clip_id, until = _claim(ann, start)
    assert until == start + view_lease_length()
    assert _claim(bob, start + timedelta(minutes=1)) is None  # still held while the page is open
    taken = _claim(bob, start + view_lease_length() + timedelta(seconds=1))
    assert taken is not None and taken[1] == clip_id
    with session_scope() as session:
        assert session.get(Assignment, lease_id).released_at is not None


def test_each_rerun_renews_the_view_lease(database):
    ann, bob = _sync_project()
    start = utcnow()
    _claim(ann, start)
    renewed = _claim(ann, start + timedelta(seconds=90))
    assert renewed[2] == start + timedelta(seconds=90) + view_lease_length()
    assert _claim(bob, start + timedelta(minutes=3)) is None


def test_the_view_lease_length_is_a_setting(database, monkeypatch):
    monkeypatch.setenv("VIEW_LEASE_MINUTES", "0.5")
    get_settings.cache_clear()
    ann, bob = _sync_project()
    start = utcnow()
    assert _claim(ann, start)[2] == start + timedelta(seconds=30)
    assert _claim(bob, start + timedelta(seconds=31)) is not None


def test_a_save_extends_the_view_lease_to_the_full_lease(database):
    ann, bob = _sync_project(clips=1)
    item = sr.claim_sync_item("p", ann)
    before = utcnow()
    with session_scope(immediate=True) as session:  # an answer that leaves the clip open
        sr.save_sync_verdict(session, session.get(User, ann), session.exec(select(Project)).one(), item,
                             "evident", in_sync=True, finish=False)
    with session_scope() as session:
        lease = session.get(Assignment, item.assignment_id)
        assert lease.completed_at is None and as_utc(lease.expires_at) >= before + lease_length()
    assert _claim(bob, before + timedelta(minutes=10)) is None


def test_geometry_review_a_look_at_a_tile_holds_it_for_the_view_lease_only(database, tmp_path):
    data = generate_geo(kind="buildings", tiles=1, size=256, seed=3, out=tmp_path / "geo")
    with session_scope() as session:
        import_geo(session, "blocks", "buildings", data / "rasters", data / "annotations.geojson")
        ann = create_user(session, "ann", Role.annotator, "password1").id
        bob = create_user(session, "bob", Role.annotator, "password1").id
    tile = gr.claim_tile("blocks", ann)
    assert len(tile.instances) >= 2
    with session_scope() as session:
        viewed = as_utc(session.get(Assignment, tile.assignment_id).expires_at)
    assert viewed <= utcnow() + view_lease_length()
    later = utcnow() + view_lease_length() + timedelta(seconds=5)
    assert _claim(bob, later)[1] == tile.raster_id  # ann only looked: bob gets the tile

    tile = gr.claim_tile("blocks", ann)  # ann again: bob's view lease is live, nothing for ann
    assert tile is None


def test_geometry_review_the_first_verdict_holds_the_tile_for_the_full_lease(database, tmp_path):
    data = generate_geo(kind="buildings", tiles=1, size=256, seed=3, out=tmp_path / "geo")
    with session_scope() as session:
        import_geo(session, "blocks", "buildings", data / "rasters", data / "annotations.geojson")
        ann = create_user(session, "ann", Role.annotator, "password1").id
        bob = create_user(session, "bob", Role.annotator, "password1").id
    tile = gr.claim_tile("blocks", ann)
    before = utcnow()
    gr.save_geometry("blocks", ann, tile, tile.instances[0].instance_id, "original")
    again = gr.claim_tile("blocks", ann)  # the page's rerun after the save does not shorten it
    assert again.assignment_id == tile.assignment_id
    with session_scope() as session:
        assert as_utc(session.get(Assignment, tile.assignment_id).expires_at) >= before + lease_length()
    assert _claim(bob, before + timedelta(minutes=10)) is None
