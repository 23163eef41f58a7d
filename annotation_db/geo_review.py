"""DB services of the geometry review page: the tile queue, geometry verdicts, drawn instances, export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from shapely import affinity
from sqlmodel import Session, select

from annotation_db.assignment import complete_assignment, hold_lease, next_assignment
from annotation_db.engine import session_scope
from annotation_db.export_geo import export_geo
from annotation_db.models import (Assignment, GeometryAction, Instance, Project, ProjectKind, Raster, User,
                                  Verdict, VerdictKind)
from annotation_db.projects import get_project, list_projects
from annotation_db.users import get_user
from annotation_db.verdicts import counted_verdict, latest_instance_proposals, record_verdict
from core.geodata import geometry_problem

GEO_KINDS = (ProjectKind.railway, ProjectKind.buildings)


@dataclass(frozen=True)
class InstanceItem:
    """One instance of the tile under review: noisy input, latest proposal, this person's verdict."""

    instance_id: int
    source_id: str
    noisy_wkt: str
    proposal_id: int | None
    proposal_wkt: str | None
    uncertainty: float | None
    model_version: str | None
    action: str | None  # this person's latest verdict
    final_wkt: str | None
    confident: bool | None = None  # False: the model had no confident correction (proposal = input)


@dataclass(frozen=True)
class TileItem:
    """A leased raster and its instances, confident corrections first, most uncertain first among them."""

    assignment_id: int
    raster_id: int
    name: str
    path: str
    transform: tuple[float, ...]
    width: int
    height: int
    instances: list[InstanceItem]
    kind: str  # the project's kind: "buildings" (polygons) or "railway" (lines)


def geo_projects() -> list[str]:
    """Names of the railway and buildings projects."""
    with session_scope() as session:
        return sorted(p.name for p in list_projects(session, *GEO_KINDS))


def next_tile(session: Session, project: Project, user: User) -> TileItem | None:
    """The user's leased tile (the tile with the most uncertain proposal first), or None when done."""
    assignment = next_assignment(session, project, user)
    return None if assignment is None else tile_item(session, project, user, assignment)


def tile_item(session: Session, project: Project, user: User, assignment: Assignment) -> TileItem:
    """The leased tile with its instances and this person's verdicts."""
    raster = session.get(Raster, assignment.raster_id)
    instances = session.exec(select(Instance).where(Instance.raster_id == raster.id).order_by(Instance.id)).all()
    proposals = latest_instance_proposals(session, [i.id for i in instances])
    mine = _my_verdicts(session, project, user, [i.id for i in instances])
    items = []
    for instance in instances:
        proposal, verdict = proposals.get(instance.id), mine.get(instance.id)
        items.append(InstanceItem(
            instance.id, instance.source_id, instance.geometry_wkt, proposal.id if proposal else None,
            (proposal.payload or {}).get("geometry_wkt") if proposal else None,
            proposal.uncertainty if proposal else None, proposal.model_version if proposal else None,
            verdict.action.value if verdict else None, verdict.final_geometry_wkt if verdict else None,
            (proposal.payload or {}).get("confident") if proposal else None))
    # confident corrections first (most uncertain of them first), then the ones the model left alone
    items.sort(key=lambda i: (i.confident is False, i.uncertainty is None, -(i.uncertainty or 0.0), i.instance_id))
    return TileItem(assignment.id, raster.id, raster.name, raster.path, tuple(raster.transform),
                    raster.width, raster.height, items, project.kind.value)


def _my_verdicts(session: Session, project: Project, user: User, instance_ids: list[int]) -> dict[int, Verdict]:
    """This person's latest geometry verdict on each of these instances (one tile's worth)."""
    if not instance_ids:
        return {}
    rows = session.exec(select(Verdict).where(Verdict.instance_id.in_(instance_ids), Verdict.user_id == user.id,
                                              Verdict.project_id == project.id,
                                              Verdict.kind == VerdictKind.geometry, counted_verdict())
                       .order_by(Verdict.id))
    return {v.instance_id: v for v in rows}


def adjusted_wkt(wkt: str, dx_m: float, dy_m: float, rotation_deg: float) -> str:
    """A geometry turned `rotation_deg` counter-clockwise (map view) about its centroid, then shifted (m)."""
    geometry = shapely.from_wkt(wkt)
    turned = affinity.rotate(geometry, rotation_deg, origin="centroid")
    return affinity.translate(turned, dx_m, dy_m).wkt


def drawn_geometry(project: Project, wkt: str) -> str:
    """A geometry drawn or reshaped on the map (raster CRS WKT), checked for the project's kind; ValueError
    saying why it cannot be an annotation otherwise."""
    try:
        geometry = shapely.from_wkt(wkt)
    except shapely.errors.ShapelyError as exc:
        raise ValueError(f"not a geometry ({exc})") from None
    problem = geometry_problem(geometry, project.kind.value)
    if problem:
        raise ValueError(f"the drawn shape cannot be saved: {problem}")
    return geometry.wkt


