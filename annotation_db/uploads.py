"""Files uploaded through the app: kept once per content inside the data folder until their import ran."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from core.config import get_settings, inside_data_dir

DIGEST_CHARS = 16  # hex characters of the sha256 naming an upload's folder


def uploads_dir() -> Path:
    """Where uploads wait for their import: <data dir>/uploads/<content digest>/<file name>."""
    return get_settings().data_dir / "uploads"


def store_upload(name: str, data: bytes | memoryview) -> Path:
    """Write an uploaded file once per content and return its path (a repeat of the same bytes writes nothing)."""
    name = Path(name).name
    if name in ("", ".", ".."):
        name = "upload"
    digest = hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]
    path = inside_data_dir(uploads_dir() / digest / name)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        partial.replace(path)  # a crash mid-write leaves no half file under the real name
    return path


def discard_upload(path: str | Path) -> bool:
    """Remove an upload and its content folder once its import has run; False if `path` is not an upload."""
    path = Path(path).resolve()
    root = uploads_dir().resolve()
    if not path.is_relative_to(root) or path.parent == root:
        return False
    shutil.rmtree(path.parent, ignore_errors=True)
    return True
