"""`python -m training train|eval|predict avst ...` (see training/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.avst.builder import CONFIGS, VARIANTS, get_config
from training.distributed import add_distributed_arguments, relaunch_under_torchrun

BUNDLED = "avst-demo"


# ---- train ----


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `train avst`."""
    parser.add_argument("--data", required=True, help="what `python -m core.synthetic sync` writes")
    parser.add_argument("--out", required=True, help="checkpoint path (.pt; the .json config goes beside)")
    parser.add_argument("--variant", choices=VARIANTS, default="dec")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="thesis")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--stage0-epochs", type=int, default=None,
                        help="encoder warm-up epochs first: offsets of the same video scored by the encoders' "
                             "per-instant cosine, without the Transformer (default: a fifth from scratch, "
                             "none with --init)")
    parser.add_argument("--stage1-epochs", type=int, default=None,
                        help="epochs with negatives from other videos before same-video offsets (default: a third)")
    parser.add_argument("--batch", type=int, default=16, help="pairs per step (all processes together)")
    parser.add_argument("--group", type=int, default=8,
                        help="pairs per InfoNCE: videos in stage 1, times of one video in stage 2")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup-steps", type=int, default=0, help="linear warm-up from lr / 10")
    parser.add_argument("--longest", type=int, default=30, help="longest stage-2 window in input frames (5..30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop and save after this long")
    parser.add_argument("--all-categories", action="store_true", help="also train on non-evident clips")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--init", default=None,
                        help="start from this checkpoint's weights (its JSON config replaces --config/--variant)")
    parser.add_argument("--loss-log", default=None, help="write the per-step losses here (JSON)")
    add_distributed_arguments(parser)


def train(args: argparse.Namespace) -> int:
    """Train AVST on a sync set and save the checkpoint (rank 0 only under torchrun)."""
    status = relaunch_under_torchrun(args, train_argv(args))
    if status is not None:
        return status
    import torch

    from training.avst.trainer import TrainConfig, train_avst

    if args.threads:
        torch.set_num_threads(args.threads)
    stage1 = args.stage1_epochs if args.stage1_epochs is not None else max(1, args.epochs // 3)
    stage0 = args.stage0_epochs if args.stage0_epochs is not None else (0 if args.init else max(1, args.epochs // 5))
    cfg = TrainConfig(epochs=args.epochs, stage0_epochs=stage0, stage1_epochs=stage1, batch=args.batch, group=args.group,
                      lr=args.lr, warmup_steps=args.warmup_steps, seed=args.seed, max_steps=args.max_steps,
                      max_minutes=args.max_minutes, device=_device(args.device),
                      all_categories=args.all_categories, init=args.init, longest=args.longest)
    try:
        record = train_avst(args.data, args.out, get_config(args.config, variant=args.variant), cfg,
                            log=lambda line: print(line, file=sys.stderr))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if record["processes"] > 1 and not _is_main_process():
        return 0
    if args.loss_log:
        Path(args.loss_log).write_text(json.dumps(record, indent=1))
    losses = [row["loss"] for row in record["losses"]]
    print(json.dumps({"checkpoint": str(args.out), "steps": record["steps"], "seconds": record["seconds"],
                      "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None}))
    return 0


def train_argv(args: argparse.Namespace) -> list[str]:
    """The `train avst` command line that gives `args` (what each torchrun process runs)."""
    argv = ["train", "avst"]
    for key, value in vars(args).items():
        if key in ("action", "model") or value is None or value is False:
            continue
        flag = f"--{key.replace('_', '-')}"
        argv += [flag] if value is True else [flag, str(value)]
    return argv


def _is_main_process() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"


# ---- eval ----


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `eval avst`."""
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint", default=None, help="default: the bundled demo checkpoint")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--lengths", default="1,2,3,4,5,6", help="input lengths in seconds for accuracy_by_length")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)


def evaluate(args: argparse.Namespace) -> int:
    """Offset accuracy of the model, the classical baseline and chance on the evident clips."""
    from core.avst.predictor import AVSTPredictor
    from training.avst.evaluate import evaluate_sync_set
    from training.registry import bundled_checkpoint

    checkpoint = args.checkpoint or bundled_checkpoint(BUNDLED)
    try:
        predictor = AVSTPredictor.from_checkpoint(checkpoint, _device(args.device))
        lengths = [float(x) for x in args.lengths.split(",") if x.strip()]
        report = evaluate_sync_set(predictor, args.data, lengths)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report["checkpoint"], report["model_version"] = str(checkpoint), predictor.version
    if args.json:
        print(json.dumps(report))
    else:
        for method in ("model", "classical", "chance"):
            print(f"{method:10s} accuracy {report[method]['accuracy']:.3f}  by length "
                  f"{ {k: round(v, 3) for k, v in report[method]['accuracy_by_length'].items()} }")
    return 0


# ---- predict ----


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `predict avst`."""
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--clip", help="an mp4/mkv/webm with audio")
    target.add_argument("--project", help="write proposals for every clip of this project")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)


def predict(args: argparse.Namespace) -> int:
    """Best offset and scores for one clip, or proposals for a whole project."""
    from core.media import MediaError

    try:
        return _predict_project(args) if args.project else _predict_clip(args)
    except (ValueError, FileNotFoundError, MediaError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _predict_clip(args: argparse.Namespace) -> int:
    from core.avst.predictor import AVSTPredictor
    from training.registry import bundled_checkpoint

    path = Path(args.clip)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    predictor = AVSTPredictor.from_checkpoint(args.checkpoint or bundled_checkpoint(BUNDLED),
                                              _device(args.device))
    result = predictor.predict_file(path, curve=False)
    out = {"offset_frames": result.offset_frames, "scores": {str(k): v for k, v in result.scores.items()},
           "model_version": predictor.version}
    print(json.dumps(out) if args.json else
          f"{path}: best offset {result.offset_frames:+d} frames at 25 fps ({predictor.version})")
    return 0


def _predict_project(args: argparse.Namespace) -> int:
    from annotation_db.engine import session_scope
    from annotation_db.projects import get_project
    from training.avst.predict import predict_project

    with session_scope() as session:
        project = get_project(session, args.project)
        count = predict_project(session, project, args.checkpoint, _device(args.device))
    print(json.dumps({"project": args.project, "proposals": count}) if args.json else
          f"{args.project}: {count} proposals written")
    return 0


def _device(name: str | None) -> str:
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but no CUDA device is available")
    return name or ("cuda" if torch.cuda.is_available() else "cpu")
