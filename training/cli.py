"""`python -m training train|eval|predict FAMILY ...`, `jobs ...` and `worker`.

A thin adapter: each family's options dataclasses (training/options.py) give the flags, and
the family's typed functions (training/families.py) do the work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from training.evaluation import evaluate
from training.families import families, get_family
from training.jobs import JOB_KINDS
from training.options import PredictOptions, add_options, from_namespace


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one sub-command per action and family."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    train, eval_, predict, adapt = (actions.add_parser(a).add_subparsers(dest="model", required=True)
                                    for a in ("train", "eval", "predict", "adapt"))
    for name, family in families().items():
        add_options(train.add_parser(name, help=f"train {name}"), family.train_options)
        sub = eval_.add_parser(name, help=f"score {name} (on a labelled folder, or on a project)")
        add_options(sub, family.eval_options)
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub = predict.add_parser(name, help=f"{name} proposals for a project" +
                                 (" or one clip" if family.predict_clip else ""))
        add_options(sub, PredictOptions, skip=() if family.predict_clip else ("clip",))
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        if family.adapt is not None:
            add_options(adapt.add_parser(name, help=f"adapt {name} to a folder's own labels (no truth read)"),
                        family.adapt_options)
    sub = predict.add_parser("audio-verification", help="speech / music / other probabilities of one file "
                                                        "(stage 3 of VGG-Sound curation)")
    sub.add_argument("--clip", required=True, help="a wav, mp3 or any video with sound")
    sub.add_argument("--checkpoint", help="speech / music / other checkpoint (default: the bundled "
                                          "audioclass-verifier)")
    sub.add_argument("--device", help="cpu or cuda (default: cuda when there is one)")
    sub.add_argument("--json", action="store_true", help="print one JSON object")
    _add_job_commands(actions)
    from training.audioclass.options import CurateOptions

    curate = actions.add_parser("curate", help="VGG-Sound curation stages 3 and 4 on a folder of clips "
                                               "(kept clips as a VGG-Sound CSV, decisions beside it)")
    add_options(curate, CurateOptions)
    curate.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _add_job_commands(actions) -> None:
    worker = actions.add_parser("worker", help="run queued jobs, each in a child process")
    worker.add_argument("--until-idle", action="store_true", help="exit when no job is queued")
    worker.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    actions.add_parser("seed-demo", help="generate and import the demo projects (skips existing ones)")
    actions.add_parser("run-job", help=argparse.SUPPRESS).add_argument("job_id", type=int)
    jobs = actions.add_parser("jobs", help="submit, list, cancel and show jobs")
    verbs = jobs.add_subparsers(dest="verb", required=True)
    submit = verbs.add_parser("submit")
    submit.add_argument("--model", choices=tuple(families()), required=True)
    submit.add_argument("--kind", choices=JOB_KINDS, required=True)
    submit.add_argument("--project")
    submit.add_argument("--params", default="{}", help='JSON, e.g. \'{"epochs": 2}\'')
    submit.add_argument("--user", help="researcher or admin who launches it (default: 'cli')")
    verbs.add_parser("list")
    verbs.add_parser("cancel").add_argument("job_id", type=int)
    show = verbs.add_parser("show")
    show.add_argument("job_id", type=int)
    show.add_argument("--json", action="store_true")
    versions = actions.add_parser("versions", help="list a project's model versions, promote one")
    verbs = versions.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list")
    listing.add_argument("--project", required=True)
    listing.add_argument("--json", action="store_true")
    promote = verbs.add_parser("promote", help="make a version the project's active model (queues a predict job)")
    promote.add_argument("version_id", type=int)
    promote.add_argument("--project", required=True)
    promote.add_argument("--user", help="researcher or admin who promotes it (default: 'cli')")


def main(argv: list[str] | None = None) -> int:
    """Run one action of one family, or a job command; bad input exits 2 with a message."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.action == "worker":
        from annotation_db.migrate import upgrade_database
        from training.worker import run_worker

        upgrade_database()
        print(f"ran {run_worker(until_idle=args.until_idle, parent_pid=args.parent_pid)} job(s)")
        return 0
    if args.action == "seed-demo":
        from training.demo import seed_demo

        for line in seed_demo():
            print(line, flush=True)
        return 0
    if args.action == "run-job":
        from training.job_runner import run_job
        from training.worker import die_with_worker

        die_with_worker()
        return run_job(args.job_id)
    if args.action in ("jobs", "versions"):
        from training.job_cli import run_jobs_command, run_versions_command

        return (run_jobs_command if args.action == "jobs" else run_versions_command)(args)
    if args.action == "curate":
        return _curate(args)
    try:
        return ACTIONS[args.action](args)
    except (FileNotFoundError, ValueError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    family = get_family(args.model)
    record = family.train(from_namespace(family.train_options, args))
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps({k: v for k, v in record.items() if k != "losses"}))
    return 0


def _adapt(args: argparse.Namespace) -> int:
    family = get_family(args.model)
    record = family.adapt(from_namespace(family.adapt_options, args))
    print(json.dumps({k: v for k, v in record.items() if k != "losses"}))
    return 0


def _eval(args: argparse.Namespace) -> int:
    family = get_family(args.model)
    report = evaluate(family, from_namespace(family.eval_options, args))
    print(json.dumps(report) if args.json else _as_text(report))
    return 0


def _predict(args: argparse.Namespace) -> int:
    if args.model == "audio-verification":
        from training.audioclass.predict import predict_verification

        result = predict_verification(args.clip, args.checkpoint, args.device)
        print(json.dumps(result) if args.json else _as_text(result))
        return 0
    family = get_family(args.model)
    options = from_namespace(PredictOptions, args)
    if (options.project is None) == (options.clip is None):
        raise ValueError("give --project or --clip" if family.predict_clip else "give --project")
    if options.clip is not None:
        result = family.predict_clip(options)
        print(json.dumps(result) if args.json else _as_text(result))
        return 0
    from annotation_db.engine import session_scope
    from annotation_db.projects import get_project

    with session_scope() as session:
        count = family.predict_project(session, get_project(session, options.project), options.checkpoint,
                                       options.device, progress=_progress)
    print(json.dumps({"project": options.project, "proposals": count}) if args.json else
          f"{count} proposals written for {options.project}")
    return 0


def _curate(args: argparse.Namespace) -> int:
    from training.audioclass.curate import curate
    from training.audioclass.options import CurateOptions

    try:
        report = curate(from_namespace(CurateOptions, args))
    except (FileNotFoundError, ValueError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = {k: report[k] for k in ("out", "decisions", "counts", "seconds", "retrieval_features")}
    print(json.dumps(summary) if args.json else _as_text(summary))
    return 0


def _progress(done: int, total: int) -> None:
    print(f"{done}/{total}", file=sys.stderr, flush=True)


def _as_text(report: dict, indent: str = "") -> str:
    """A report as indented lines, numbers to 3 decimals."""
    lines = []
    for key, value in report.items():
        if isinstance(value, dict):
            lines += [f"{indent}{key}:", _as_text(value, indent + "  ")]
        else:
            shown = f"{value:.3f}" if isinstance(value, float) else value
            lines.append(f"{indent}{key}: {shown}")
    return "\n".join(line for line in lines if line)


ACTIONS = {"train": _train, "eval": _eval, "predict": _predict, "adapt": _adapt}
