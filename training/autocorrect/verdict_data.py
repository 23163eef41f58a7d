"""AutoCorrect training and held-out sets from a geo project's verdicts.

Instances people accepted, adjusted or kept as they were are clean labels at their final geometry
(property `verified: true`, so J_s applies to them exactly); instances nobody reviewed yet are noisy
labels at their current geometry (J_c with the eq. 3.5 gating under `--loss joint`); instances marked
not visible or obsolete are left out. Verified instances of the project's held-out share go only to
the held-out set, whose annotations are the original noisy geometry and whose truth is the verified
one, so `eval autocorrect --data heldout_dir` scores a model on people's answers.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlmodel import Session, select

from annotation_db.models import GeometryAction, Instance, Project, Raster, Verdict, VerdictKind
from annotation_db.verdicts import latest_verdicts
from training.holdout import is_held_out
from training.verdict_sets import VerdictTrainingSet

ANNOTATION_CRS = "EPSG:4326"  # what `python -m core.synthetic geo` writes and load_generated reads
GONE = (GeometryAction.not_visible, GeometryAction.obsolete)


@dataclass(frozen=True)
class Label:
    """One instance as a training or held-out label."""

    instance: Instance
    geometry_wkt: str  # where the label is: final geometry if verified, else the current one
    verified: bool
    verdict: Verdict | None


def instance_labels(session: Session, project_id: int) -> tuple[list[Label], list[Verdict]]:
    """Every live instance of a project as a label, and the verdicts that left instances out."""
    verdicts = latest_verdicts(session, project_id, VerdictKind.geometry, humans_only=True)
    labels, gone = [], []
    for instance in session.exec(select(Instance).where(Instance.project_id == project_id)
                                 .order_by(Instance.id)):
        verdict = verdicts.get(instance.id)
        if verdict is not None and verdict.action in GONE:
            gone.append(verdict)
        elif verdict is None:
            labels.append(Label(instance, instance.geometry_wkt, False, None))
        else:  # accepted / adjusted: final geometry; original: the input was right
            final = verdict.final_geometry_wkt or instance.geometry_wkt
            labels.append(Label(instance, final, True, verdict))
    return labels, gone


def build_training_set(session: Session, project_id: int, out_dir: Path) -> VerdictTrainingSet:
    """Write out_dir/train (and out_dir/heldout) in the layout `train|eval autocorrect --data` read."""
    project = session.get(Project, project_id)
    if project is None or not project.kind.is_geo:
        raise ValueError(f"project {project_id} is not a railway or buildings project")
    out_dir = Path(out_dir)
    train_dir, heldout_dir = out_dir / "train", out_dir / "heldout"
    for folder in (train_dir, heldout_dir):
        shutil.rmtree(folder, ignore_errors=True)
    labels, gone = instance_labels(session, project_id)
    held = [lb for lb in labels if lb.verified and is_held_out(project_id, f"instance:{lb.instance.id}")]
    held_ids = {lb.instance.id for lb in held}
    train = [lb for lb in labels if lb.instance.id not in held_ids]
    if not train:
        raise ValueError(f"project {project.name!r} has no instances to train on")
    _write_set(session, project, train_dir, train, truth=False)
    if held:
        _write_set(session, project, heldout_dir, held, truth=True)
    counts = {"clean": sum(lb.verified for lb in train), "noisy": sum(not lb.verified for lb in train),
              "left_out": len(gone), "held_out": len(held)}
    verdict_ids = sorted([lb.verdict.id for lb in train if lb.verdict] + [v.id for v in gone])
    return VerdictTrainingSet(train_dir=train_dir, heldout_dir=heldout_dir if held else None,
                              verdict_ids=verdict_ids, counts=counts)


def _write_set(session: Session, project: Project, folder: Path, labels: list[Label], truth: bool) -> None:
    """rasters/, annotations.geojson (+ truth.geojson for a held-out set) and meta.json in `folder`."""
    (folder / "rasters").mkdir(parents=True)
    by_file: dict[str, list[Label]] = {}  # the work units of one raster file train as one tile
    for label in labels:
        by_file.setdefault(session.get(Raster, label.instance.raster_id).path, []).append(label)
    noisy, true = [], []
    for group in sorted(by_file.values(), key=lambda g: min(lb.instance.raster_id for lb in g)):
        raster = session.get(Raster, min(lb.instance.raster_id for lb in group))
        name = f"raster_{raster.id:06d}{Path(raster.path).suffix or '.tif'}"
        _link_or_copy(Path(raster.path), folder / "rasters" / name)
        given = [lb.instance.geometry_wkt if truth else lb.geometry_wkt for lb in group]
        noisy.append(_frame(group, given, name, raster.crs, truth))
        if truth:
            true.append(_frame(group, [lb.geometry_wkt for lb in group], name, raster.crs, truth))
    _write_geojson(noisy, folder / "annotations.geojson")
    if truth:
        _write_geojson(true, folder / "truth.geojson")
    meta = {"kind": project.kind.value, "project": project.name, "tiles": len(by_file),
            "instances": len(labels), "verified": sum(lb.verified for lb in labels),
            "source": "held-out verdicts" if truth else "verdicts"}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def _frame(group: list[Label], wkts: list[str], tile: str, crs: str, heldout: bool) -> gpd.GeoDataFrame:
    """One raster's labels as rows (tile, instance_id, verified[, noisy]) in the annotation CRS."""
    rows = [{"tile": tile, "instance_id": lb.instance.id, "verified": lb.verified} for lb in group]
    if heldout:  # the people's answer moved it: the evaluation's "perturbed only" share
        for row, lb in zip(rows, group):
            row["noisy"] = lb.geometry_wkt != lb.instance.geometry_wkt
    frame = gpd.GeoDataFrame(rows, geometry=[shapely.from_wkt(w) for w in wkts], crs=crs)
    return frame.to_crs(ANNOTATION_CRS)


def _write_geojson(frames: list[gpd.GeoDataFrame], path: Path) -> None:
    gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=ANNOTATION_CRS).to_file(path, driver="GeoJSON")


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link to the raster where the file system allows it, else a copy."""
    if not source.is_file():
        raise FileNotFoundError(f"{source}: raster file missing")
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def ignore_verdicts(session: Session, data: VerdictTrainingSet, project_id: int) -> VerdictTrainingSet:
    """A retrain's control: each training label back at its imported geometry and marked unverified."""
    path = data.train_dir / "annotations.geojson"
    frame = gpd.read_file(path)
    frame["geometry"] = [_imported_geometry(session, int(i), frame.crs) for i in frame["instance_id"]]
    frame["verified"] = False
    frame.to_file(path, driver="GeoJSON")
    counts = {**data.counts, "noisy": len(frame), "clean": 0, "ignored_verdicts": len(data.verdict_ids)}
    return VerdictTrainingSet(data.train_dir, data.heldout_dir, [], counts)


def _imported_geometry(session: Session, instance_id: int, crs) -> shapely.Geometry:
    """An instance's geometry as imported (before any verdict), in `crs`."""
    instance = session.get(Instance, instance_id)
    raster = session.get(Raster, instance.raster_id)
    return gpd.GeoSeries([shapely.from_wkt(instance.geometry_wkt)], crs=raster.crs).to_crs(crs).iloc[0]
