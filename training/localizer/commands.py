"""`python -m training train|eval|predict localizer ...` (the contract of training/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace

from core.localizer.builder import CONFIGS, VARIANTS, named_config
from core.localizer.dataset import load_clip_set, read_box_file
from training.checkpoints import save_checkpoint
from training.localizer.evaluation import evaluate_methods
from training.localizer.loading import BUNDLED, load_predictor
from training.localizer.trainer import TrainSettings, train_localizer


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `train localizer`."""
    parser.add_argument("--data", required=True, help="clip folder: DIR/clips/*.mp4 (+ vggss.json)")
    parser.add_argument("--out", required=True, help="checkpoint to write (.pt, JSON config beside)")
    parser.add_argument("--variant", default="trimap", choices=VARIANTS)
    parser.add_argument("--oracle-boxes", help="VGG-SS JSON of people's boxes used as oracle masks")
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
    parser.add_argument("--visual-weights", help="local torchvision resnet18 weights for the visual stream")
    parser.add_argument("--half", action="store_true", help="store weights as float16 (smaller file)")
    parser.add_argument("--limit", type=int, help="use only the first N clips")


def train(args: argparse.Namespace) -> int:
    """Train on a clip folder and save a checkpoint; prints a JSON summary."""
    config = named_config(args.config, args.variant)
    temperature = args.temperature or (0.07 if args.loss_form == "infonce" else 1.0)
    config = replace(config, loss=replace(config.loss, form=args.loss_form, temperature=temperature))
    clips = load_clip_set(args.data, config.network.image_size, config.audio, limit=args.limit)
    oracle = read_box_file(args.oracle_boxes) if args.oracle_boxes else None
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             max_steps=args.max_steps, device=args.device, warmup_epochs=args.warmup_epochs,
                             visual_weights=args.visual_weights)
    result = train_localizer(config, clips, settings, oracle, progress=_print_progress)
    state = result.model.state_dict()
    if args.half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    summary = {"steps": result.steps, "clips": len(clips), "oracle_clips": result.oracle_clips,
               "first_loss": result.losses[0], "final_loss": result.losses[-1],
               "samples_per_second": round(result.samples_per_second, 2)}
    save_checkpoint(args.out, state, {"model": "localizer", "localizer": config.to_dict(),
                                      "train": {**asdict(settings), "data": str(args.data), **summary}})
    print(json.dumps({"checkpoint": str(args.out), **summary}))
    return 0


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
