"""GeoTIFF + vector import, export back to the original CRS, and each bad-input case."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon
from sqlmodel import select

from annotation_db.cli import main as cli
from annotation_db.engine import session_scope
from annotation_db.export_geo import export_geo
from annotation_db.import_geo import import_geo
from annotation_db.models import Instance, Project, Raster
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.errors import InputError
from core.synthetic.geo import generate_geo


@pytest.fixture(scope="module")
def railway(tmp_path_factory):
    """Two small generated railway tiles with noisy annotations in EPSG:4326."""
    return generate_geo(kind="railway", tiles=2, size=128, seed=11,
                        out=tmp_path_factory.mktemp("railway"))


@pytest.fixture(scope="module")
def buildings(tmp_path_factory):
    return generate_geo(kind="buildings", tiles=1, size=128, seed=12,
                        out=tmp_path_factory.mktemp("buildings"))


def _counts():
    with session_scope() as session:
        return (len(session.exec(select(Project)).all()), len(session.exec(select(Raster)).all()),
                len(session.exec(select(Instance)).all()))


def test_import_reprojects_to_raster_crs_and_exports_the_original_exactly(railway, database, tmp_path):
    noisy = gpd.read_file(railway / "annotations.geojson")
    assert cli(["import-geo", "--project", "rail", "--kind", "railway", "--rasters",
                str(railway / "rasters"), "--annotations", str(railway / "annotations.geojson")]) == 0
    assert _counts() == (1, 2, len(noisy))
    with session_scope() as session:
        instance = session.exec(select(Instance)).first()
        raster = session.get(Raster, instance.raster_id)
        assert "27700" in raster.crs or "British National Grid" in raster.crs
        x, y = shapely.from_wkt(instance.geometry_wkt).coords[0]
        assert 1e5 < x < 7e5 and 1e5 < y < 1.3e6  # metres on the British grid, not degrees
    out = tmp_path / "export.gpkg"
    assert cli(["export-geo", "--project", "rail", "--out", str(out)]) == 0
    exported = gpd.read_file(out)
    assert exported.crs.to_epsg() == 4326
    assert set(exported["verdict"]) == {"unreviewed"}
    by_id = dict(zip(noisy["instance_id"].astype(str), noisy.geometry))
    for source_id, geometry in zip(exported["instance_id"], exported.geometry):
        assert geometry.equals_exact(by_id[source_id], tolerance=1e-12)


def test_adjusted_geometry_is_written_back_in_the_original_crs(railway, session, tmp_path):
    import_geo(session, "rail", "railway", railway / "rasters", railway / "annotations.geojson")
    project = session.exec(select(Project)).one()
    instance = session.exec(select(Instance)).first()
    moved = shapely.affinity.translate(shapely.from_wkt(instance.geometry_wkt), xoff=3.0)  # 3 m east
    ann = create_user(session, "ann", "annotator", "password1")
    record_verdict(session, ann, project, "geometry", instance_id=instance.id, action="adjusted",
                   final_geometry_wkt=moved.wkt, dx_m=3.0, dy_m=0.0, rotation_deg=0.0)
    frame = export_geo(session, "rail", tmp_path / "out.geojson")
    row = frame[frame["instance_id"] == instance.source_id].iloc[0]
    assert row["verdict"] == "adjusted" and row["reviewed_by"] == "ann"
    back = gpd.GeoSeries([row.geometry], crs=4326).to_crs(session.get(Raster, instance.raster_id).crs)
    # EPSG:27700 <-> 4326 without the OSTN grid round-trips to about 1 mm
    assert back.iloc[0].equals_exact(moved, tolerance=5e-3)


def test_other_formats_and_crs_are_accepted(buildings, session, tmp_path):
    frame = gpd.read_file(buildings / "annotations.geojson").to_crs(3857)
    frame.to_file(tmp_path / "b.gpkg", driver="GPKG")
    frame.to_file(tmp_path / "b.shp")
    report = import_geo(session, "b1", "buildings", buildings / "rasters", tmp_path / "b.gpkg")
    assert report.created["instances"] == len(frame)
    report = import_geo(session, "b2", "buildings", buildings / "rasters", tmp_path / "b.shp")
    assert report.created["instances"] == len(frame)
    assert export_geo(session, "b2", tmp_path / "b2.gpkg").crs.to_epsg() == 3857


def _copy_rasters(source, target):
    target.mkdir()
    for tif in (source / "rasters").glob("*.tif"):
        (target / tif.name).write_bytes(tif.read_bytes())
    return sorted(target.glob("*.tif"))


def test_truncated_geotiff_is_refused_and_nothing_is_written(railway, database, tmp_path, capsys):
    tiles = _copy_rasters(railway, tmp_path / "rasters")
    data = tiles[1].read_bytes()
    tiles[1].write_bytes(data[: len(data) // 2])
    args = ["import-geo", "--project", "rail", "--kind", "railway", "--rasters",
            str(tmp_path / "rasters"), "--annotations", str(railway / "annotations.geojson")]
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert tiles[1].name in err and "truncated" in err
    assert _counts() == (0, 0, 0)
    assert cli(args + ["--skip-bad", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["created"]["rasters"] == 1 and tiles[1].name in report["refused"][0]["what"]


def test_unreadable_raster(session, tmp_path, railway):
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"II*\x00 not a tiff at all")
    with pytest.raises(InputError, match="garbage.tif.*unreadable"):
        import_geo(session, "rail", "railway", garbage, railway / "annotations.geojson")


def test_vectors_without_crs(railway, session, tmp_path):
    gpd.read_file(railway / "annotations.geojson").to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink()
    with pytest.raises(InputError, match="nocrs.shp.*no CRS"):
        import_geo(session, "rail", "railway", railway / "rasters", tmp_path / "nocrs.shp")


def _with_feature(source, path, geometry):
    frame = gpd.read_file(source)
    row = frame.iloc[[0]].copy()
    row["instance_id"] = 999_999
    row = row.set_geometry([geometry], crs=frame.crs)
    gpd.GeoDataFrame(pd.concat([frame, row], ignore_index=True), crs=frame.crs).to_file(path)
    return path


@pytest.mark.parametrize("geometry, problem", [
    (Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), "invalid geometry"),  # a bow tie
    (None, "empty geometry"),
])
def test_invalid_and_empty_geometries_are_refused(buildings, session, tmp_path, geometry, problem):
    path = _with_feature(buildings / "annotations.geojson", tmp_path / "bad.geojson", geometry)
    with pytest.raises(InputError, match=f"bad.geojson.*feature 999999: {problem}"):
        import_geo(session, "b", "buildings", buildings / "rasters", path)
    assert session.exec(select(Instance)).all() == []
    report = import_geo(session, "b", "buildings", buildings / "rasters", path, skip_bad=True)
    assert [what for what, _ in report.refused] == ["feature 999999"]
    assert problem in report.refused[0][1]
    assert report.created["instances"] == len(gpd.read_file(path)) - 1


def test_wrong_geometry_type_is_refused(buildings, session, tmp_path):
    point = gpd.read_file(buildings / "annotations.geojson").geometry.iloc[0].centroid
    path = _with_feature(buildings / "annotations.geojson", tmp_path / "pt.geojson", point)
    with pytest.raises(InputError, match="Point is not a buildings annotation"):
        import_geo(session, "b", "buildings", buildings / "rasters", path)


def test_vectors_that_miss_every_raster(railway, session, tmp_path):
    frame = gpd.read_file(railway / "annotations.geojson")
    frame.geometry = frame.geometry.translate(xoff=20.0)  # 20 degrees east: nowhere near
    frame.to_file(tmp_path / "far.geojson")
    with pytest.raises(InputError, match="far.geojson.*no annotation overlaps any raster"):
        import_geo(session, "rail", "railway", railway / "rasters", tmp_path / "far.geojson")


def test_features_outside_the_rasters_are_reported(railway, session, tmp_path):
    far = Point(20.0, 50.0).buffer(0.0001).exterior
    path = _with_feature(railway / "annotations.geojson", tmp_path / "some.geojson",
                         shapely.geometry.LineString(far.coords))
    report = import_geo(session, "rail", "railway", railway / "rasters", path)
    assert any("999999" in w and "outside every raster" in w for w in report.warnings)
    assert "999999" not in {i.source_id for i in session.exec(select(Instance))}


def test_reimporting_the_same_rasters_keeps_them_once(railway, session):
    import_geo(session, "rail", "railway", railway / "rasters", railway / "annotations.geojson")
    with pytest.raises(InputError, match="already in the project"):
        import_geo(session, "rail", "railway", railway / "rasters", railway / "annotations.geojson")
