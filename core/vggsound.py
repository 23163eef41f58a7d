"""The VGG-Sound / VGG-SS file layouts: clip keys, label CSVs and box JSON, with their checks."""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError

KEY_PATTERN = re.compile(r"^(?P<youtube_id>.+)_(?P<start>\d{6})$")
LABEL_COLUMNS = ("youtube_id", "start_seconds", "label", "split")
BOX_TOLERANCE = 0.05  # coordinates this far outside [0, 1] are clamped; further out is an error


@dataclass(frozen=True)
class LabelRow:
    """One row of a VGG-Sound label CSV."""

    youtube_id: str
    start_seconds: int
    label: str
    split: str

    @property
    def key(self) -> str:
        return clip_key(self.youtube_id, self.start_seconds)


def clip_key(youtube_id: str, start_seconds: float) -> str:
    """The VGG-Sound clip name, e.g. 'zpWuikVorYg_000032'."""
    return f"{youtube_id}_{int(start_seconds):06d}"


def parse_clip_key(key: str) -> tuple[str, int] | None:
    """(youtube id, start seconds) of a VGG-Sound clip name, or None if it is not one."""
    match = KEY_PATTERN.match(key)
    return (match["youtube_id"], int(match["start"])) if match else None


def read_labels_csv(path: str | Path) -> dict[str, LabelRow]:
    """Rows of a VGG-Sound CSV (`youtube_id,start_seconds,label,split`, header optional) by key."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read CSV ({exc})") from exc
    if rows and [c.strip().lower() for c in rows[0][:4]] == list(LABEL_COLUMNS):
        rows = rows[1:]
    labels: dict[str, LabelRow] = {}
    for line, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 4:
            raise InputError(path, f"line {line} has {len(row)} column(s); expected "
                                   f"{','.join(LABEL_COLUMNS)}")
        youtube_id, start, label, split = (cell.strip() for cell in row[:4])
        if not start.isdigit():
            raise InputError(path, f"line {line}: start_seconds {start!r} is not a whole number")
        if not youtube_id or not label:
            raise InputError(path, f"line {line}: empty youtube_id or label")
        entry = LabelRow(youtube_id, int(start), label, split)
        labels[entry.key] = entry
    if not labels:
        raise InputError(path, "CSV holds no rows")
    return labels


def read_vggss_entries(path: str | Path) -> list[dict]:
    """The entries of a VGG-SS JSON file, each checked to have file, class and a bbox list."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a readable JSON file ({exc})") from exc
    if not isinstance(data, list):
        raise InputError(path, "expected a JSON list of {file, class, bbox} entries")
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or not {"file", "class", "bbox"} <= entry.keys():
            raise InputError(path, f"entry {index} lacks one of the keys file, class, bbox")
        if not isinstance(entry["file"], str) or not entry["file"]:
            raise InputError(path, f"entry {index}: 'file' must be a non-empty string")
        if not isinstance(entry["bbox"], list):
            raise InputError(path, f"entry {index} ({entry['file']}): 'bbox' must be a list")
    return data


@dataclass(frozen=True)
class CheckedBox:
    """A box after checking: the usable box, what was repaired, or why it is unusable."""

    box: tuple[float, float, float, float] | None
    repair: str | None = None
    problem: str | None = None


def check_box(raw: object) -> CheckedBox:
    """Check one [x1, y1, x2, y2] box normalised to [0, 1], repairing what is safe to repair."""
    if not isinstance(raw, (list, tuple)) or len(raw) != 4 or \
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        return CheckedBox(None, problem=f"{raw!r} is not four numbers")
    values = [float(v) for v in raw]
    if not all(math.isfinite(v) for v in values):
        return CheckedBox(None, problem=f"non-finite coordinate in {values}")
    if any(v < -BOX_TOLERANCE or v > 1 + BOX_TOLERANCE for v in values):
        return CheckedBox(None, problem=f"coordinate outside [0, 1] in {values}")
    repairs = []
    clamped = [min(max(v, 0.0), 1.0) for v in values]
    if clamped != values:
        repairs.append("clamped to [0, 1]")
    x1, y1, x2, y2 = clamped
    if x1 > x2 or y1 > y2:
        x1, x2, y1, y2 = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
        repairs.append("swapped reversed corners")
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        return CheckedBox(None, problem=f"zero-area box {values}")
    return CheckedBox((x1, y1, x2, y2), repair=", ".join(repairs) or None)
