"""The control of a retrain: the same training set with people's verdicts ignored.

Training a child on it for as many steps as the real retrain tells a gain from the verdicts apart
from a gain from extra steps: same items, same held-out share, same seed, only the labels differ.
AutoCorrect: every label back at its imported geometry and noisy. Localizer: the boxed clips lose
people's boxes and train with the tri-map loss like the rest.
"""

from __future__ import annotations

import json

import geopandas as gpd
import shapely
from sqlmodel import Session

from annotation_db.models import Instance, Raster
from training.verdict_sets import VerdictTrainingSet


def ignore_verdicts(session: Session, model: str, data: VerdictTrainingSet) -> VerdictTrainingSet:
    """`data` with the verdicts' labels taken out of its training half (held-out half unchanged)."""
    if model == "autocorrect":
        return _autocorrect_without_verdicts(session, data)
    if model == "localizer":
        return _localizer_without_boxes(data)
    raise ValueError(f"ignore_verdicts: no verdict-free control for {model} yet (autocorrect, localizer)")


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


def _imported_geometry(session: Session, instance_id: int, crs) -> shapely.Geometry:
    """An instance's geometry as imported (before any verdict), in `crs`."""
    instance = session.get(Instance, instance_id)
    raster = session.get(Raster, instance.raster_id)
    return gpd.GeoSeries([shapely.from_wkt(instance.geometry_wkt)], crs=raster.crs).to_crs(crs).iloc[0]
