"""Proposals of AVST for every clip of a project, stamped with the model version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.models import Clip, Project
from annotation_db.proposals import NewProposal, write_proposals
from core.avst.predictor import AVSTPredictor, SyncPrediction
from training.avst import FAMILY
from training.family import bundled_checkpoint
from training.options import PredictOptions
from training.registry import resolve_model


def proposal_payload(prediction: SyncPrediction) -> dict:
    """JSON payload of a sync proposal: best offset, scores by offset and the score curve."""
    return {"offset_frames": prediction.offset_frames,
            "scores": {str(k): round(v, 5) for k, v in prediction.scores.items()},
            "curve": [[round(t, 3), round(s, 5)] for t, s in prediction.curve]}


def predict_project(session: Session, project: Project, checkpoint: str | Path | None = None,
                    device: str | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Write one proposal per clip with media; returns how many were written."""
    resolved = resolve_model(session, project, FAMILY, checkpoint)
    predictor = AVSTPredictor.from_checkpoint(resolved.path, device)
    clips = session.exec(select(Clip).where(Clip.project_id == project.id, Clip.media_path.is_not(None))
                         .order_by(Clip.id)).all()
    session.commit()  # end the read snapshot: after a long pass SQLite could not turn it into a write
    proposals = []
    for index, clip in enumerate(clips):
        prediction = predictor.predict_file(clip.media_path)
        proposals.append(NewProposal(payload=proposal_payload(prediction), clip_id=clip.id,
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
    return {"clip": str(path), "offset_frames": result.offset_frames,
            "scores": {str(k): v for k, v in result.scores.items()}, "model_version": predictor.model_version}
