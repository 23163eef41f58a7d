"""The control of a retrain: the same training set with people's verdicts ignored.

Training a child on it for as many steps as the real retrain tells a gain from the verdicts apart
from a gain from extra steps: same items, same held-out share, same seed, only the labels differ.
AutoCorrect: every label back at its imported geometry and noisy. Localizer: the boxed clips lose
people's boxes and train with the tri-map loss like the rest. AVST: every verified clip outside the
held-out share trains as imported, taken as evident and in sync (neither the category nor the offset
people gave is used), since a sync set without verdicts has nothing else to go on.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import shapely
from sqlmodel import Session

from annotation_db.models import Instance, Raster
from training.holdout import is_held_out
from training.verdict_sets import VerdictTrainingSet


def ignore_verdicts(session: Session, model: str, data: VerdictTrainingSet, project_id: int) -> VerdictTrainingSet:
    """`data` (project_id's set) with the verdicts' labels taken out of its training half (held-out half unchanged)."""
    if model == "autocorrect":
        return _autocorrect_without_verdicts(session, data)
    if model == "localizer":
        return _localizer_without_boxes(data)
    if model == "avst":
        return _avst_as_imported(session, project_id, data)
    raise ValueError(f"ignore_verdicts: no verdict-free control for {model} (autocorrect, localizer, avst)")


def _autocorrect_without_verdicts(session: Session, data: VerdictTrainingSet) -> VerdictTrainingSet:
    """Each training label back at its imported geometry and marked unverified."""
    path = data.train_dir / "annotations.geojson"
    frame = gpd.read_file(path)
    frame["geometry"] = [_imported_geometry(session, int(i), frame.crs) for i in frame["instance_id"]]
    frame["verified"] = False
    frame.to_file(path, driver="GeoJSON")
    counts = {**data.counts, "noisy": len(frame), "clean": 0, "ignored_verdicts": len(data.verdict_ids)}
    return VerdictTrainingSet(data.train_dir, data.heldout_dir, [], counts)


def _localizer_without_boxes(data: VerdictTrainingSet) -> VerdictTrainingSet:
    """No people's boxes: every training clip (the boxed ones too) trains with the tri-map loss.

    The clips left out (sound check No) stay out, so the control sees the same clips; only the
    boxes verdicts are dropped from its verdict ids.
    """
    from training.localizer.commands import PEOPLE_BOXES

    path = data.train_dir / PEOPLE_BOXES
    boxed = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    path.write_text("[]", encoding="utf-8")
    dropped = {i for entry in boxed for i in entry.get("verdict_ids", [])}
    counts = {**data.counts, "oracle": 0, "trimap": data.counts.get("trimap", 0) + len(boxed),
              "ignored_verdicts": len(dropped)}
    return VerdictTrainingSet(data.train_dir, data.heldout_dir,
                              [i for i in data.verdict_ids if i not in dropped], counts)


def _avst_as_imported(session: Session, project_id: int, data: VerdictTrainingSet) -> VerdictTrainingSet:
    """Every verified clip outside the held-out share, as imported, as an in-sync positive.

    Clips people left out (uniform/ambient, no source) come in too, and clips they put at an
    offset train unshifted: what the verdicts said is not used, only which clips were verified.
    """
    from training.avst.verdict_data import SyncTruth, review_truths, write_in_sync, write_index

    shutil.rmtree(data.train_dir / "clips")
    (data.train_dir / "clips").mkdir()
    rows, ignored = [], 0
    for truth in review_truths(session, project_id):
        media = truth.clip.media_path
        if is_held_out(project_id, f"clip:{truth.clip.id}") or not media or not Path(media).is_file():
            continue
        rows.append(write_in_sync(SyncTruth(truth.clip, truth.verdict, 0), data.train_dir))
        ignored += 1
    write_index(data.train_dir, rows)
    counts = {**data.counts, "positives": len(rows), "shifted": 0, "left_out": 0, "ignored_verdicts": ignored}
    return VerdictTrainingSet(data.train_dir, data.heldout_dir, [], counts)


def _imported_geometry(session: Session, instance_id: int, crs) -> shapely.Geometry:
    """An instance's geometry as imported (before any verdict), in `crs`."""
    instance = session.get(Instance, instance_id)
    raster = session.get(Raster, instance.raster_id)
    return gpd.GeoSeries([shapely.from_wkt(instance.geometry_wkt)], crs=raster.crs).to_crs(crs).iloc[0]
