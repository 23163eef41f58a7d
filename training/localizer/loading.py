"""Loading a localizer checkpoint (bundled or given) into a predictor."""

from __future__ import annotations

from pathlib import Path

from core.localizer.predictor import LocalizerPredictor
from training.checkpoints import checkpoint_version, load_checkpoint
from training.registry import bundled_checkpoint

BUNDLED = "localizer-demo"


def load_predictor(checkpoint: str | Path | None = None, device: str | None = None,
                   model_version: str | None = None) -> LocalizerPredictor:
    """A predictor for `checkpoint` (default: the bundled demo checkpoint)."""
    path = Path(checkpoint) if checkpoint else bundled_checkpoint(BUNDLED)
    state, meta = load_checkpoint(path)
    if "localizer" not in meta:
        raise ValueError(f"{path}: not a localizer checkpoint (its JSON has no 'localizer' config)")
    return LocalizerPredictor.from_state(state, meta["localizer"], model_version or checkpoint_version(path),
                                         device)
