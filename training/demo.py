"""The demo workspace: generated data imported as the five demo projects."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.import_geo import import_geo
from annotation_db.models import Project
from annotation_db.projects import get_project
from annotation_db.reports import Progress
from core.config import get_settings
from training.families import family_for_kind


def _railway(root: Path, seed: int, session, progress: Progress):
    from core.synthetic.geo import generate_geo

    data = generate_geo(kind="railway", tiles=4, size=512, seed=seed, out=root / "railway")
    return import_geo(session, "demo-railway", "railway", data / "rasters",
                      data / "annotations.geojson", progress=progress)


def _buildings(root: Path, seed: int, session, progress: Progress):
    from core.synthetic.geo import generate_geo

    data = generate_geo(kind="buildings", tiles=4, size=512, seed=seed + 1, out=root / "buildings")
    return import_geo(session, "demo-buildings", "buildings", data / "rasters",
                      data / "annotations.geojson", progress=progress)


def _localization(root: Path, seed: int, session, progress: Progress):
    from core.synthetic.localization import generate_localization

    data = generate_localization(clips=16, seed=seed + 2, out=root / "localization")
    return import_clips(session, "demo-localization", "localization", data / "clips",
                        data / "labels.csv", progress=progress)


def _sync(root: Path, seed: int, session, progress: Progress):
    from core.synthetic.sync import generate_sync

    data = generate_sync(clips=16, seed=seed + 3, out=root / "sync", min_duration=4.0,
                         max_duration=6.0)
    return import_clips(session, "demo-sync", "sync", data / "clips", data / "labels.csv",
                        progress=progress)


def _clip_verification(root: Path, seed: int, session, progress: Progress):
    from core.synthetic.localization import generate_localization

    data = generate_localization(clips=35, seed=seed + 4, out=root / "clip-verification",
                                 duration=3.0, size=160, label_noise=0.25)
    return import_clips(session, "demo-clip-verification", "clip-verification", data / "clips",
                        data / "labels.csv", progress=progress)


DEMO_PROJECTS: dict[str, Callable] = {
    "demo-railway": _railway,
    "demo-buildings": _buildings,
    "demo-localization": _localization,
    "demo-sync": _sync,
    "demo-clip-verification": _clip_verification,
}


def missing_demo_projects() -> list[str]:
    """Demo projects not in the database yet."""
    with session_scope() as session:
        present = set(session.exec(select(Project.name)))
    return [name for name in DEMO_PROJECTS if name not in present]


def seed_demo(root: Path | None = None, seed: int | None = None,
              progress: Progress = None) -> Iterator[str]:
    """Generate and import each missing demo project (one transaction each); yields a line per project."""
    settings = get_settings()
    root = Path(root or settings.demo_dir)
    seed = settings.demo_seed if seed is None else seed
    todo = missing_demo_projects()
    if not todo:
        yield "demo projects already present"
    for name in todo:
        started = time.perf_counter()
        with session_scope() as session:
            report = DEMO_PROJECTS[name](root, seed, session, progress)
            proposals = _propose(session, name)
        made = f", {proposals} proposals" if proposals else ""
        yield f"{report.headline}{made} in {time.perf_counter() - started:.1f} s"


def _propose(session, name: str) -> int:
    """Proposals from the bundled demo checkpoint of the project's model, if it has one."""
    project = get_project(session, name)
    family = family_for_kind(project.kind.value)
    return 0 if family is None else family.predict_project(session, project)
