"""Proposals of AVST for every clip of a project, stamped with the model version."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.models import Clip, Project
from annotation_db.proposals import NewProposal, write_proposals
from core.avst.predictor import AVSTPredictor, SyncPrediction
from core.calibration import ConfidenceThreshold
from core.checkpoints import config_path
from training.avst import FAMILY
from training.family import bundled_checkpoint
from training.options import PredictOptions
from training.avst.verdict_data import is_speech
from training.registry import resolve_model

CALIBRATION_CLIPS = 24  # the self-check that calibrates confidence looks at up to this many clips


def proposal_payload(prediction: SyncPrediction, calibration: ConfidenceThreshold | None = None) -> dict:
    """JSON payload of a sync proposal: best offset, whether it is confident, scores by offset, the score curve."""
    confident = calibration is not None and calibration.confident(prediction.uncertainty)
    return {"offset_frames": prediction.offset_frames, "confident": confident,
            "sync_score": round(1.0 - prediction.uncertainty, 5),
            "calibration": None if calibration is None else calibration.to_dict(),
            "scores": {str(k): round(v, 5) for k, v in prediction.scores.items()},
            "curve": [[round(t, 3), round(s, 5)] for t, s in prediction.curve]}


def predict_project(session: Session, project: Project, checkpoint: str | Path | None = None,
                    device: str | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Write one proposal per clip with media; returns how many were written.

    Confidence is calibrated first by a self-check on (up to CALIBRATION_CLIPS of) the project's own
    clips (core/avst/selfcheck.py); a project too small for it to find a threshold uses the checkpoint
    card's. An unsure proposal says the model cannot tell.
    """
    resolved = resolve_model(session, project, FAMILY, checkpoint)
    predictor = AVSTPredictor.from_checkpoint(resolved.path, device)
    clips = session.exec(select(Clip).where(Clip.project_id == project.id, Clip.media_path.is_not(None))
                         .order_by(Clip.id)).all()
    session.commit()  # end the read snapshot: after a long pass SQLite could not turn it into a write
    sample = clips[:: max(1, len(clips) // CALIBRATION_CLIPS)][:CALIBRATION_CLIPS]
    decoded = {c.id: predictor.load(c.media_path) for c in sample}  # decoded once, predicted below too
    check = predictor.self_check(list(decoded.values()), [is_speech(c.label) for c in sample])
    print(f"self-check on {check.clips} clips: {check.to_dict()}", file=sys.stderr, flush=True)
    calibration = check.calibration
    if calibration.max_uncertainty is None and check.clips < CALIBRATION_CLIPS:
        # too few clips to find a threshold (5 at 90 %): the card's, from held-out generated clips
        calibration = card_calibration(resolved.path) or calibration
    proposals = []
    for index, clip in enumerate(clips):
        arrays = decoded.pop(clip.id, None) or predictor.load(clip.media_path)
        prediction = predictor.predict_clip(arrays)
        proposals.append(NewProposal(payload=proposal_payload(prediction, calibration), clip_id=clip.id,
                                     uncertainty=prediction.uncertainty))
        if progress:
            progress(index + 1, len(clips))
    return write_proposals(session, project, FAMILY.name, resolved.version, proposals, resolved.version_id)


def predict_clip(options: PredictOptions) -> dict:
    """`predict avst --clip FILE`: the best offset (frames at 25 fps) and the score of every offset."""
    path = Path(options.clip)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    predictor = AVSTPredictor.from_checkpoint(options.checkpoint or bundled_checkpoint(FAMILY.bundled["sync"]),
                                              options.device)
    result = predictor.predict_file(path, curve=False)
    calibration = card_calibration(options.checkpoint or bundled_checkpoint(FAMILY.bundled["sync"]))
    confident = calibration is not None and calibration.confident(result.uncertainty)
    return {"clip": str(path), "offset_frames": result.offset_frames if confident else None,
            "model_offset_frames": result.offset_frames, "confident": confident,
            "sync_score": 1.0 - result.uncertainty,
            "calibration": None if calibration is None else calibration.to_dict(),
            "scores": {str(k): v for k, v in result.scores.items()}, "model_version": predictor.model_version}


def card_calibration(checkpoint: str | Path) -> ConfidenceThreshold | None:
    """The confidence threshold stored with a checkpoint (a self-check on held-out clips), if it has one."""
    meta = json.loads(config_path(checkpoint).read_text())
    stored = meta.get("calibration")
    return None if stored is None else ConfidenceThreshold.from_dict(stored)
