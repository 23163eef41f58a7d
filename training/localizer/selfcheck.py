"""The localizer's self-check of a checkpoint on a folder of clips (no boxes read), as JSON.

What the adapt job and the Jobs page call for this family (the contract of
training/autocorrect/adapt.py's project_self_check): two of the folder's own centre frames side by
side, one clip's audio played, and the confidence threshold calibrated from it
(core/localizer/selfcheck.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from core.localizer.predictor import LocalizerPredictor
from core.media import MEDIA_SUFFIXES, MediaError

CHECK_CLIPS = 64  # a self-check looks at up to this many clips, evenly spaced over the folder


def check_folder(checkpoint: Path, data: Path, device: str | None = None, limit: int = CHECK_CLIPS) -> dict:
    """The self-check of `checkpoint` on (up to `limit` of) data/clips, with "score", "rank_key",
    "checkpoint" and "model_version" (no clips: a check of 0 clips, score 0, never confident)."""
    clips_dir = Path(data) / "clips"
    files = sorted(p for p in clips_dir.iterdir() if p.suffix in MEDIA_SUFFIXES) if clips_dir.is_dir() else []
    files = files[:: max(1, len(files) // limit)][:limit]
    predictor = LocalizerPredictor.from_checkpoint(checkpoint, device)
    decoded, keys = [], []
    for path in files:
        try:
            decoded.append(predictor.load(path))
            keys.append(path.stem)
        except (MediaError, OSError) as error:  # unreadable: not checkable
            print(f"self-check skips {path.name}: {error}", file=sys.stderr, flush=True)
    frames = np.stack([d.frame for d in decoded]) if decoded else np.zeros((0, 1, 1, 3), np.uint8)
    waveforms = np.stack([d.waveform for d in decoded]) if decoded else np.zeros((0, 1), np.float32)
    check = predictor.self_check(frames, waveforms, keys)
    return {**check.to_dict(), "checkpoint": str(checkpoint), "model_version": predictor.model_version}


def project_self_check(checkpoint: Path, data: Path, settings: dict | None = None) -> dict:
    """The self-check of a checkpoint on a project's clips (data/clips, as verdict_data.py and the adapt
    split write them); the project's settings are not used by the localizer."""
    return check_folder(checkpoint, data)
