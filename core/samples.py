"""Real samples that registry packages ship inside their wheels, fetched at run time and never committed.

Used by the real-data benchmarks and tests: the SpaceNet Atlanta tile in `solaris` 0.4.0, the
clips and recordings in `gradio`'s media_assets/. The wheel is found through the registry's
simple index (PEP 691 JSON), checked against the index's sha256 and only the named members are
unpacked into the cache.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

INDEX = "https://pypi.org/simple"


class SampleUnavailable(RuntimeError):
    """The registry could not be reached or did not have the wheel."""


@dataclass(frozen=True)
class WheelSample:
    """Files inside one registry wheel."""

    package: str
    filename: str  # the wheel's file name on the index
    members: tuple[str, ...]  # paths inside the wheel


SPACENET_ATLANTA = WheelSample(
    "solaris", "solaris-0.4.0-py3-none-any.whl",
    ("solaris/data/sample_geotiff.tif", "solaris/data/geotiff_labels.geojson"))


def fetch(sample: WheelSample, cache_dir: Path, timeout_s: float = 120.0) -> Path:
    """The folder holding the sample's members (downloaded once, then read from the cache)."""
    root = Path(cache_dir) / sample.filename.removesuffix(".whl")
    if all((root / m).is_file() for m in sample.members):
        return root
    try:
        request = urllib.request.Request(f"{INDEX}/{sample.package}/",
                                         headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            files = json.load(response)["files"]
        entry = next((f for f in files if f["filename"] == sample.filename), None)
        if entry is None:
            raise SampleUnavailable(f"{sample.filename}: not on the {sample.package} index")
        with urllib.request.urlopen(entry["url"], timeout=timeout_s) as response:
            data = response.read()
    except OSError as error:
        raise SampleUnavailable(f"{sample.filename}: the package registry is unreachable ({error})") from error
    expected = entry.get("hashes", {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise SampleUnavailable(f"{sample.filename}: sha256 differs from the index's")
    root.mkdir(parents=True, exist_ok=True)
    wheel = root.with_suffix(".whl.part")
    wheel.write_bytes(data)
    with zipfile.ZipFile(wheel) as archive:
        for member in sample.members:
            target = root / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    wheel.unlink()
    return root

GRADIO_MEDIA = WheelSample(
    "gradio", "gradio-6.31.0-py3-none-any.whl",
    tuple(f"gradio/media_assets/videos/{name}.mp4" for name in ("a", "b", "world")) +
    tuple(f"gradio/media_assets/audio/{name}" for name in ("sax.wav", "cantina.wav", "cate_blanch.mp3",
                                                            "heath_ledger.mp3")))
