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


def accepts_flag(model: str, action: str, flag: str) -> bool:
    """True when `python -m training ACTION MODEL` takes this option (e.g. --init)."""
    parser = argparse.ArgumentParser()
    getattr(_commands(model), ACTIONS[action][0])(parser)
    return flag in parser._option_string_actions


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
    _add_job_commands(actions)
    return parser


def _add_job_commands(actions) -> None:
    worker = actions.add_parser("worker", help="run queued jobs, each in a child process")
    worker.add_argument("--until-idle", action="store_true", help="exit when no job is queued")
    worker.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    actions.add_parser("run-job", help=argparse.SUPPRESS).add_argument("job_id", type=int)
    jobs = actions.add_parser("jobs", help="submit, list, cancel and show jobs")
    verbs = jobs.add_subparsers(dest="verb", required=True)
    submit = verbs.add_parser("submit")
    submit.add_argument("--model", choices=MODELS, required=True)
    submit.add_argument("--kind", choices=["train", "evaluate", "predict"], required=True)
    submit.add_argument("--project")
    submit.add_argument("--params", default="{}", help='JSON, e.g. \'{"epochs": 2}\'')
    submit.add_argument("--user", help="researcher or admin who launches it (default: 'cli')")
    verbs.add_parser("list")
    verbs.add_parser("cancel").add_argument("job_id", type=int)
    show = verbs.add_parser("show")
    show.add_argument("job_id", type=int)
    show.add_argument("--json", action="store_true")


def main(argv: list[str] | None = None) -> int:
    """Run one action of one model, or a job command."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    if args.action == "worker":
        from annotation_db.migrate import upgrade_database
        from training.worker import run_worker

        upgrade_database()
        print(f"ran {run_worker(until_idle=args.until_idle, parent_pid=args.parent_pid)} job(s)")
        return 0
    if args.action == "run-job":
        from training.job_runner import run_job

        return run_job(args.job_id)
    if args.action == "jobs":
        from training.job_cli import run_jobs_command

        return run_jobs_command(args)
    return getattr(_commands(args.model), ACTIONS[args.action][1])(args)
