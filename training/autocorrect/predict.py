"""Write AutoCorrect proposals for a project's unreviewed instances (human fixes kept in the memory map)."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import shapely
from sqlmodel import Session, select

from annotation_db.engine import session_scope
from annotation_db.models import GeometryAction, Instance, Project, Raster, VerdictKind
from annotation_db.projects import get_project
from annotation_db.proposals import NewProposal, unreviewed_instances, write_proposals
from annotation_db.verdicts import latest_verdicts
from core.autocorrect.geo_io import (geometry_to_shape, half_width_px, model_scale, move_geometry, raster_gsd,
                                     scaled, to_raster_motion)
from core.autocorrect.memory_map import TileInput
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.raster import RasterWindows
from core.autocorrect.se2 import se2_params
from core.autocorrect.selfcheck import Calibration
from training.autocorrect import FAMILY
from training.registry import resolve_model

GONE = (GeometryAction.not_visible, GeometryAction.obsolete)
MOVED = (GeometryAction.accepted, GeometryAction.adjusted)
CHIPS_PER_PASS = 16  # work units corrected together (one forward pass per step); progress after each group
CHIP_PX = 2048  # model px a side of a work unit: large rasters are corrected chip by chip, chips in parallel
CALIBRATION_INSTANCES = 200  # the self-check that calibrates confidence looks at up to this many labels


@dataclass
class Chip:
    """One work unit: a window of a raster, its pending instances and the neighbours its memory map shows."""

    raster: Raster
    scale: float  # model px per raster px
    tile: TileInput  # shapes in model px; neighbours and reviewed instances are fixed
    instances: list[Instance]  # one per shape


def predict_project(session: Session, project: Project, checkpoint=None, device=None,
                    progress: Callable[[int, int], None] | None = None,
                    raster_ids: list[int] | None = None) -> int:
    """Propose a correction for every unreviewed instance (of `raster_ids`, or all); returns the count.

    Confidence is calibrated first by a self-check on the project's own labels (selfcheck.py); an
    unsure proposal keeps the input geometry and says so (`confident: false`).
    """
    resolved = resolve_model(session, project, FAMILY, checkpoint)
    predictor = AutoCorrectPredictor.from_checkpoint(resolved.path, device)
    todo = [i for i in unreviewed_instances(session, project) if raster_ids is None or i.raster_id in raster_ids]
    by_raster: dict[int, list[Instance]] = defaultdict(list)
    for instance in todo:
        by_raster[instance.raster_id].append(instance)
    verdicts = latest_verdicts(session, project.id, VerdictKind.geometry, humans_only=True)
    chips = [chip for r in by_raster for chip in _chips(session, session.get(Raster, r), predictor, verdicts,
                                                         {i.id for i in by_raster[r]})]
    session.commit()  # end the read snapshot: after a long pass SQLite could not turn it into a write
    calibration = calibrate(predictor, chips, project_bound_m(project, predictor.config))
    print(f"calibration: {calibration.to_dict()}", file=sys.stderr, flush=True)
    written, total = 0, len(todo)
    for start in range(0, len(chips), CHIPS_PER_PASS):
        group = chips[start:start + CHIPS_PER_PASS]
        results = predictor.propose([c.tile for c in group], _scaled_calibration(calibration, group[0]))
        proposals = [_proposal(chip, index, result, calibration) for chip, result in zip(group, results)
                     for index in range(len(chip.instances)) if index not in chip.tile.fixed]
        written += write_proposals(session, project, FAMILY.name, resolved.version, proposals, resolved.version_id)
        session.commit()  # each group is kept if a later one fails, and the write lock stays short
        if progress:
            progress(written, total)
    return written


def project_bound_m(project: Project, config) -> float | None:
    """The project's expected misalignment in metres: its setting, else the model card's."""
    return (project.settings or {}).get("max_shift_m", config.max_shift_m)


def calibrate(predictor: AutoCorrectPredictor, chips: list[Chip], bound_m: float | None) -> Calibration:
    """The confidence threshold from a self-check on (a sample of) the chips' own labels, in metres."""
    sample, seen = [], 0
    for chip in chips:
        if seen >= CALIBRATION_INSTANCES:
            break
        sample.append(chip)
        seen += len(chip.instances) - len(chip.tile.fixed)
    if not sample:
        return Calibration(None, 0.0)
    first = sample[0]
    bound_px = predictor.bound_px(max(first.tile.image.size), raster_gsd(first.raster.transform), bound_m)
    rounds = max(2, -(-CALIBRATION_INSTANCES // max(seen, 1)))
    check = predictor.self_check([c.tile for c in sample], bound_px, rounds=min(rounds, 8))
    metres = 1.0 / _px_per_m(first)
    cal = check.calibration
    return Calibration(None if cal.threshold_px is None else cal.threshold_px * metres, cal.max_shift_px * metres,
                       cal.precision)


def _px_per_m(chip: Chip) -> float:
    """Model px per metre on this chip's raster."""
    return chip.scale / raster_gsd(chip.raster.transform)


def _scaled_calibration(calibration: Calibration, chip: Chip) -> Calibration:
    """A calibration in metres as model px of this chip's raster."""
    per_m = _px_per_m(chip)
    threshold = None if calibration.threshold_px is None else calibration.threshold_px * per_m
    return Calibration(threshold, calibration.max_shift_px * per_m, calibration.precision)


def _proposal(chip: Chip, index: int, result, calibration: Calibration) -> NewProposal:
    """One instance's proposal: the confident correction, or its input geometry flagged unsure."""
    instance, transform = chip.instances[index], chip.raster.transform
    source = shapely.from_wkt(instance.geometry_wkt)
    raw = to_raster_motion(result.raw[index], chip.scale)
    matrix = to_raster_motion(result.matrices[index], chip.scale)
    centre = tuple(chip.tile.shapes[index].centroid() / chip.scale)
    dx, dy, theta = se2_params(raw, centre)
    uncertainty = result.uncertainty[index]
    return NewProposal(
        payload={"geometry_wkt": move_geometry(source, matrix, transform).wkt,
                 "model_geometry_wkt": move_geometry(source, raw, transform).wkt,
                 "transform": [dx, dy, theta], "confident": bool(result.confident[index]),
                 "uncertainty_m": None if uncertainty is None else uncertainty / _px_per_m(chip),
                 "calibration_m": calibration.to_dict()},
        instance_id=instance.id, uncertainty=uncertainty)


def propose(project_name: str, raster_ids: list[int] | None = None,
            progress: Callable[[int, int], None] | None = None) -> int:
    """predict_project for a project named by the caller, in its own session (what the review page calls)."""
    with session_scope() as session:
        return predict_project(session, get_project(session, project_name), raster_ids=raster_ids,
                               progress=progress)


def _chips(session: Session, raster: Raster, predictor: AutoCorrectPredictor, verdicts: dict,
           pending: set[int]) -> list[Chip]:
    """A raster's live instances in work units of CHIP_PX model px: pending ones to correct, reviewed
    ones (at their final geometry) and other chips' instances (where they are now) as memory only."""
    config = predictor.config
    scale = model_scale(raster.transform, config.gsd_m)
    hw = half_width_px(config.kind, config.track_width_m, raster.transform)
    source = RasterWindows(raster.path, scale)
    live, shapes, finals = [], [], {}
    for instance in session.exec(select(Instance).where(Instance.raster_id == raster.id).order_by(Instance.id)):
        verdict = verdicts.get(instance.id)
        if instance.id not in pending and (verdict is None or verdict.action in GONE):
            continue  # gone, or pending elsewhere: not part of the memory map
        shape = scaled(geometry_to_shape(shapely.from_wkt(instance.geometry_wkt), raster.transform, hw), scale)
        if instance.id not in pending:
            final = verdict.final_geometry_wkt if verdict.action in MOVED else instance.geometry_wkt
            finals[len(shapes)] = scaled(geometry_to_shape(shapely.from_wkt(final), raster.transform, hw), scale)
        live.append(instance)
        shapes.append(shape)
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, shape in enumerate(shapes):
        if j not in finals:
            x, y = shape.centroid()
            cells[(int(x // CHIP_PX), int(y // CHIP_PX))].append(j)
    chips = []
    for (cx, cy), own in sorted(cells.items()):
        reach = (cx * CHIP_PX - config.window, cy * CHIP_PX - config.window, CHIP_PX + 2 * config.window)
        near = [j for j, s in enumerate(shapes) if j not in own and s.touches_window(reach[:2], reach[2])]
        members = own + near
        fixed = {n: finals.get(j, shapes[j]) for n, j in enumerate(members) if j not in own}
        chips.append(Chip(raster, scale, TileInput(source, [shapes[j] for j in members], fixed),
                          [live[j] for j in members]))
    return chips
