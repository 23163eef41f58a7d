"""Import GeoTIFF tiles and their vector annotations into a railway or buildings project.

Rasters and vectors are read, checked and reprojected before anything is written; the write is one
short bulk transaction.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session, select

from annotation_db.models import Instance, Raster
from annotation_db.projects import check_project_name, ensure_project, existing_project
from annotation_db.reports import ImportPlan, ImportReport, Progress, insert_rows, planned, reading, row_values
from annotation_db.work_units import source_name, split_units, unit_name
from core.config import get_settings
from core.errors import InputError
from core.geodata import RasterMeta, find_rasters, geometry_problem, read_raster_meta, read_vectors


def plan_geo(project: str, kind: str, rasters: str | Path, annotations: str | Path, skip_bad: bool = False,
             progress: Progress = None, *, session: Session | None = None,
             unit_size: int | None = None) -> ImportPlan:
    """Read and check rasters and annotations (no write transaction); the plan adds the new rasters
    and the annotations that fall on them, a raster with more than `unit_size` annotations (default:
    the setting GEO_UNIT_MAX_INSTANCES) as several work units."""
    unit_size = unit_size or get_settings().geo_unit_max_instances
    report = ImportReport(project=project, source=str(annotations))
    with reading(session) as reader:
        existing = existing_project(reader, project, kind)
        if existing is None:
            check_project_name(project)  # a new project: refused before anything is written
        taken = raster_names(reader, existing.id) if existing else set()
    metas = _checked_rasters(find_rasters(rasters), report, skip_bad, progress)
    metas = _new_rasters(taken, metas, Path(rasters), report)
    vectors = read_vectors(annotations)
    vectors = _checked_features(vectors, kind, report, skip_bad, str(annotations))
    owner = _assign_to_rasters(vectors, metas)
    _check_overlap(owner, vectors, metas, Path(annotations), report)
    source_crs = CRS.from_user_input(vectors.crs).to_wkt()
    tiles = []  # (raster name, [(row values, [instance values]) per work unit])
    for index, meta in enumerate(metas):
        name = _raster_name(meta.path, Path(rasters))
        mine = vectors[owner == index]
        work = mine.to_crs(meta.crs_wkt).geometry
        instances = [row_values(Instance(
            project_id=0, raster_id=0, source_id=row["source_id"], geometry_wkt=_wkt(geometry),
            source_crs=source_crs, source_geometry_wkt=_wkt(row.geometry), properties=_properties(row)))
            for (_, row), geometry in zip(mine.iterrows(), work)]
        if mine.empty:
            report.warnings.append(f"{meta.path.name}: no annotation falls on this raster")
        groups = [np.arange(len(instances))]
        if len(instances) > unit_size:
            centroids = shapely.get_coordinates(shapely.centroid(np.asarray(work.values)))
            groups = split_units(centroids, unit_size)
            report.warnings.append(f"{name}: {len(instances)} annotations, reviewed as {len(groups)} work units "
                                   f"of at most {unit_size}")
        units = [(row_values(Raster(project_id=0, name=name if len(groups) == 1 else unit_name(name, k),
                                    path=str(meta.path), crs=meta.crs_wkt, width=meta.width,
                                    height=meta.height, band_count=meta.band_count,
                                    transform=list(meta.transform))),
                  [instances[i] for i in group]) for k, group in enumerate(groups)]
        tiles.append((name, units))

    def write(session: Session, report: ImportReport) -> None:
        target = ensure_project(session, project, kind)
        now_taken = raster_names(session, target.id)  # someone may have imported some meanwhile
        fresh = [unit for name, units in tiles if name not in now_taken for unit in units]
        if not fresh:
            raise InputError(Path(rasters), "every raster is already in the project")
        for name, _ in tiles:
            if name in now_taken:
                report.warnings.append(f"{name}: already in the project, left unchanged")
        insert_rows(session, Raster, [{**raster, "project_id": target.id} for raster, _ in fresh])
        ids = dict(session.exec(select(Raster.name, Raster.id).where(Raster.project_id == target.id)).all())
        insert_rows(session, Instance, [{**instance, "project_id": target.id, "raster_id": ids[raster["name"]]}
                                        for raster, instances in fresh for instance in instances])
        report.created["rasters"] += len({source_name(raster["name"]) for raster, _ in fresh})
        report.created["instances"] += sum(len(instances) for _, instances in fresh)

    return ImportPlan(report, write)


@planned(plan_geo)
def import_geo(session: Session, project: str, kind: str, rasters: str | Path,
               annotations: str | Path, skip_bad: bool = False,
               progress: Progress = None) -> ImportReport:
    """Add rasters and the annotations that fall on them; nothing is written if it raises."""
    return plan_geo(project, kind, rasters, annotations, skip_bad, progress, session=session).apply(session)


def raster_names(session: Session, project_id: int) -> set[str]:
    """The names of the rasters already in a project (a raster split in work units once)."""
    return {source_name(name) for name in session.exec(select(Raster.name).where(Raster.project_id == project_id))}


def _checked_rasters(paths: list[Path], report: ImportReport, skip_bad: bool,
                     progress: Progress) -> list[RasterMeta]:
    metas, problems = [], []
    for done, path in enumerate(paths):
        if progress:
            progress(done, len(paths), f"checking {path.name}")
        try:
            metas.append(read_raster_meta(path))
        except InputError as exc:
            problems.append((str(path), exc.problem))
    report.refuse(problems, skip_bad, str(paths[0].parent if len(paths) > 1 else paths[0]))
    if not metas:
        raise InputError(paths[0].parent, "no usable raster")
    return metas


def _new_rasters(taken: set[str], metas: list[RasterMeta], root: Path,
                 report: ImportReport) -> list[RasterMeta]:
    fresh = [m for m in metas if _raster_name(m.path, root) not in taken]
    for meta in metas:
        if meta not in fresh:
            report.warnings.append(f"{meta.path.name}: already in the project, left unchanged")
    if not fresh:
        raise InputError(root, "every raster is already in the project")
    return fresh


def _checked_features(vectors: gpd.GeoDataFrame, kind: str, report: ImportReport,
                      skip_bad: bool, path: str) -> gpd.GeoDataFrame:
    problems, keep = [], []
    for source_id, geometry in zip(vectors["source_id"], vectors.geometry):
        problem = geometry_problem(geometry, kind)
        keep.append(problem is None)
        if problem:
            problems.append((f"feature {source_id}", problem))
    report.refuse(problems, skip_bad, path)
    kept = vectors[np.asarray(keep)]
    if kept.empty:
        raise InputError(path, "no usable feature")
    return kept


def _assign_to_rasters(vectors: gpd.GeoDataFrame, metas: list[RasterMeta]) -> np.ndarray:
    """Index of the raster each feature overlaps most (-1: none)."""
    best = np.full(len(vectors), -1)
    best_overlap = np.zeros(len(vectors))
    for index, meta in enumerate(metas):
        geometries = vectors.to_crs(meta.crs_wkt).geometry.values
        overlap = np.asarray(_overlap_measure(geometries, meta.footprint))
        better = overlap > best_overlap
        best[better], best_overlap[better] = index, overlap[better]
    return best


def _overlap_measure(geometries, footprint: BaseGeometry) -> np.ndarray:
    inside = shapely.intersection(geometries, footprint)
    return np.where(shapely.area(geometries) > 0, shapely.area(inside), shapely.length(inside))


def _check_overlap(owner: np.ndarray, vectors: gpd.GeoDataFrame, metas: list[RasterMeta],
                   path: Path, report: ImportReport) -> None:
    if (owner < 0).all():
        bounds = vectors.to_crs(metas[0].crs_wkt).total_bounds.round(1).tolist()
        raise InputError(path, f"no annotation overlaps any raster (annotations span {bounds} "
                               f"in {metas[0].path.name}'s CRS; rasters start at "
                               f"{[round(v, 1) for v in metas[0].footprint.bounds]})")
    outside = vectors["source_id"][owner < 0].tolist()
    if outside:
        report.warnings.append(f"{len(outside)} feature(s) lie outside every raster and were "
                               f"not imported: {', '.join(outside[:10])}")


def _raster_name(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if root.is_dir() else path.name


def _wkt(geometry: BaseGeometry) -> str:
    return shapely.to_wkt(geometry, rounding_precision=-1)


def _properties(row) -> dict:
    skip = {"geometry", "source_id"}
    return {k: (v if isinstance(v, (bool, int, float, str)) or v is None else str(v))
            for k, v in row.items() if k not in skip and not _is_nan(v)}


def _is_nan(value) -> bool:
    return isinstance(value, float) and np.isnan(value)
