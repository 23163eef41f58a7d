"""Export a geo project's final geometries in the annotations' original CRS."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import geopandas as gpd
import shapely
from sqlmodel import Session, select

from annotation_db.models import GeometryAction, Instance, Proposal, Raster, User, VerdictKind
from annotation_db.projects import get_project
from annotation_db.users import require_exporter
from annotation_db.verdicts import latest_proposals, latest_verdicts
from annotation_db.work_units import source_name
from core.config import inside_data_dir

DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
MOVED = (GeometryAction.accepted, GeometryAction.adjusted)


def export_geo(session: Session, project: str, out: str | Path, *, user=None) -> gpd.GeoDataFrame:
    """Write one feature per instance: its final geometry, verdict and model version.

    With `user` (a page's caller): AccessDenied unless a researcher or admin, and `out` must lie
    inside the data folder. Without (the command line): any path."""
    out = Path(out)
    if user is not None:
        require_exporter(user)
        out = inside_data_dir(out)
    driver = DRIVERS.get(out.suffix.lower())
    if driver is None:
        raise ValueError(f"{out}: export to .gpkg or .geojson")
    target = get_project(session, project)
    instances = session.exec(select(Instance).where(Instance.project_id == target.id)
                             .order_by(Instance.id)).all()
    if not instances:
        raise ValueError(f"project {project!r} has no instances to export")
    frame = _final_geometries(session, target.id, instances)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    frame.to_file(out, driver=driver)
    return frame


def _final_geometries(session: Session, project_id: int, instances: list[Instance]) -> gpd.GeoDataFrame:
    verdicts = latest_verdicts(session, project_id, VerdictKind.geometry, humans_only=True)
    proposals = latest_proposals(session, project_id)
    rasters = {r.id: r for r in session.exec(select(Raster).where(Raster.project_id == project_id))}
    users = {u.id: u.name for u in session.exec(select(User))}
    export_crs = Counter(i.source_crs for i in instances).most_common(1)[0][0]
    records, sources = [], []
    for instance in instances:
        verdict = verdicts.get(instance.id)
        proposal = proposals.get(instance.id)
        if verdict is not None and verdict.action in MOVED:
            sources.append((verdict.final_geometry_wkt, rasters[instance.raster_id].crs))
        else:  # untouched: the imported geometry, exactly
            sources.append((instance.source_geometry_wkt, instance.source_crs))
        if verdict is not None and verdict.proposal_id is not None:
            proposal = session.get(Proposal, verdict.proposal_id)  # the one the person judged
        records.append({
            "instance_id": instance.source_id,
            "tile": source_name(rasters[instance.raster_id].name),  # a work unit exports as its raster
            "verdict": verdict.action.value if verdict else "unreviewed",
            "model_version": proposal.model_version if proposal else None,
            "reviewed_by": users.get(verdict.user_id) if verdict else None,
            "reviewed_at": verdict.created_at.isoformat() if verdict else None,
        })
    return gpd.GeoDataFrame(records, geometry=_reprojected(sources, export_crs), crs=export_crs)


def _reprojected(sources: list[tuple[str, str]], target_crs: str) -> list:
    """Geometries given as (WKT, CRS) pairs, in `target_crs`, one transform call per CRS."""
    by_crs: dict[str, list[int]] = defaultdict(list)
    for index, (_, crs) in enumerate(sources):
        by_crs[crs].append(index)
    result: list = [None] * len(sources)
    for crs, indices in by_crs.items():
        series = gpd.GeoSeries(shapely.from_wkt([sources[i][0] for i in indices]), crs=crs)
        if crs != target_crs:
            series = series.to_crs(target_crs)
        for index, geometry in zip(indices, series):
            result[index] = geometry
    return result

