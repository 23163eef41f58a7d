"""Clip import: probe facts, VGG-Sound labels, and the bad-input cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import select

from annotation_db.cli import main as cli
from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import Clip, Project
from core.errors import InputError
from core.media import write_clip
from core.synthetic.localization import generate_localization
from core.vggsound import read_labels_csv


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Four short generated clips with a VGG-Sound labels CSV."""
    return generate_localization(clips=4, seed=5, out=tmp_path_factory.mktemp("loc"),
                                 duration=1.0, size=64)


def _all_clips():
    with session_scope() as session:
        return session.exec(select(Clip).order_by(Clip.key)).all()


def test_import_records_probe_facts_and_labels(clips, database, capsys):
    assert cli(["import-clips", "--project", "loc", "--task", "localization", "--clips",
                str(clips / "clips"), "--labels", str(clips / "labels.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == {"clips": 4}
    labels = read_labels_csv(clips / "labels.csv")
    for clip in _all_clips():
        assert clip.label == labels[clip.key].label and clip.split == labels[clip.key].split
        assert clip.fps == 25 and clip.sample_rate == 16000 and clip.width == 64
        assert clip.duration == pytest.approx(1.0, abs=0.05)
        assert clip.youtube_id == labels[clip.key].youtube_id
    assert cli(["stats", "--project", "loc", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == {"clips": 4, "clips_with_media": 4}


def _copy(clips, target):
    target.mkdir()
    for path in (clips / "clips").glob("*.mp4"):
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_media_without_audio_is_refused(clips, database, tmp_path, capsys):
    folder = _copy(clips, tmp_path / "media")
    write_clip(folder / "silent_000001.mp4", np.zeros((5, 32, 32, 3), np.uint8), 25, audio=None)
    args = ["import-clips", "--project", "p", "--task", "sync", "--clips", str(folder)]
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert "silent_000001.mp4" in err and "no audio stream" in err
    assert _all_clips() == []
    with session_scope() as session:
        assert session.exec(select(Project)).all() == []
    assert cli(args + ["--skip-bad", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["created"] == {"clips": 4}
    assert report["refused"] == [{"what": str(folder / "silent_000001.mp4"),
                                  "why": "media has no audio stream"}]


def test_truncated_media_is_refused(clips, session, tmp_path):
    folder = _copy(clips, tmp_path / "media")
    victim = sorted(folder.glob("*.mp4"))[0]
    victim.write_bytes(victim.read_bytes()[:2000])
    with pytest.raises(InputError, match=f"{victim.name}.*unreadable or truncated"):
        import_clips(session, "p", "sync", folder)


@pytest.mark.parametrize("content, problem", [
    ("abc,1,dog\n", "line 1 has 3 column"),
    ("abc,one,dog,train\n", "not a whole number"),
    ("", "no rows"),
])
def test_labels_csv_problems_are_named(clips, session, tmp_path, content, problem):
    labels = tmp_path / "labels.csv"
    labels.write_text(content)
    with pytest.raises(InputError, match=f"labels.csv.*{problem}"):
        import_clips(session, "p", "localization", clips / "clips", labels)


def test_header_row_and_unlabelled_clips(clips, session, tmp_path):
    rows = (clips / "labels.csv").read_text().splitlines()
    labels = tmp_path / "labels.csv"
    labels.write_text("youtube_id,start_seconds,label,split\n" + "\n".join(rows[1:]) + "\n"
                      + "missingclip,5,owl,test\n")
    report = import_clips(session, "p", "clip-verification", clips / "clips", labels)
    assert report.created["clips"] == 4
    assert any("no row in labels.csv" in w for w in report.warnings)
    assert any("missingclip_000005" in w for w in report.warnings)
    assert sum(c.label is None for c in session.exec(select(Clip))) == 1


def test_reimport_skips_clips_already_there(clips, session):
    import_clips(session, "p", "sync", clips / "clips")
    report = import_clips(session, "p", "sync", clips / "clips")
    assert report.created["clips"] == 0 and len(report.warnings) == 4


def test_task_must_be_a_clip_task(clips, session):
    with pytest.raises(ValueError):
        import_clips(session, "p", "railway", clips / "clips")
