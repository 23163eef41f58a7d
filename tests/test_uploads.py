"""Uploads: stored once per content inside the data folder, and removed once their import ran."""

from __future__ import annotations

from annotation_db.uploads import discard_upload, store_upload, uploads_dir


def test_the_same_bytes_are_stored_once_and_a_new_content_gets_its_own_folder(database):
    first = store_upload("labels.csv", b"a,1,dog,train\n")
    again = store_upload("labels.csv", memoryview(b"a,1,dog,train\n"))
    other = store_upload("labels.csv", b"b,2,cat,test\n")
    assert first == again != other
    assert first.read_bytes() == b"a,1,dog,train\n"
    assert sorted(p.name for p in uploads_dir().iterdir()) == sorted({first.parent.name, other.parent.name})
    assert not list(uploads_dir().rglob("*.part"))


def test_a_name_with_folders_or_dots_stays_inside_the_uploads_folder(database):
    escaped = store_upload("../../../etc/passwd", b"x")
    dotted = store_upload("..", b"y")
    root = uploads_dir().resolve()
    assert escaped.parent.parent == root and escaped.name == "passwd"
    assert dotted.parent.parent == root and dotted.name == "upload"


def test_discard_removes_an_upload_and_leaves_other_files_alone(database, tmp_path):
    kept = store_upload("a.json", b"[]")
    gone = store_upload("b.json", b"[1]")
    elsewhere = tmp_path / "mine.json"
    elsewhere.write_text("[]")
    assert discard_upload(gone) is True
    assert not gone.parent.exists() and kept.is_file()
    assert discard_upload(elsewhere) is False and elsewhere.is_file()
    assert discard_upload(uploads_dir() / "stray.json") is False  # not in a content folder
