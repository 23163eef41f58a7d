"""Stage 1 for a project: a heatmap and boxes for every clip with media, stamped with the model version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from annotation_db.models import Clip, Project
from annotation_db.proposals import NewProposal, write_proposals
from core.config import get_settings
from core.localizer.predictor import LocalizerPredictor
from core.media import MediaError
from training.family import bundled_checkpoint
from training.localizer import FAMILY
from training.registry import resolve_model

BATCH = 32


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


def predict_project(session: Session, project: Project, checkpoint: str | Path | None = None,
                    device: str | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Write one proposal per clip with media; returns how many were written."""
    resolved = resolve_model(session, project, FAMILY, checkpoint)
    predictor = load_predictor(resolved.path, device, resolved.version)
    clips = session.exec(select(Clip).where(Clip.project_id == project.id, Clip.media_path.is_not(None))
                         .order_by(Clip.id)).all()
    # end the read transaction before decoding: a WAL read snapshot cannot become a write once another
    # connection (the worker's heartbeat) has committed meanwhile, and SQLite then fails at once
    session.commit()
    out_dir = heatmap_dir(resolved.version)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for start in range(0, len(clips), BATCH):
        proposals = _batch_proposals(predictor, clips[start:start + BATCH], out_dir)
        written += write_proposals(session, project, FAMILY.name, resolved.version, proposals,
                                   resolved.version_id)
        session.commit()  # each batch is kept if a later one fails, and the write lock stays short
        if progress:
            progress(min(start + BATCH, len(clips)), len(clips))
    return written


def _batch_proposals(predictor: LocalizerPredictor, clips: list[Clip], out_dir: Path) -> list[NewProposal]:
    decoded, usable = [], []
    for clip in clips:
        try:
            decoded.append(predictor.decode(clip.media_path))
            usable.append(clip)
        except (MediaError, OSError):
            continue  # unreadable media: the page says so; no proposal
    if not usable:
        return []
    results = predictor.localize_arrays(np.stack([d[0] for d in decoded]), np.stack([d[1] for d in decoded]))
    proposals = []
    for clip, result in zip(usable, results):
        path = out_dir / f"clip-{clip.id}.npy"
        np.save(path, result.heatmap.astype(np.float16))
        proposals.append(NewProposal(clip_id=clip.id, uncertainty=round(result.uncertainty, 4),
                                     payload={"boxes": [b.as_list() for b in result.boxes],
                                              "heatmap_path": str(path)}))
    return proposals
