"""DB services of the geometry review page: tile queue by uncertainty, verdicts from actions, progress."""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import pytest
import shapely
from sqlmodel import select

from annotation_db import geo_review as gr
from annotation_db.engine import session_scope
from annotation_db.import_geo import import_geo
from annotation_db.models import Assignment, Instance, Raster
from annotation_db.progress import queue_progress, review_progress
from annotation_db.projects import ProjectError, get_project
from annotation_db.proposals import NewProposal, write_proposals
from annotation_db.users import create_user
from core.synthetic.geo import generate_geo


@pytest.fixture
def project(session, tmp_path):
    return _blocks_project(session, tmp_path)


def _blocks_project(session, tmp_path):
    data = generate_geo(kind="buildings", tiles=2, size=256, seed=3, out=tmp_path / "geo")
    import_geo(session, "blocks", "buildings", data / "rasters", data / "annotations.geojson")
    target = get_project(session, "blocks")
    instances = session.exec(select(Instance).order_by(Instance.id)).all()
    counts = Counter(i.raster_id for i in instances)
    busiest = max(counts, key=counts.get)
    proposals = [NewProposal({"geometry_wkt": shapely.affinity.translate(shapely.from_wkt(i.geometry_wkt), 1, 0).wkt,
                              "transform": [2.0, 0.0, 0.0]}, instance_id=i.id,
                             uncertainty=9.0 if i.raster_id == busiest else 1.0) for i in instances]
    write_proposals(session, target, "autocorrect", "test-v1", proposals)
    return target


def test_queue_serves_the_most_uncertain_tile_and_completes_it_after_the_last_verdict(session, project):
    person = create_user(session, "ann", "annotator", "password123")
    tile = gr.next_tile(session, project, person)
    counts = Counter(session.exec(select(Instance.raster_id)).all())
    busiest = max(counts, key=counts.get)
    assert tile.raster_id == busiest  # uncertainty 9 beats 1
    assert len(tile.instances) >= 3
    first, *rest = tile.instances
    verdict = gr.save_geometry_verdict(session, person, project, tile, first.instance_id, "accepted")
    assert verdict.final_geometry_wkt == first.proposal_wkt and verdict.proposal_id == first.proposal_id
    adjusted = gr.save_geometry_verdict(session, person, project, tile, rest[0].instance_id, "adjusted",
                                        dx_m=2.0, dy_m=-1.0, rotation_deg=0.0)
    moved = shapely.affinity.translate(shapely.from_wkt(rest[0].proposal_wkt), 2.0, -1.0)
    assert shapely.from_wkt(adjusted.final_geometry_wkt).equals_exact(moved, 1e-6)
    for item in rest[1:]:
        gr.save_geometry_verdict(session, person, project, tile, item.instance_id, "not_visible")
    assert session.get(Assignment, tile.assignment_id).completed_at is not None
    stats = queue_progress(session, project, person.id, "geometry")
    assert stats.done == stats.mine == len(tile.instances)
    assert gr.next_tile(session, project, person).raster_id != busiest


def test_adjusted_wkt_turns_counter_clockwise_about_the_centroid():
    square = "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))"
    turned = shapely.from_wkt(gr.adjusted_wkt(square, 10.0, 0.0, 90.0))
    assert turned.centroid.x == pytest.approx(11.0) and turned.centroid.y == pytest.approx(1.0)
    line = shapely.from_wkt(gr.adjusted_wkt("LINESTRING (0 0, 2 0)", 0.0, 0.0, 90.0))
    assert list(line.coords) == [pytest.approx((1.0, -1.0)), pytest.approx((1.0, 1.0))]


