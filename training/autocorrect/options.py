"""Options of `train` and `eval autocorrect` (flags and job params are made from these fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from training.options import AdaptOptions, EvalOptions, TrainOptions


@dataclass(kw_only=True)
class AutoCorrectTrainOptions(TrainOptions):
    """One AutoCorrect training run (J_s, J_c or the gated joint loss of 3.3.3)."""

    epochs: int = 20
    """Passes over the training instances (max_steps, when given, wins)."""
    lr: float = 1e-3
    """Adam's learning rate (divided by 10 at 75 % of the steps)."""
    memory_map: bool = True
    """Feed the spatial memory map M (eq. 3.4) as the fifth input channel."""
    loss: str = "joint"
    """self (J_s, eq. 3.2), consistency (J_c, eq. 3.3) or joint (both, gated as eq. 3.5)."""
    window: int | None = None
    """Window side in px (default: the config's)."""
    gate_after: float = 0.5
    """Joint loss: share of steps with J_s + J_c on every sample before the eq. 3.5 gating (1: never gate)."""
    gate_iou: float = 0.2
    """Joint loss: eq. 3.5's IoU below which a sample gets J_c alone."""
    gate_dilate: int = 0
    """Joint loss: px both masks are grown by before the gate's IoU, for thin structures (0: eq. 3.5 as written)."""
    loss_unit: float | None = None
    """Px taken as 1 when J_s and J_c compare matrices (default: the largest shift and turn weigh the same)."""
    model_memory: int = 0
    """Every N steps, rerun the network over the training tiles and show earlier labels in M where it put
    them, as inference does (0: at their label)."""
    model_memory_rounds: int = 4
    """Perturbed inference runs per tile at each model_memory refresh."""
    max_shift_m: float | None = None
    """Perturbation bound in metres, recorded in the card as the default bound of a project (default: 25 px
    at a 640 px tile, scaled with the tile size, as 3.3.3)."""


@dataclass(kw_only=True)
class AutoCorrectEvalOptions(EvalOptions):
    """IoU (railways) and PCK (buildings) of the model, the noisy input and the global shift (3.4.1)."""

    passes: int | None = None
    """Applications of Phi per instance (default: the checkpoint's)."""
    abstain: bool = False
    """Also score the model with abstention, calibrated by a self-check on the folder's own noisy labels."""


@dataclass(kw_only=True)
class AutoCorrectAdaptOptions(AdaptOptions):
    """Self-supervised adaptation to a project's own labels (J_s + J_c with eq. 3.5 gating), then a self-check."""

    data: Path
    """Folder in the generator's layout (rasters/, annotations.geojson, meta.json); truth.geojson is never read."""
    init: Path | None = None
    """Checkpoint to adapt (default: the bundled one for the data's kind)."""
    max_shift_m: float | None = None
    """Expected misalignment of the project in metres: the training perturbations and the self-check bound
    (default: the card's)."""
    check_rounds: int = 4
    """Self-check rounds (perturbed copies of every held-out label) for the parent and the adapted model."""
    check_every: int = 200
    """Steps between self-checks of the model being adapted; the best one is kept."""
