"""VGG-SS JSON import/export, including the real public file, and its bad-input cases."""

from __future__ import annotations

import json
import math

import pytest
from sqlmodel import select

from annotation_db.cli import main as cli
from annotation_db.engine import session_scope
from annotation_db.export_vggss import vggss_entries
from annotation_db.import_vggss import import_vggss
from annotation_db.models import Clip, Project, Verdict
from annotation_db.users import create_user
from annotation_db.verdicts import record_verdict
from core.errors import InputError
from core.vggsound import check_box
from tests.conftest import VGGSS_JSON


def _write(tmp_path, entries) -> str:
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps(entries))
    return str(path)


@pytest.mark.parametrize("raw, box, repaired", [
    ([0.1, 0.2, 0.3, 0.4], (0.1, 0.2, 0.3, 0.4), None),
    ([-0.01, 0.2, 1.02, 0.4], (0.0, 0.2, 1.0, 0.4), "clamped to [0, 1]"),
    ([0.3, 0.4, 0.1, 0.2], (0.1, 0.2, 0.3, 0.4), "swapped reversed corners"),
])
def test_check_box_repairs_what_is_safe(raw, box, repaired):
    checked = check_box(raw)
    assert checked.box == pytest.approx(box) and checked.repair == repaired and not checked.problem


@pytest.mark.parametrize("raw, problem", [
    ([0.1, 0.2, math.nan, 0.4], "non-finite"),
    ([0.1, 0.2, -2.88e16, 0.4], "outside"),
    ([0.5, 0.2, 0.5, 0.4], "zero-area"),
    ([0.1, 0.2, 0.3], "four numbers"),
    (["a", 0.2, 0.3, 0.4], "four numbers"),
])
def test_check_box_refuses_what_is_not(raw, problem):
    checked = check_box(raw)
    assert checked.box is None and problem in checked.problem


def test_bad_box_stops_the_import_and_leaves_the_database_unchanged(tmp_path, database, capsys):
    path = _write(tmp_path, [{"file": "a_000001", "class": "dog", "bbox": [[0.1, 0.1, 0.5, 0.5]]},
                             {"file": "b_000002", "class": "cat", "bbox": [[0.1, 0.1, 1e9, 0.5]]}])
    assert cli(["import-vggss", path, "--project", "p"]) == 2
    err = capsys.readouterr().err
    assert "boxes.json" in err and "b_000002" in err and "outside" in err
    with session_scope() as session:
        assert session.exec(select(Clip)).all() == []
        assert session.exec(select(Project)).all() == []


def test_skip_bad_keeps_every_entry_and_lists_refused_boxes(tmp_path, session):
    path = _write(tmp_path, [{"file": "a_000001", "class": "dog", "bbox": [[0.1, 0.1, 0.5, 0.5]]},
                             {"file": "b_000002", "class": "cat",
                              "bbox": [[0.1, 0.1, float("inf"), 0.5], [0.2, 0.2, 0.3, 1.01]]}])
    report = import_vggss(session, "p", path, skip_bad=True)
    assert report.created == {"clips": 2, "boxes": 2}
    assert len(report.refused) == 1 and "non-finite" in report.refused[0][1]
    assert any("clamped" in line for line in report.repaired)
    assert [e["file"] for e in vggss_entries(session, "p")] == ["a_000001", "b_000002"]
    assert vggss_entries(session, "p")[1]["bbox"] == [[0.2, 0.2, 0.3, 1.0]]


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not a readable JSON"),
    ('{"file": "x"}', "JSON list"),
    ('[{"file": "x", "class": "y"}]', "lacks one of the keys"),
])
def test_malformed_files_name_the_problem(tmp_path, session, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=problem) as error:
        import_vggss(session, "p", path)
    assert "bad.json" in str(error.value)


def test_people_boxes_win_over_imported_ones_on_export(tmp_path, session):
    path = _write(tmp_path, [{"file": "a_000001", "class": "dog", "bbox": [[0.1, 0.1, 0.5, 0.5]]}])
    import_vggss(session, "p", path)
    project = session.exec(select(Project)).one()
    clip = session.exec(select(Clip)).one()
    assert clip.youtube_id == "a" and clip.start_seconds == 1 and clip.media_path is None
    ann = create_user(session, "ann", "annotator", "password1")
    record_verdict(session, ann, project, "boxes", clip_id=clip.id, boxes=[[0.2, 0.2, 0.6, 0.7]])
    assert vggss_entries(session, "p")[0]["bbox"] == [[0.2, 0.2, 0.6, 0.7]]
    record_verdict(session, ann, project, "boxes", clip_id=clip.id, cannot_localise=True)
    assert vggss_entries(session, "p")[0]["bbox"] == []


@pytest.mark.skipif(not VGGSS_JSON.exists(), reason="../shared/data/vggss/vggss.json not present")
def test_real_vggss_file_round_trips_every_entry(tmp_path, database, capsys):
    assert cli(["import-vggss", str(VGGSS_JSON), "--project", "vggss"]) == 2
    assert "use --skip-bad" in capsys.readouterr().err
    assert cli(["import-vggss", str(VGGSS_JSON), "--project", "vggss", "--skip-bad", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    original = json.loads(VGGSS_JSON.read_text())
    assert report["created"]["clips"] == len(original) == 5158
    refused = {r["what"] for r in report["refused"]}
    out = tmp_path / "export.json"
    assert cli(["export-vggss", "--project", "vggss", "--out", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert [(e["file"], e["class"]) for e in exported] == [(e["file"], e["class"]) for e in original]
    for index, (before, after) in enumerate(zip(original, exported)):
        kept = [b for n, b in enumerate(before["bbox"])
                if f"entry {index} ({before['file']}) box {n}" not in refused]
        assert after["bbox"] == kept, before["file"]
    with session_scope() as session:
        assert len(session.exec(select(Verdict)).all()) == 5158
