"""A toy model family (a 1x1 convolution scoring clips) registered through MODEL_FAMILIES alone.

It serves clip-verification projects, which no built-in family claims: each clip is a 3x4x4
image made from its key, and the label is whether a person answered Yes for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from core.checkpoints import checkpoint_version, load_checkpoint, save_checkpoint
from training.distributed import write_record
from training.family import ModelFamily
from training.options import EvalOptions, TrainOptions
from training.verdict_sets import VerdictTrainingSet

NAME = "toy"


@dataclass(kw_only=True)
class ToyTrainOptions(TrainOptions):
    """A few steps of logistic regression through a 1x1 convolution."""

    epochs: int = 1
    lr: float = 0.1
    """Adam's learning rate."""


def _pixels(key: str) -> list:
    """A 3x4x4 image determined by a clip key."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    return torch.rand(3, 4, 4, generator=torch.Generator().manual_seed(seed)).tolist()


def _write_items(folder: Path, items: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "items.json").write_text(json.dumps(items))
    return folder


def _read(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    items = json.loads((Path(folder) / "items.json").read_text())
    return (torch.tensor([item["pixels"] for item in items]),
            torch.tensor([float(item["label"]) for item in items]))


def _score(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x).mean(dim=(1, 2, 3))


def train(options: ToyTrainOptions) -> dict:
    """Fit the 1x1 convolution and save it with its record."""
    torch.manual_seed(options.seed)
    net = torch.nn.Conv2d(3, 1, 1)
    if options.init:
        net.load_state_dict(load_checkpoint(options.init)[0])
    x, y = _read(options.data)
    optimiser = torch.optim.Adam(net.parameters(), lr=options.lr)
    steps = options.max_steps or options.epochs * 4
    losses = []
    for _ in range(steps):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(_score(net, x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    record = {"steps": steps, "items": len(y), "init": str(options.init) if options.init else None,
              "losses": losses}
    save_checkpoint(options.out, net.state_dict(), {"family": NAME, "model": {"channels": 3},
                                                    "train": {k: v for k, v in record.items() if k != "losses"}})
    write_record(record, options.out)
    return record


def evaluate(options: EvalOptions) -> dict:
    """Accuracy of the model's Yes / No on a labelled folder."""
    net = torch.nn.Conv2d(3, 1, 1)
    net.load_state_dict(load_checkpoint(options.checkpoint)[0])
    x, y = _read(options.data)
    with torch.no_grad():
        accuracy = ((_score(net, x) > 0).float() == y).float().mean().item()
    return {"model": {"accuracy": accuracy}, "items": len(y), "checkpoint": str(options.checkpoint),
            "model_version": checkpoint_version(options.checkpoint)}


def predict_project(session, project, checkpoint=None, device=None, progress=None) -> int:
    """A score for every clip of the project, stamped with the version."""
    from sqlmodel import select

    from annotation_db.models import Clip
    from annotation_db.proposals import NewProposal, write_proposals
    from training.registry import resolve_model

    resolved = resolve_model(session, project, FAMILY, checkpoint)
    net = torch.nn.Conv2d(3, 1, 1)
    net.load_state_dict(load_checkpoint(resolved.path)[0])
    clips = list(session.exec(select(Clip).where(Clip.project_id == project.id)))
    # end the read snapshot before writing: SQLite refuses at once to turn it into a write once another
    # connection (the worker's heartbeat, every JOB_HEARTBEAT_SECONDS) has committed meanwhile
    session.commit()
    with torch.no_grad():
        scores = _score(net, torch.tensor([_pixels(c.key) for c in clips])).tolist() if clips else []
    proposals = [NewProposal(payload={"score": s, "confident": abs(s) > 0.1}, clip_id=c.id)
                 for c, s in zip(clips, scores)]
    written = write_proposals(session, project, NAME, resolved.version, proposals, resolved.version_id)
    session.commit()  # progress writes to the job row through another connection
    if progress:
        progress(written, len(clips))
    return written


def build_training_set(session, project_id: int, out_dir: Path) -> VerdictTrainingSet:
    """People's Yes / No per clip; the held-out share apart."""
    from annotation_db.models import Answer, Clip, VerdictKind
    from annotation_db.verdicts import latest_verdicts
    from training.holdout import is_held_out

    verdicts = latest_verdicts(session, project_id, VerdictKind.clip, humans_only=True)
    train, heldout, used = [], [], []
    for clip_id, verdict in verdicts.items():
        if verdict.answer is Answer.not_sure:
            continue
        clip = session.get(Clip, clip_id)
        item = {"key": clip.key, "pixels": _pixels(clip.key), "label": int(verdict.answer is Answer.yes)}
        (heldout if is_held_out(project_id, f"clip:{clip_id}") else train).append(item)
        used.append(verdict.id)
    return VerdictTrainingSet(_write_items(out_dir / "train", train),
                              _write_items(out_dir / "heldout", heldout) if heldout else None,
                              used, {"train": len(train), "heldout": len(heldout)})


def ignore_verdicts(session, data: VerdictTrainingSet, project_id: int) -> VerdictTrainingSet:
    """Every training clip taken as Yes."""
    items = json.loads((data.train_dir / "items.json").read_text())
    _write_items(data.train_dir, [{**item, "label": 1} for item in items])
    return VerdictTrainingSet(data.train_dir, data.heldout_dir, [], data.counts)


def make_benchmark(variant: str, spec, out: Path) -> None:
    """Seeded items labelled by the sign of their mean red value minus 0.5."""
    keys = [f"bench-{spec.seed}-{i}" for i in range(spec.items)]
    _write_items(out, [{"key": k, "pixels": _pixels(k), "label": int(_pixels(k)[0][0][0] > 0.5)} for k in keys])


FAMILY = ModelFamily(
    name=NAME,
    project_kinds=("clip-verification",),
    bundled={},
    headline=("model", "accuracy"),
    train_options=ToyTrainOptions,
    eval_options=EvalOptions,
    train=train,
    evaluate=evaluate,
    predict_project=predict_project,
    build_training_set=build_training_set,
    ignore_verdicts=ignore_verdicts,
    make_benchmark=make_benchmark,
)
