"""Work units: a raster with many annotations is imported as compact units that annotators review apart."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.geo_review import claim_tile
from annotation_db.import_geo import import_geo, plan_geo
from annotation_db.models import Instance, Raster, Role
from annotation_db.users import create_user
from annotation_db.work_units import source_name, split_units, unit_name
from core.errors import InputError
from core.synthetic.geo import generate_geo
from training.families import get_family


def test_split_units_covers_every_point_once_in_disjoint_blocks_of_at_most_the_limit():
    points = np.random.default_rng(0).uniform(0, 1000, size=(1000, 2))
    groups = split_units(points, 300)
    assert all(0 < len(g) <= 300 for g in groups)
    assert np.array_equal(np.sort(np.concatenate(groups)), np.arange(1000))
    boxes = [(*points[g].min(axis=0), *points[g].max(axis=0)) for g in groups]
    for i, a in enumerate(boxes):  # k-d blocks: no two units' extents overlap
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    assert [len(g) for g in split_units(points[:300], 300)] == [300]
    with pytest.raises(ValueError, match="at least one"):
        split_units(points, 0)


def test_unit_names_map_back_to_their_raster():
    assert unit_name("tiles/a.tif", 0) == "tiles/a.tif#u001"
    assert source_name(unit_name("tiles/a.tif", 11)) == "tiles/a.tif"
    assert source_name("tiles/a#u.tif") == "tiles/a#u.tif"


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return generate_geo(kind="buildings", tiles=1, size=256, seed=5, out=tmp_path_factory.mktemp("town"))


def test_a_busy_raster_is_imported_as_units_two_annotators_review_at_once(town, database):
    with session_scope(immediate=True) as session:
        report = plan_geo("town", "buildings", town / "rasters", town / "annotations.geojson",
                          unit_size=2, session=session).apply(session)
        create_user(session, "ann", Role.annotator, "password123")
        create_user(session, "bob", Role.annotator, "password123")
    with session_scope() as session:
        rasters = session.exec(select(Raster).order_by(Raster.id)).all()
        per_unit = [len(session.exec(select(Instance).where(Instance.raster_id == r.id)).all()) for r in rasters]
    total = sum(per_unit)
    assert total >= 5 and len(rasters) >= 3 and max(per_unit) <= 2
    assert report.created == {**report.created, "rasters": 1, "instances": total}
    assert {source_name(r.name) for r in rasters} == {rasters[0].path.rsplit("/", 1)[-1]}
    assert len({(r.path, tuple(r.transform), r.width, r.height) for r in rasters}) == 1  # same pixels
    assert any("work units" in w for w in report.warnings)

    first, second = claim_tile("town", 1), claim_tile("town", 2)
    assert first.raster_id != second.raster_id  # one big raster no longer blocks the second annotator
    assert not {i.instance_id for i in first.instances} & {i.instance_id for i in second.instances}

    with session_scope(immediate=True) as session, pytest.raises(InputError, match="already in the project"):
        import_geo(session, "town", "buildings", town / "rasters", town / "annotations.geojson")


def test_the_units_of_one_raster_train_as_one_tile(town, database, tmp_path):
    with session_scope(immediate=True) as session:
        plan_geo("town", "buildings", town / "rasters", town / "annotations.geojson",
                 unit_size=2, session=session).apply(session)
    with session_scope() as session:
        project_id = session.exec(select(Raster.project_id)).first()
        data = get_family("autocorrect").build_training_set(session, project_id, tmp_path / "set")
        instances = len(session.exec(select(Instance)).all())
    meta = json.loads((data.train_dir / "meta.json").read_text())
    assert (meta["tiles"], meta["instances"]) == (1, instances)
    assert len(list((data.train_dir / "rasters").iterdir())) == 1
