"""Options of `train` and `eval localizer` (flags and job params are made from these fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from training.options import AdaptOptions, EvalOptions, TrainOptions

PEOPLE_BOXES = "people_boxes.json"  # people's boxes in a verdict training set (verdict_data.py)


@dataclass(kw_only=True)
class LocalizerTrainOptions(TrainOptions):
    """One localizer training run (the tri-map loss of 5.3.4, or an ablation; oracle masks where boxed)."""

    config: str = "tiny"
    """Named network config: tiny or thesis (core/localizer/config.py)."""
    variant: str = "trimap"
    """trimap, positives-only or no-ignore (Table 5.4)."""
    oracle_boxes: Path | None = None
    """VGG-SS JSON of people's boxes used as oracle masks (5.3.3; default: DATA/people_boxes.json if present)."""
    warmup_epochs: int = 0
    """Epochs of positives-only loss before the variant's hard negatives."""
    loss_form: str = "thesis"
    """thesis (5.3.4 as written) or infonce (the released code's form)."""
    temperature: float | None = None
    """Contrastive temperature (default: the form's)."""
    easy_negatives: str = "mean"
    """mean: pool each other clip's map over all cells (5.3.4); positive: over its own positive region."""
    eps_p: float | None = None
    """Soft threshold of the positive region (default 0.65; Table 5.4 rows a and b use 0.6)."""
    eps_n: float | None = None
    """Soft threshold of the hard-negative region (default 0.4)."""
    visual_weights: Path | None = None
    """Local torchvision resnet18 weights for the visual stream."""
    flip: bool = True
    """Random horizontal flips of the frame (and its oracle mask)."""
    half: bool = False
    """Store weights as float16 (a smaller file)."""
    limit: int | None = None
    """Use only the first N clips."""


@dataclass(kw_only=True)
class LocalizerEvalOptions(EvalOptions):
    """cIoU@0.5, mean cIoU and AUC (5.A) of the model and of the centre prior."""

    limit: int | None = None
    """Score only the first N clips."""


@dataclass(kw_only=True)
class LocalizerAdaptOptions(AdaptOptions):
    """Self-supervised adaptation (the tri-map loss, 5.3.4) to a folder of unlabelled clips, then a self-check."""

    data: Path
    """Folder with clips/ (media files); any boxes there are not read."""
    epochs: int = 20
    """Passes over the clips (the time budget usually ends training first)."""
    batch_size: int = 32
    """Clips per step (the other clips of a step are the easy negatives)."""
