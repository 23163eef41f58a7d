"""`python -m training train|eval|predict localizer ...` (the contract of training/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from core.localizer.builder import CONFIGS, VARIANTS, named_config
from core.localizer.config import LocalizerConfig
from core.localizer.dataset import load_clip_set, read_annotations
from training.checkpoints import load_checkpoint, save_checkpoint
from training.distributed import add_distributed_arguments, relaunch_under_torchrun
from training.localizer.evaluation import evaluate_methods
from training.localizer.loading import BUNDLED, load_predictor
from training.localizer.trainer import TrainSettings, train_localizer

PEOPLE_BOXES = "people_boxes.json"  # people's boxes of a verdict training set (training/localizer/verdict_data.py)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `train localizer`."""
    parser.add_argument("--data", required=True, help="clip folder: DIR/clips/*.mp4 (+ vggss.json)")
    parser.add_argument("--out", required=True, help="checkpoint to write (.pt, JSON config beside)")
    parser.add_argument("--variant", default="trimap", choices=VARIANTS)
    parser.add_argument("--oracle-boxes", help="VGG-SS JSON of people's boxes used as oracle masks "
                                               f"(default: DIR/{PEOPLE_BOXES} when there is one)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", choices=("cpu", "cuda"))
    parser.add_argument("--config", default="tiny", choices=tuple(CONFIGS))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup-epochs", type=int, default=0,
                        help="epochs of positives-only loss before the variant's hard negatives")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps")
    parser.add_argument("--loss-form", choices=("thesis", "infonce"), default="thesis")
    parser.add_argument("--temperature", type=float, help="contrastive temperature (default: form's)")
    parser.add_argument("--easy-negatives", choices=("mean", "positive"), default="mean",
                        help="pool each other clip's map over all cells (5.3.4) or over its own positive "
                             "region (released LVS code; keeps an audio-blind map from scoring well)")
    parser.add_argument("--eps-p", type=float, help="soft threshold of the positive region (default 0.65; "
                                                   "Table 5.4 rows a and b use 0.6)")
    parser.add_argument("--eps-n", type=float, help="soft threshold of the hard-negative region (default 0.4)")
    parser.add_argument("--visual-weights", help="local torchvision resnet18 weights for the visual stream")
    parser.add_argument("--half", action="store_true", help="store weights as float16 (smaller file)")
    parser.add_argument("--limit", type=int, help="use only the first N clips")
    parser.add_argument("--init", help="start from this checkpoint's weights (its network and audio "
                                       "config are used; the loss options come from this command)")
    add_distributed_arguments(parser)


def train_config(args: argparse.Namespace) -> tuple[LocalizerConfig, dict | None]:
    """(config, initial weights or None): the named config, or the --init checkpoint's, with the
    loss options of the command line."""
    temperature = args.temperature or (0.07 if args.loss_form == "infonce" else 1.0)
    state = None
    if args.init:
        state, meta = load_checkpoint(args.init)
        if "localizer" not in meta:
            raise ValueError(f"{args.init}: not a localizer checkpoint (its JSON has no 'localizer' config)")
        config = LocalizerConfig.from_dict(meta["localizer"])
    else:
        config = named_config(args.config)
    thresholds = {k: v for k, v in (("eps_p", args.eps_p), ("eps_n", args.eps_n)) if v is not None}
    try:
        loss = replace(config.loss, variant=args.variant, form=args.loss_form, temperature=temperature,
                       easy_pool=args.easy_negatives, **thresholds)
    except ValueError as exc:  # thresholds that make no tri-map: a usage error, not a crash
        raise SystemExit(f"train localizer: {exc}") from exc
    return replace(config, loss=loss), state


def train(args: argparse.Namespace) -> int:
    """Train on a clip folder and save a checkpoint; prints a JSON summary (rank 0 only)."""
    relaunched = relaunch_under_torchrun(args, train_argv(args))
    if relaunched is not None:
        return relaunched
    config, init_state = train_config(args)
    clips = load_clip_set(args.data, config.network.image_size, config.audio, limit=args.limit)
    oracle_file = args.oracle_boxes or Path(args.data) / PEOPLE_BOXES
    oracle = read_annotations(oracle_file) if args.oracle_boxes or Path(oracle_file).is_file() else None
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             max_steps=args.max_steps, device=args.device, warmup_epochs=args.warmup_epochs,
                             visual_weights=args.visual_weights)
    result = train_localizer(config, clips, settings, oracle, progress=_print_progress, init_state=init_state)
    if not result.is_main:
        return 0
    state = result.model.state_dict()
    if args.half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    summary = {"steps": result.steps, "clips": len(clips), "oracle_clips": result.oracle_clips,
               "processes": result.processes, "first_loss": result.losses[0], "final_loss": result.losses[-1],
               "samples_per_second": round(result.samples_per_second, 2)}
    save_checkpoint(args.out, state, {"model": "localizer", "localizer": config.to_dict(),
                                      "train": {**asdict(settings), "data": str(args.data),
                                                "init": args.init, **summary, "losses": result.losses}})
    print(json.dumps({"checkpoint": str(args.out), **summary}))
    return 0


def train_argv(args: argparse.Namespace) -> list[str]:
    """The `train localizer` command line that gives `args` (what each torchrun process runs)."""
    argv = ["train", "localizer"]
    for key, value in vars(args).items():
        if key in ("action", "model") or value is None or value is False:
            continue
        argv += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return argv


def _print_progress(step: int, total: int, loss: float) -> None:
    if step == 1 or step == total or step % 25 == 0:
        print(f"step {step}/{total} loss {loss:.4f}", file=sys.stderr, flush=True)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `eval localizer`."""
    parser.add_argument("--data", required=True, help="clip folder with vggss.json boxes")
    parser.add_argument("--checkpoint", help=f"default: the bundled {BUNDLED!r} checkpoint")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--device", choices=("cpu", "cuda"))
    parser.add_argument("--limit", type=int)


def evaluate(args: argparse.Namespace) -> int:
    """cIoU@0.5, mean cIoU and AUC of the model and of the centre prior."""
    predictor = load_predictor(args.checkpoint, args.device)
    config = predictor.config
    clips = load_clip_set(args.data, config.network.image_size, config.audio, require_boxes=True,
                          limit=args.limit)
    results = evaluate_methods(predictor, clips)
    if args.json:
        print(json.dumps(results))
    else:
        for method, values in results.items():
            print(f"{method:13s} " + "  ".join(f"{k} {v:.3f}" for k, v in values.items()))
    return 0


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `predict localizer`."""
    parser.add_argument("--project", required=True)
    parser.add_argument("--checkpoint", help="default: the project's active version, else the bundled one")
    parser.add_argument("--device", choices=("cpu", "cuda"))


def predict(args: argparse.Namespace) -> int:
    """Heatmaps and boxes for every clip with media of a project, stamped with the model version."""
    from annotation_db.engine import session_scope
    from annotation_db.projects import get_project
    from training.localizer.predict import predict_project

    with session_scope() as session:
        count = predict_project(session, get_project(session, args.project), args.checkpoint, args.device,
                                progress=lambda done, total: None)
    print(f"{count} proposal(s) written for {args.project}")
    return 0
