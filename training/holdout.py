"""Which verified items of a project are held out for evaluation (never trained on).

The split is a pure function of the project and the item, so it never changes as verdicts
arrive: an item held out once stays held out for every later retrain.
"""

from __future__ import annotations

import hashlib

from core.config import get_settings


def held_out_fraction(project_id: int, item_key: str) -> float:
    """A stable number in [0, 1) for this item of this project."""
    digest = hashlib.sha256(f"{project_id}:{item_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(project_id: int, item_key: str, share: float | None = None) -> bool:
    """True when this item belongs to the project's evaluation share."""
    share = get_settings().holdout_share if share is None else share
    if not 0.0 <= share < 1.0:
        raise ValueError(f"held-out share must be in [0, 1), got {share}")
    return held_out_fraction(project_id, item_key) < share
