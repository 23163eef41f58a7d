"""Options of `train` and `eval avst` (flags and job params are made from these fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from training.options import AdaptOptions, EvalOptions, TrainOptions


@dataclass(kw_only=True)
class AVSTTrainOptions(TrainOptions):
    """One AVST training run: InfoNCE with the two-stage curriculum of 6.3.2."""

    config: str = "thesis"
    """Named network config: tiny, small or thesis (core/avst/config.py)."""
    variant: str = "dec"
    """enc, enc-mp or dec (6.3.1.2)."""
    batch_size: int = 16
    """Videos per step, all processes together."""
    stage0_epochs: int | None = None
    """Encoder warm-up epochs first: offsets of the same video scored by the encoders' per-instant cosine,
    without the Transformer (default: a fifth from scratch, none with init)."""
    stage1_epochs: int | None = None
    """Epochs with negatives from other videos before same-video offsets (default: a third)."""
    group: int = 8
    """Pairs per InfoNCE: videos in stage 1, times of one video in stage 2."""
    warmup_steps: int = 0
    """Linear learning-rate warm-up from lr / 10."""
    longest: int = 30
    """Longest stage-2 window in input frames (5..30)."""
    all_categories: bool = False
    """Also train on clips that are not audio-visually evident."""
    loss_log: Path | None = None
    """Write the per-step losses here (JSON)."""


@dataclass(kw_only=True)
class AVSTEvalOptions(EvalOptions):
    """Offset accuracy (6.4.2) of the model, the classical baseline and chance, by clip length."""

    lengths: str = "1,2,3,4,5,6"
    """Input lengths in seconds for accuracy_by_length, comma-separated."""


@dataclass(kw_only=True)
class AVSTAdaptOptions(AdaptOptions):
    """Self-supervised adaptation to a folder of unlabelled clips (taken to be in sync), then a self-check."""

    data: Path
    """Folder with clips/ (media files); any sync.json there is not read."""
    epochs: int = 12
    """Passes over the clips (the time budget usually ends training first)."""
    stage1_epochs: int = 2
    """The first passes take other clips as negatives (stage 1 of 6.4.3); the rest other offsets (stage 2)."""
    batch_size: int = 8
    """Clips per step."""
