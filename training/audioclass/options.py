"""Options of `train`, `eval audioclass` and `curate` (flags and job params are made from these fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from training.options import EvalOptions, TrainOptions


@dataclass(kw_only=True)
class AudioClassTrainOptions(TrainOptions):
    """One audio classifier run: Adam and cross entropy over the folder's classes (4.4.2)."""

    config: str = "tiny-ap"
    """Named network config: resnet18-ap, resnet18-nv (Table 4.4), tiny-ap, tiny-nv, micro (core/audioclass/config.py)."""
    epochs: int = 12
    """Passes over the training clips (max_steps, when given, wins)."""
    lr: float = 1e-3
    """Adam's learning rate (4.4.2: 1e-3, divided by 10 for the last fifth of the steps)."""
    labels: Path | None = None
    """Label CSV in the VGG-Sound layout (default: DATA/labels.csv)."""
    split: str | None = None
    """Train only on rows of this split (e.g. train); default: every row."""
    limit: int | None = None
    """Use only the first N clips."""


@dataclass(kw_only=True)
class AudioClassEvalOptions(EvalOptions):
    """mAP, AUC, d-prime, top-1 and top-5 (Table 4.4) of a checkpoint on a labelled folder."""

    split: str | None = None
    """Score only rows of this split (e.g. test); default: every row."""
    limit: int | None = None
    """Score only the first N clips."""


@dataclass(kw_only=True)
class CurateOptions:
    """Stages 3 and 4 of VGG-Sound curation on a folder of candidate clips (4.3.3, 4.3.4)."""

    data: Path
    """Folder with clips/ and labels.csv (what `python -m core.synthetic curation` writes); truth.csv is never read."""
    out: Path
    """CSV of the kept clips in the VGG-Sound layout; the per-clip decisions go beside it (.decisions.json)."""
    rules: Path | None = None
    """Stage-3 rules JSON (default: DATA/rules.json, else every class rejects speech and music at 0.5)."""
    verifier: Path | None = None
    """Speech / music / other checkpoint of stage 3 (default: the bundled audioclass-verifier)."""
    config: str = "tiny-ap"
    """Named config of the stage-4 classifiers."""
    epochs: int = 8
    """Passes over the training half for each two-fold model (the final classifier too)."""
    batch_size: int = 32
    """Clips per step."""
    lr: float = 1e-3
    """Adam's learning rate."""
    top_k: int = 3
    """A clip is an easy positive when its label is among the ensemble's top k classes (4.3.4: 3)."""
    neighbours: int = 5
    """Retrieval: how many nearest kept clips (visual features) vote on a rejected clip."""
    min_votes: int = 3
    """Retrieval: a rejected clip comes back as a hard positive when this many of its neighbours share its label."""
    duplicate_similarity: float = 0.995
    """Cosine similarity of visual features above which two clips of a class are the same upload."""
    skip_stage3: bool = False
    """Run stage 4 only."""
    seed: int = 0
    """Seed of the random halves and of training."""
    device: str | None = None
    """cpu or cuda (default: cuda when there is one)."""
    threads: int | None = None
    """Torch CPU threads (default: torch's)."""
