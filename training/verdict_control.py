"""The control of a retrain: the same training set with people's verdicts ignored (every label noisy).

Training a child on it for as many steps as the real retrain tells a gain from the verdicts apart
from a gain from extra steps: same instances, same held-out share, same seed, only the labels differ.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from sqlmodel import Session

from annotation_db.models import Instance, Raster
from training.verdict_sets import VerdictTrainingSet


def ignore_verdicts(session: Session, model: str, data: VerdictTrainingSet) -> VerdictTrainingSet:
    """`data` with each training label back at its imported geometry and marked unverified."""
    if model != "autocorrect":
        raise ValueError(f"ignore_verdicts: no verdict-free control for {model} yet (autocorrect only)")
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
