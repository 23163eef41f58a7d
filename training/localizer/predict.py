"""Stage 1 for a project: a heatmap and boxes for every clip with media, stamped with the model version,
each saying whether the model is confident (no boxes when it is not)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from annotation_db.models import Clip, Project
from annotation_db.proposals import NewProposal, write_proposals
from core.checkpoints import config_path
from core.config import get_settings
from core.localizer.dataset import ClipInputs
from core.localizer.predictor import Localization, LocalizerPredictor
from core.calibration import ConfidenceThreshold
from core.media import MediaError
from training.family import bundled_checkpoint
from training.localizer import FAMILY
from training.options import PredictOptions
from training.registry import resolve_model

BATCH = 32
CALIBRATION_CLIPS = 64  # the self-check that calibrates confidence looks at up to this many clips (32 left
# the threshold undefined for a quarter of random 32-clip samples of held-out generated clips, 64 for none)


def load_predictor(checkpoint: str | Path | None = None, device: str | None = None,
                   model_version: str | None = None) -> LocalizerPredictor:
    """A predictor for `checkpoint` (default: the bundled one), optionally stamped with a registered version."""
    path = Path(checkpoint) if checkpoint else bundled_checkpoint(FAMILY.bundled["localization"])
    predictor = LocalizerPredictor.from_checkpoint(path, device)
    if model_version:
        predictor.model_version = model_version
    return predictor


def heatmap_dir(model_version: str) -> Path:
    """Where a version's heatmaps go: the data dir's cache (safe to delete, proposals keep boxes)."""
    return get_settings().cache_dir / "localizer" / model_version


def proposal_payload(result: Localization, calibration: ConfidenceThreshold | None,
                     heatmap_path: str | None = None) -> dict:
    """JSON payload of a localizer proposal. "boxes" ([x1, y1, x2, y2, score] in fractions of the clip's
    frame) are the model's boxes when it is confident and [] when not; "model_boxes" keeps them either way."""
    confident = calibration is not None and calibration.confident(result.uncertainty)
    model_boxes = [b.as_list() for b in result.boxes]
    return {"boxes": model_boxes if confident else [], "model_boxes": model_boxes, "heatmap_path": heatmap_path,
            "confident": confident, "specificity": round(result.specificity, 5),
            "calibration": None if calibration is None else calibration.to_dict(),
            "frame_size": None if result.frame_size is None else list(result.frame_size)}


def _load(predictor: LocalizerPredictor, clip: Clip) -> ClipInputs | None:
    try:
        return predictor.load(clip.media_path)
    except (MediaError, OSError):
        return None  # unreadable media: the page says so; no proposal


def predict_project(session: Session, project: Project, checkpoint: str | Path | None = None,
                    device: str | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Write one proposal per clip with media; returns how many were written.

    Confidence is calibrated first by a self-check on (up to CALIBRATION_CLIPS of) the project's own
    clips (core/localizer/selfcheck.py); a project too small for it to find a threshold uses the
    checkpoint card's. An unsure proposal has no boxes.
    """
    resolved = resolve_model(session, project, FAMILY, checkpoint)
    predictor = load_predictor(resolved.path, device, resolved.version)
    clips = session.exec(select(Clip).where(Clip.project_id == project.id, Clip.media_path.is_not(None))
                         .order_by(Clip.id)).all()
    # end the read transaction before decoding: a WAL read snapshot cannot become a write once another
    # connection (the worker's heartbeat) has committed meanwhile, and SQLite then fails at once
    session.commit()
    sample = clips[:: max(1, len(clips) // CALIBRATION_CLIPS)][:CALIBRATION_CLIPS]
    decoded = {c.id: inputs for c in sample if (inputs := _load(predictor, c)) is not None}  # reused below
    check = predictor.self_check(np.stack([d.frame for d in decoded.values()]) if decoded else [],
                                 np.stack([d.waveform for d in decoded.values()]) if decoded else [],
                                 [str(k) for k in decoded])
    print(f"self-check on {check.clips} clips: {check.to_dict()}", file=sys.stderr, flush=True)
    calibration = check.calibration
    if calibration.max_uncertainty is None and check.clips < CALIBRATION_CLIPS:
        # too few clips to find a threshold (5 at 90 %): the card's, from held-out generated clips
        calibration = card_calibration(resolved.path) or calibration
    out_dir = heatmap_dir(resolved.version)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for start in range(0, len(clips), BATCH):
        batch = clips[start:start + BATCH]
        inputs = {c.id: decoded.pop(c.id, None) or _load(predictor, c) for c in batch}
        proposals = _batch_proposals(predictor, [c for c in batch if inputs[c.id] is not None],
                                     [inputs[c.id] for c in batch if inputs[c.id] is not None],
                                     calibration, out_dir)
        written += write_proposals(session, project, FAMILY.name, resolved.version, proposals,
                                   resolved.version_id)
        session.commit()  # each batch is kept if a later one fails, and the write lock stays short
        if progress:
            progress(min(start + BATCH, len(clips)), len(clips))
    return written


def _batch_proposals(predictor: LocalizerPredictor, clips: list[Clip], inputs: list[ClipInputs],
                     calibration: ConfidenceThreshold, out_dir: Path) -> list[NewProposal]:
    if not clips:
        return []
    proposals = []
    for clip, result in zip(clips, predictor.localize_inputs(inputs)):
        path = out_dir / f"clip-{clip.id}.npy"
        np.save(path, result.heatmap.astype(np.float16))
        proposals.append(NewProposal(clip_id=clip.id, uncertainty=round(result.uncertainty, 4),
                                     payload=proposal_payload(result, calibration, str(path))))
    return proposals


def predict_clip(options: PredictOptions) -> dict:
    """`predict localizer --clip FILE`: boxes in fractions of the clip's full frame (none when the model is
    not confident, by the threshold in the checkpoint's card), the model's boxes either way."""
    path = Path(options.clip)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    checkpoint = options.checkpoint or bundled_checkpoint(FAMILY.bundled["localization"])
    predictor = load_predictor(checkpoint, options.device)
    result = predictor.localize_file(path)
    calibration = card_calibration(checkpoint)
    payload = proposal_payload(result, calibration)
    return {"clip": str(path), "model_version": predictor.model_version,
            "heatmap_size": list(result.heatmap.shape), "frame_size": payload["frame_size"],
            "boxes": payload["boxes"], "model_boxes": payload["model_boxes"], "confident": payload["confident"],
            "specificity": payload["specificity"], "uncertainty": round(result.uncertainty, 5),
            "calibration": payload["calibration"]}


def card_calibration(checkpoint: str | Path) -> ConfidenceThreshold | None:
    """The confidence threshold stored with a checkpoint (a self-check on held-out clips), if it has one."""
    meta = json.loads(config_path(checkpoint).read_text())
    stored = meta.get("calibration")
    return None if stored is None else ConfidenceThreshold.from_dict(stored)
