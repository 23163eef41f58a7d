"""`python -m training train|eval|predict MODEL ...`: one entry point for every model.

Each model family lives in `training/<model>/commands.py`, which provides
`add_train_arguments(parser)`, `train(args) -> int`, `add_eval_arguments(parser)`,
`evaluate(args) -> int`, `add_predict_arguments(parser)` and `predict(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

MODELS = ("autocorrect", "localizer", "avst")
# action on the command line -> (argument adder, runner) in training/<model>/commands.py
ACTIONS = {
    "train": ("add_train_arguments", "train"),
    "eval": ("add_eval_arguments", "evaluate"),
    "predict": ("add_predict_arguments", "predict"),
}


def _commands(model: str):
    return importlib.import_module(f"training.{model}.commands")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser; only the model named on the command line is imported."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    wanted = next((a for a in argv if a in MODELS), None)
    for action in ACTIONS:
        models = actions.add_parser(action).add_subparsers(dest="model", required=True)
        for model in MODELS:
            sub = models.add_parser(model)
            if model == wanted:
                getattr(_commands(model), ACTIONS[action][0])(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one action of one model."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    return getattr(_commands(args.model), ACTIONS[args.action][1])(args)
