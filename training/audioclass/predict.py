"""Class proposals for a clip-verification project, and one clip's speech / music / other scores (4.3.3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from annotation_db.models import Clip, Project
from annotation_db.proposals import NewProposal, write_proposals
from core.audioclass.dataset import decode_audio
from core.audioclass.predictor import AudioClassPredictor
from core.media import MediaError
from training.audioclass import FAMILY, VERIFIER
from training.family import bundled_checkpoint
from training.options import PredictOptions
from training.registry import resolve_model

TOP = 5  # classes listed per proposal
KEEP_TOP = 3  # 4.3.4: a label among the top 3 predictions is kept
CONFIDENT_PROBABILITY = 0.5  # a proposal is confident when its top class has at least this probability


def load_predictor(checkpoint: str | Path | None = None, device: str | None = None,
                   model_version: str | None = None) -> AudioClassPredictor:
    """A predictor for `checkpoint` (default: the bundled demo), optionally stamped with a registered version."""
    path = Path(checkpoint) if checkpoint else bundled_checkpoint(FAMILY.bundled["clip-verification"])
    predictor = AudioClassPredictor.from_checkpoint(path, device)
    if model_version:
        predictor.model_version = model_version
    return predictor


def load_verifier(checkpoint: str | Path | None = None, device: str | None = None) -> AudioClassPredictor:
    """The stage-3 speech / music / other classifier (default: the bundled one)."""
    return AudioClassPredictor.from_checkpoint(checkpoint or bundled_checkpoint(VERIFIER), device)


def proposal_payload(classes: tuple[str, ...], probs: np.ndarray, label: str | None,
                     verification: dict[str, float] | None = None) -> tuple[dict, float]:
    """(payload, uncertainty) of one clip: top classes, whether its label is in the top 3, confidence."""
    order = np.argsort(-probs, kind="mergesort")
    known = label in classes
    rank = int(np.flatnonzero(order == classes.index(label))[0]) + 1 if known else None
    top = float(probs[order[0]])
    payload = {"top_classes": [[classes[i], round(float(probs[i]), 4)] for i in order[:TOP]],
               "label": label, "label_known": known, "label_rank": rank,
               "label_probability": round(float(probs[classes.index(label)]), 4) if known else None,
               "label_in_top3": None if not known else rank <= KEEP_TOP,
               "confident": top >= CONFIDENT_PROBABILITY,
               "audio_verification": verification}
    return payload, round(1.0 - top, 4)


def _decode(predictor: AudioClassPredictor, clip: Clip) -> np.ndarray | None:
    try:
        return decode_audio(clip.media_path, predictor.config.audio, predictor.config.audio.clip_seconds)
    except (MediaError, OSError):
        return None  # unreadable media: no proposal


def predict_project(session: Session, project: Project, checkpoint: str | Path | None = None,
                    device: str | None = None, progress: Callable[[int, int], None] | None = None,
                    batch: int = 16) -> int:
    """Write one proposal per clip with readable media (top classes, label in the top 3, the stage-3
    speech / music / other scores); returns how many were written."""
    resolved = resolve_model(session, project, FAMILY, checkpoint)
    predictor = load_predictor(resolved.path, device, resolved.version)
    verifier = load_verifier(device=device)
    clips = session.exec(select(Clip).where(Clip.project_id == project.id, Clip.media_path.is_not(None))
                         .order_by(Clip.id)).all()
    session.commit()  # end the read snapshot before decoding (see training/localizer/predict.py)
    written = 0
    for start in range(0, len(clips), batch):
        chunk = clips[start:start + batch]
        decoded = [(c, w) for c in chunk if (w := _decode(predictor, c)) is not None]
        proposals = []
        if decoded:
            waves = np.stack([w for _, w in decoded])
            probs = predictor.probabilities(waves)
            checks = verifier.probabilities(waves)
            for (clip, _), p, check in zip(decoded, probs, checks):
                scores = {name: round(float(v), 4) for name, v in zip(verifier.classes, check)}
                payload, uncertainty = proposal_payload(predictor.classes, p, clip.label, scores)
                proposals.append(NewProposal(clip_id=clip.id, uncertainty=uncertainty, payload=payload))
        written += write_proposals(session, project, FAMILY.name, resolved.version, proposals, resolved.version_id)
        session.commit()
        if progress:
            progress(min(start + batch, len(clips)), len(clips))
    return written


def predict_clip(options: PredictOptions, verifier: Path | None = None) -> dict:
    """`predict audioclass --clip FILE`: {"speech", "music", "other"} from the stage-3 classifier (default: the
    bundled one), and the classifier's top classes (checkpoint: --checkpoint, else the bundled demo)."""
    path = Path(options.clip)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    verifier = load_verifier(verifier, options.device)
    scores = verifier.predict_file(path)
    predictor = load_predictor(options.checkpoint, options.device)
    probs = predictor.predict_file(path)
    top = sorted(probs.items(), key=lambda item: -item[1])[:TOP]
    return {**{name: round(p, 4) for name, p in scores.items()}, "clip": str(path),
            "verifier_version": verifier.model_version, "model_version": predictor.model_version,
            "top_classes": [[name, round(p, 4)] for name, p in top]}


def predict_verification(clip: str | Path, checkpoint: str | Path | None = None, device: str | None = None) -> dict:
    """`predict audio-verification --clip FILE`: the stage-3 classifier's {"speech", "music", "other"}
    probabilities of one wav / mp3 / video (the whole file), its model version, and `confident` (the top
    sound has at least CONFIDENT_PROBABILITY)."""
    path = Path(clip)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    verifier = load_verifier(checkpoint, device)
    scores = verifier.predict_file(path)
    return {**{name: round(p, 4) for name, p in scores.items()}, "model_version": verifier.model_version,
            "confident": max(scores.values()) >= CONFIDENT_PROBABILITY, "clip": str(path)}