def save_geometry_verdict(session: Session, user: User, project: Project, tile: TileItem, instance_id: int,
                          action: GeometryAction | str, dx_m: float = 0.0, dy_m: float = 0.0,
                          rotation_deg: float = 0.0, from_correction: bool = True,
                          geometry_wkt: str | None = None) -> Verdict:
    """One verdict from a page action; `geometry_wkt` (raster CRS) is a shape edited on the map, saved as
    adjusted. The lease is completed once every instance has a verdict.

    ItemReassigned (nothing stored) if the tile's lease expired and the tile went to someone else.
    """
    action = GeometryAction(action)
    if geometry_wkt is not None and action is not GeometryAction.adjusted:
        raise ValueError("an edited shape is saved as an adjusted geometry")
    item = next(i for i in tile.instances if i.instance_id == instance_id)
    hold_lease(session, project, user, tile.raster_id, tile.assignment_id)
    base = item.proposal_wkt if from_correction and item.proposal_wkt else item.noisy_wkt
    final = {GeometryAction.accepted: item.proposal_wkt, GeometryAction.original: item.noisy_wkt,
             GeometryAction.adjusted: (drawn_geometry(project, geometry_wkt) if geometry_wkt is not None
                                       else adjusted_wkt(base, dx_m, dy_m, rotation_deg))}.get(action)
    if action is GeometryAction.accepted and final is None:
        raise ValueError("there is no model correction to accept for this instance")
    fields = {"final_geometry_wkt": final}
    if action is GeometryAction.adjusted and geometry_wkt is None:
        fields.update(dx_m=dx_m, dy_m=dy_m, rotation_deg=rotation_deg)
    verdict = record_verdict(session, user, project, VerdictKind.geometry, instance_id=instance_id,
                             proposal_id=item.proposal_id, action=action, **fields)
    _complete_if_done(session, project, user, tile, [instance_id])
    return verdict


def add_drawn_instance(session: Session, user: User, project: Project, tile: TileItem, wkt: str) -> Instance:
    """A missing building or track drawn on the map (raster CRS WKT): a new instance of the tile, saved with
    an adjusted verdict holding the drawn shape (its export goes to the project's annotation CRS)."""
    final = drawn_geometry(project, wkt)
    hold_lease(session, project, user, tile.raster_id, tile.assignment_id)
    raster = session.get(Raster, tile.raster_id)
    source_crs = session.exec(select(Instance.source_crs).where(Instance.project_id == project.id)).first()
    source_crs = source_crs or raster.crs
    source = gpd.GeoSeries([shapely.from_wkt(final)], crs=raster.crs)
    if source_crs != raster.crs:
        source = source.to_crs(source_crs)
    drawn = session.exec(select(Instance.id).where(Instance.raster_id == raster.id,
                                                   Instance.source_id.startswith("drawn-"))).all()
    instance = Instance(project_id=project.id, raster_id=raster.id, source_id=f"drawn-{raster.id}-{len(drawn) + 1}",
                        geometry_wkt=final, source_crs=source_crs, source_geometry_wkt=source.iloc[0].wkt,
                        properties={"drawn_by": user.name})
    session.add(instance)
    session.flush()
    record_verdict(session, user, project, VerdictKind.geometry, instance_id=instance.id,
                   action=GeometryAction.adjusted, final_geometry_wkt=final)
    _complete_if_done(session, project, user, tile, [instance.id])
    return instance


def _complete_if_done(session: Session, project: Project, user: User, tile: TileItem, saved: list[int]) -> None:
    """Complete the tile's lease once this person has a verdict on every instance of it."""
    ids = [i.instance_id for i in tile.instances] + saved
    done = set(_my_verdicts(session, project, user, ids))
    lease = session.get(Assignment, tile.assignment_id)
    if all(i in done for i in ids) and lease.completed_at is None:
        complete_assignment(session, lease)


# ---- page services: ids and names in, plain values out, one transaction each ----


def claim_tile(project_name: str, user_id: int) -> TileItem | None:
    """The user's leased tile of the project (leased now if need be), or None when every tile is done."""
    with session_scope(immediate=True) as session:
        return next_tile(session, get_project(session, project_name), get_user(session, user_id))


def save_geometry(project_name: str, user_id: int, tile: TileItem, instance_id: int,
                  action: GeometryAction | str, dx_m: float = 0.0, dy_m: float = 0.0,
                  rotation_deg: float = 0.0, from_correction: bool = True, geometry_wkt: str | None = None) -> int:
    """Store one geometry verdict (and close the lease when the tile is done); returns the verdict id."""
    with session_scope(immediate=True) as session:
        verdict = save_geometry_verdict(session, get_user(session, user_id), get_project(session, project_name),
                                        tile, instance_id, action, dx_m=dx_m, dy_m=dy_m,
                                        rotation_deg=rotation_deg, from_correction=from_correction,
                                        geometry_wkt=geometry_wkt)
        return verdict.id


def add_instance(project_name: str, user_id: int, tile: TileItem, wkt: str) -> int:
    """Add a shape drawn on the map as a new, reviewed instance of the tile; returns its instance id."""
    with session_scope(immediate=True) as session:
        instance = add_drawn_instance(session, get_user(session, user_id), get_project(session, project_name),
                                      tile, wkt)
        return instance.id


def export_geometries(project_name: str, out: str | Path, user_id: int | None = None) -> int:
    """Write the project's final geometries to `out` (GeoPackage or GeoJSON by suffix); returns how many.

    With `user_id`: AccessDenied unless that user is a researcher or admin, and `out` must lie inside
    the data folder."""
    with session_scope() as session:
        user = None if user_id is None else get_user(session, user_id)
        return len(export_geo(session, project_name, out, user=user))