def test_page_services_take_names_and_ids_and_return_plain_values(database, tmp_path):
    with session_scope() as session:
        _blocks_project(session, tmp_path)
        person = create_user(session, "ann", "annotator", "password123")
    assert gr.geo_projects() == ["blocks"]
    with pytest.raises(ProjectError):
        gr.claim_tile("nowhere", person.id)
    with pytest.raises(ValueError, match="no user"):
        gr.claim_tile("blocks", person.id + 99)
    tile = gr.claim_tile("blocks", person.id)
    assert gr.claim_tile("blocks", person.id).assignment_id == tile.assignment_id  # the same lease
    ids = [gr.save_geometry("blocks", person.id, tile, item.instance_id, "accepted") for item in tile.instances]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == len(ids)
    with session_scope() as session:
        assert session.get(Assignment, tile.assignment_id).completed_at is not None
    stats = review_progress("blocks", person.id, "geometry")
    assert stats.done == stats.mine == len(tile.instances)
    out = tmp_path / "blocks.gpkg"
    assert gr.export_geometries("blocks", out) == stats.total and out.is_file()


def test_a_reshaped_geometry_is_saved_as_adjusted_and_a_bad_shape_is_refused(session, project):
    person = create_user(session, "ann", "annotator", "password123")
    tile = gr.next_tile(session, project, person)
    item = tile.instances[0]
    reshaped = shapely.from_wkt(item.noisy_wkt).buffer(1.0, join_style="mitre").wkt  # a vertex moved outwards
    verdict = gr.save_geometry_verdict(session, person, project, tile, item.instance_id, "adjusted",
                                       geometry_wkt=reshaped)
    assert shapely.from_wkt(verdict.final_geometry_wkt).equals_exact(shapely.from_wkt(reshaped), 1e-9)
    assert verdict.dx_m is None or verdict.dx_m == 0
    before = session.exec(select(Instance)).all()
    bowtie = "POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))"
    with pytest.raises(ValueError, match="invalid geometry"):
        gr.save_geometry_verdict(session, person, project, tile, item.instance_id, "adjusted", geometry_wkt=bowtie)
    with pytest.raises(ValueError, match="LineString is not a buildings annotation"):
        gr.add_drawn_instance(session, person, project, tile, "LINESTRING (0 0, 5 5)")
    with pytest.raises(ValueError, match="saved as an adjusted"):
        gr.save_geometry_verdict(session, person, project, tile, item.instance_id, "accepted", geometry_wkt=reshaped)
    assert len(session.exec(select(Instance)).all()) == len(before)


def test_a_drawn_building_becomes_a_reviewed_instance_exported_in_the_annotation_crs(database, tmp_path):
    with session_scope() as session:
        _blocks_project(session, tmp_path)
        person = create_user(session, "ann", "annotator", "password123")
    tile = gr.claim_tile("blocks", person.id)
    anchor = shapely.from_wkt(tile.instances[0].noisy_wkt).centroid
    square = shapely.box(anchor.x + 30, anchor.y + 30, anchor.x + 40, anchor.y + 38).wkt
    new_id = gr.add_instance("blocks", person.id, tile, square)
    tile = gr.claim_tile("blocks", person.id)
    drawn = next(i for i in tile.instances if i.instance_id == new_id)
    assert drawn.action == "adjusted" and drawn.source_id.startswith("drawn-")
    for item in tile.instances:
        if item.instance_id != new_id:
            gr.save_geometry("blocks", person.id, tile, item.instance_id, "original")
    with session_scope() as session:
        assert session.get(Assignment, tile.assignment_id).completed_at is not None
    out = tmp_path / "blocks.geojson"
    gr.export_geometries("blocks", out)
    frame = gpd.read_file(out)
    row = frame[frame["instance_id"] == drawn.source_id].iloc[0]
    assert row["verdict"] == "adjusted" and frame.crs.to_epsg() == 4326  # the annotation file's CRS
    with session_scope() as session:
        raster_crs = session.get(Raster, tile.raster_id).crs
    back = gpd.GeoSeries([row.geometry], crs=frame.crs).to_crs(raster_crs).iloc[0]
    assert back.equals_exact(shapely.from_wkt(square), 1e-3)
