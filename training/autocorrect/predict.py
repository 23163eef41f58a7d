"""Write AutoCorrect proposals for a project's unreviewed instances (human fixes kept in the memory map)."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

import shapely
from sqlmodel import Session, select

from annotation_db.engine import session_scope
from annotation_db.models import GeometryAction, Instance, Project, Raster, VerdictKind
from annotation_db.projects import get_project
from annotation_db.proposals import NewProposal, unreviewed_instances, write_proposals
from annotation_db.verdicts import latest_verdicts
from core.autocorrect.geo_io import geometry_to_shape, half_width_px, move_geometry, read_image
from core.autocorrect.memory_map import TileInput
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.se2 import se2_params
from core.autocorrect.windows import image_to_float
from training.autocorrect import FAMILY
from training.registry import resolve_model

GONE = (GeometryAction.not_visible, GeometryAction.obsolete)
MOVED = (GeometryAction.accepted, GeometryAction.adjusted)
TILES_PER_PASS = 8  # rasters corrected together (one forward pass per step); progress after each group


def predict_project(session: Session, project: Project, checkpoint=None, device=None,
                    progress: Callable[[int, int], None] | None = None,
                    raster_ids: list[int] | None = None) -> int:
    """Propose a correction for every unreviewed instance (of `raster_ids`, or all); returns the count."""
    resolved = resolve_model(session, project, FAMILY, checkpoint)
    predictor = AutoCorrectPredictor.from_checkpoint(resolved.path, device)
    todo = [i for i in unreviewed_instances(session, project) if raster_ids is None or i.raster_id in raster_ids]
    by_raster: dict[int, list[Instance]] = defaultdict(list)
    for instance in todo:
        by_raster[instance.raster_id].append(instance)
    verdicts = latest_verdicts(session, project.id, VerdictKind.geometry, humans_only=True)
    written, total, rasters = 0, len(todo), list(by_raster)
    for start in range(0, len(rasters), TILES_PER_PASS):
        chunk = [session.get(Raster, r) for r in rasters[start:start + TILES_PER_PASS]]
        inputs = [_tile_input(session, r, predictor, verdicts, {i.id for i in by_raster[r.id]}) for r in chunk]
        session.commit()  # end the read snapshot: after a long pass SQLite could not turn it into a write
        results = predictor.correct([tile for tile, _ in inputs])  # step i of all tiles in one pass
        proposals = []
        for raster, (tile, instances), result in zip(chunk, inputs, results):
            for index, instance in enumerate(instances):
                if index in tile.fixed:
                    continue
                matrix = result.matrices[index]
                geometry = move_geometry(shapely.from_wkt(instance.geometry_wkt), matrix, raster.transform)
                dx, dy, theta = se2_params(matrix, tuple(tile.shapes[index].centroid()))
                proposals.append(NewProposal(payload={"geometry_wkt": geometry.wkt, "transform": [dx, dy, theta]},
                                             instance_id=instance.id, uncertainty=result.uncertainty[index]))
        written += write_proposals(session, project, FAMILY.name, resolved.version, proposals, resolved.version_id)
        session.commit()  # each group is kept if a later one fails, and the write lock stays short
        if progress:
            progress(written, total)
    return written


def propose(project_name: str, raster_ids: list[int] | None = None,
            progress: Callable[[int, int], None] | None = None) -> int:
    """predict_project for a project named by the caller, in its own session (what the review page calls)."""
    with session_scope() as session:
        return predict_project(session, get_project(session, project_name), raster_ids=raster_ids,
                               progress=progress)


def _tile_input(session: Session, raster: Raster, predictor: AutoCorrectPredictor, verdicts: dict,
                pending: set[int]) -> tuple[TileInput, list[Instance]]:
    """The raster's image and all its live instances: pending ones noisy, reviewed ones fixed."""
    hw = half_width_px(predictor.config.kind, predictor.config.track_width_m, raster.transform)
    instances, shapes, fixed = [], [], {}
    rows = session.exec(select(Instance).where(Instance.raster_id == raster.id).order_by(Instance.id))
    for instance in rows:
        verdict = verdicts.get(instance.id)
        if instance.id not in pending and (verdict is None or verdict.action in GONE):
            continue  # gone, or pending elsewhere: not part of the memory map
        noisy = geometry_to_shape(shapely.from_wkt(instance.geometry_wkt), raster.transform, hw)
        if instance.id not in pending:
            final = verdict.final_geometry_wkt if verdict.action in MOVED else instance.geometry_wkt
            fixed[len(shapes)] = geometry_to_shape(shapely.from_wkt(final), raster.transform, hw)
        instances.append(instance)
        shapes.append(noisy)
    return TileInput(image_to_float(read_image(raster.path)), shapes, fixed), instances
