"""`python -m training train|eval|predict autocorrect ...` (the contract in training/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.autocorrect.train import LOSSES, TrainOptions, run_training, write_record
from training.distributed import add_distributed_arguments, relaunch_under_torchrun


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `train autocorrect`."""
    parser.add_argument("--data", type=Path, required=True, help="output of `python -m core.synthetic geo`")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint path (.pt; .json written beside)")
    parser.add_argument("--no-memory-map", dest="memory_map", action="store_false")
    parser.add_argument("--loss", choices=LOSSES, default="joint")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=None, help="overrides --epochs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--config", default="small", help="tiny | small | thesis")
    parser.add_argument("--window", type=int, default=None, help="window side in px (config default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--init", type=Path, default=None,
                        help="start from this checkpoint's weights (its JSON config is used)")
    parser.add_argument("--gate-after", type=float, default=0.5,
                        help="joint loss: share of steps with J_s + J_c on every sample before the eq. 3.5 "
                             "gating (1: never gate)")
    parser.add_argument("--gate-iou", type=float, default=0.2,
                        help="joint loss: eq. 3.5's IoU below which a sample gets J_c alone")
    parser.add_argument("--gate-dilate", type=int, default=0, metavar="PX",
                        help="joint loss: grow both masks by PX pixels before the gate's IoU, for thin "
                             "structures (0: eq. 3.5 as written)")
    parser.add_argument("--loss-unit", type=float, default=None, metavar="PX",
                        help="pixels taken as 1 when J_s and J_c compare matrices (default: the largest "
                             "perturbation shift and turn weigh the same)")
    parser.add_argument("--model-memory", type=int, default=0, metavar="N",
                        help="every N steps, rerun the network over the training tiles and show earlier "
                             "labels in the memory map where it put them, as inference does (0: at their label)")
    parser.add_argument("--model-memory-rounds", type=int, default=4,
                        help="perturbed inference runs per tile at each --model-memory refresh")
    add_distributed_arguments(parser)


def train(args: argparse.Namespace) -> int:
    """Train and save (rank 0); prints the loss curve summary."""
    status = relaunch_under_torchrun(args, train_argv(args))
    if status is not None:
        return status
    options = TrainOptions(**{k: v for k, v in vars(args).items() if k in TrainOptions.__dataclass_fields__})
    try:
        record = run_training(options, progress=lambda line: print(line, file=sys.stderr))
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if record["rank"] == 0:
        write_record(record, options.out.with_suffix(".train.json"))
        print(json.dumps({k: v for k, v in record.items() if k != "losses"}))
    return 0


def train_argv(args: argparse.Namespace) -> list[str]:
    """The `train autocorrect` command line that gives `args` (what each torchrun process runs)."""
    argv = ["train", "autocorrect"]
    for key, value in vars(args).items():
        if key in ("action", "model") or value is None:
            continue
        if key == "memory_map":
            argv += [] if value else ["--no-memory-map"]
        else:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    return argv


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `eval autocorrect`."""
    parser.add_argument("--data", type=Path, required=True, help="held-out generated tiles (with truth.geojson)")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--project", default=None, help="use this project's active model")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def evaluate(args: argparse.Namespace) -> int:
    """Score model, noisy input and the global-shift baseline."""
    from training.autocorrect.evaluate import evaluate_directory

    try:
        checkpoint = args.checkpoint or _default_checkpoint(args.data, args.project)
        result = evaluate_directory(checkpoint, args.data, args.device)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        for method in ("model", "noisy_input", "global_shift"):
            m = result[method]
            print(f"{method:13s} IoU {m['iou']:.3f}  PCK@5 {m['pck']['5']:.3f}  PCK@16 {m['pck']['16']:.3f}")
    return 0


def _default_checkpoint(data: Path, project: str | None) -> Path:
    """The project's active model if a project is named, else the bundled one for the data's kind."""
    from training.registry import bundled_checkpoint

    if project:
        from annotation_db.engine import session_scope
        from annotation_db.projects import get_project
        from training.autocorrect.predict import MODEL, bundled_name
        from training.registry import resolve_model

        with session_scope() as session:
            target = get_project(session, project)
            return resolve_model(session, target, MODEL, bundled_name(target)).path
    meta = Path(data) / "meta.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: missing (expected `python -m core.synthetic geo` output)")
    return bundled_checkpoint(f"autocorrect-{json.loads(meta.read_text())['kind']}")


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `predict autocorrect`."""
    parser.add_argument("--project", required=True)
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)


def predict(args: argparse.Namespace) -> int:
    """Write proposals for every unreviewed instance of a project."""
    from annotation_db.engine import session_scope
    from annotation_db.projects import get_project
    from training.autocorrect.predict import predict_project

    try:
        with session_scope() as session:
            count = predict_project(session, get_project(session, args.project), args.checkpoint, args.device,
                                    progress=lambda done, total: print(f"{done}/{total}", file=sys.stderr))
    except (FileNotFoundError, ValueError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{count} proposals written")
    return 0
