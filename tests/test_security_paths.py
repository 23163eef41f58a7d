"""Project names limited to safe characters; page exports only inside the data folder and for researchers."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from annotation_db import geo_review as gr
from annotation_db.engine import session_scope
from annotation_db.export_vggss import export_vggss
from annotation_db.import_geo import import_geo
from annotation_db.import_vggss import import_vggss
from annotation_db.models import Project, ProjectKind
from annotation_db.projects import ProjectError, check_project_name, ensure_project
from annotation_db.users import AccessDenied, create_user
from core.config import get_settings, inside_data_dir
from core.synthetic.geo import generate_geo


@pytest.mark.parametrize("name", ["birds", "kent-railways", "v2.1_final", "A" * 64, "_x", "-x"])
def test_safe_project_names_are_accepted(name):
    assert check_project_name(name) == name


@pytest.mark.parametrize("name", ["", "../../../x", "a/b", "a\\b", ".hidden", "..", "a b", "x" * 65,
                                  "name\n", "caf\u00e9", "a:b"])
def test_unsafe_project_names_are_refused_with_the_rule(name):
    with pytest.raises(ProjectError, match="letters, digits"):
        check_project_name(name)


@pytest.mark.both_databases
def test_ensure_project_refuses_an_unsafe_new_name_and_writes_nothing(database):
    with pytest.raises(ProjectError, match="not allowed"):
        with session_scope() as session:
            ensure_project(session, "../../../x", ProjectKind.sync)
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Project)).one() == 0


def test_imports_refuse_an_unsafe_new_project_name_before_writing(session, tmp_path):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([{"file": "a_000001", "class": "dog", "bbox": [[0.1, 0.1, 0.5, 0.5]]}]))
    with pytest.raises(ProjectError, match="not allowed"):
        import_vggss(session, "../../../x", boxes)
    data = generate_geo(kind="buildings", tiles=1, size=128, seed=1, out=tmp_path / "geo")
    with pytest.raises(ProjectError, match="not allowed"):
        import_geo(session, "a/b", "buildings", data / "rasters", data / "annotations.geojson")
    assert session.exec(select(func.count()).select_from(Project)).one() == 0


def test_inside_data_dir_refuses_escapes(database):
    root = get_settings().data_dir
    assert inside_data_dir(root / "exports" / "birds.json") == (root / "exports" / "birds.json").resolve()
    for escape in (root / "exports" / "../../../x.json", root.parent / "elsewhere.json", "/tmp/x.json"):
        with pytest.raises(ValueError, match="only inside the data folder"):
            inside_data_dir(escape)


def test_page_exports_stay_in_the_data_folder_and_are_for_researchers(session, tmp_path):
    data = generate_geo(kind="buildings", tiles=1, size=128, seed=1, out=tmp_path / "geo")
    import_geo(session, "blocks", "buildings", data / "rasters", data / "annotations.geojson")
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([{"file": "a_000001", "class": "dog", "bbox": [[0.1, 0.1, 0.5, 0.5]]}]))
    import_vggss(session, "birds", boxes)
    annotator = create_user(session, "ann", "annotator", "password123")
    researcher = create_user(session, "res", "researcher", "password123")
    session.commit()
    root = get_settings().data_dir

    with pytest.raises(AccessDenied, match="researchers"):
        gr.export_geometries("blocks", root / "exports" / "blocks.gpkg", annotator.id)
    with pytest.raises(AccessDenied, match="researchers"):
        export_vggss(session, "birds", root / "exports" / "birds.json", user=annotator)
    assert not (root / "exports").exists()

    with pytest.raises(ValueError, match="only inside the data folder"):
        gr.export_geometries("blocks", root / "exports" / "../../../escaped.gpkg", researcher.id)
    with pytest.raises(ValueError, match="only inside the data folder"):
        export_vggss(session, "birds", tmp_path / "escaped.json", user=researcher)
    assert not (tmp_path / "escaped.json").exists() and not (root.parent.parent / "escaped.gpkg").exists()

    assert gr.export_geometries("blocks", root / "exports" / "blocks.gpkg", researcher.id) > 0
    assert export_vggss(session, "birds", root / "exports" / "birds.json", user=researcher) == 1
    # the command line (no user) writes where the operator asks
    assert export_vggss(session, "birds", tmp_path / "cli.json") == 1
