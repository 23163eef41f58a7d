"""The retraining loop on the projects `python -m training seed-demo` creates (issue 6, "on the demo projects").

1. a fresh database and data folder (DATABASE_URL, DATA_DIR under --workdir); `seed_demo` (what
   `python -m training seed-demo` runs) generates and imports the demo projects and writes the
   proposals of the bundled demo checkpoints (autocorrect-railway, autocorrect-buildings, localizer-demo,
   avst-demo): these are the parents, as no project has a version of its own yet;
2. an annotator reviews every item of demo-railway, demo-buildings, demo-localization and demo-sync
   through the services the review pages call, answering with the generator's truth (as demo.py does);
3. a researcher submits, per project, a retrain from the parent and its verdict-free control (same
   params, `"ignore_verdicts": true`); a worker runs the eight jobs in child processes;
4. `jobs show --json` of every job and the bundled checkpoints' sha256 go to --out.

    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain/demo_projects.py --workdir /tmp/seeded \
        --out bench/retrain/demo_projects.json

The step budgets below were fixed before the first run from the time budget (one shared core) and the
earlier runs of demo.py; none was tuned on a held-out number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import avst_demo  # noqa: E402  (beside this script)
import demo  # noqa: E402
import localizer_demo  # noqa: E402

# AutoCorrect: the bundled checkpoint learnt from clean labels, so a gentle rate (demo.py's earlier
# run 2 on the bundled parent, bench/retrain/RESULTS.md); 4 tiles of 512 px per kind as benchmark
AUTOCORRECT = {"max_steps": 150, "batch_size": 16, "lr": 3e-5, "loss": "joint", "threads": 1,
               "benchmark": {"items": 4, "size": 512}}
# localizer: ~13 training clips, so batch 8 (2 steps an epoch), 10 epochs at the bundled recipe's rate
LOCALIZER = {"variant": "trimap", "epochs": 10, "batch_size": 8, "lr": 1e-3, "seed": 1,
             "benchmark": localizer_demo.BENCHMARK}
AVST = {**avst_demo.RETRAIN_PARAMS, "max_steps": 100}
PLAN = {  # project: (model, retrain params, generated folder under the demo dir)
    "demo-railway": ("autocorrect", AUTOCORRECT, "railway"),
    "demo-buildings": ("autocorrect", AUTOCORRECT, "buildings"),
    "demo-localization": ("localizer", LOCALIZER, "localization"),
    "demo-sync": ("avst", AVST, "sync"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="fresh folder: database, data, models")
    parser.add_argument("--seed", type=int, default=None, help="demo seed (default: the settings' DEMO_SEED, 7)")
    parser.add_argument("--match-iou", type=float, default=0.97,
                        help="a correction (or the input) this close to the truth is accepted (kept) as is")
    parser.add_argument("--no-every", type=int, default=8,
                        help="the localizer's sound check of every N-th boxed clip is answered No")
    parser.add_argument("--out", type=Path, help="write the results here (JSON)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["DATA_DIR"] = str(args.workdir.resolve())  # before the settings are first read
    os.environ["DATABASE_URL"] = f"sqlite:///{args.workdir.resolve() / 'annotation.db'}"
    from annotation_db.engine import session_scope
    from annotation_db.migrate import upgrade_database
    from annotation_db.models import Role, User
    from annotation_db.projects import get_project
    from annotation_db.users import create_user
    from core.config import get_settings
    from training.demo import seed_demo
    from training.jobs import submit_job
    from training.worker import run_worker

    upgrade_database()
    code = demo.provenance()
    seeded = list(seed_demo(seed=args.seed))
    print("\n".join(seeded), flush=True)
    root = get_settings().demo_dir
    with session_scope() as session:
        annotator = create_user(session, "ann", Role.annotator, "password123")
        researcher = create_user(session, "rita", Role.researcher, "password123")
    results, submitted = {}, {}
    for name, (model, params, folder) in PLAN.items():
        with session_scope() as session:
            project = get_project(session, name)
            actions = _review(session, project, annotator, model, root / folder, args)
            user = session.get(User, researcher.id)
            submitted[name] = [submit_job(session, user, model, "train", project, p).id
                               for p in (params, {**params, "ignore_verdicts": True})]
        results[name] = {"model": model, "verdicts": dict(actions)}
        print(f"{name}: verdicts {dict(actions)}; jobs {submitted[name]} (retrain, control)", flush=True)
    run_worker(until_idle=True)
    for name, jobs in submitted.items():
        results[name]["jobs"] = [demo.job_summary(job) for job in jobs]
    result = {"command": "bench/retrain/demo_projects.py " + " ".join(sys.argv[1:] if argv is None else argv),
              **code, "seed_demo": seeded, "projects": results}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    ok = all(job["status"] == "succeeded" for r in results.values() for job in r["jobs"])
    return 0 if ok else 1


def _review(session, project, annotator, model: str, data: Path, args):
    """Every item of the project through its review services, answered with the generator's truth."""
    if model == "autocorrect":
        review = argparse.Namespace(reviewed_tiles=10**6, match_iou=args.match_iou)
        return demo.review_geo(session, project, annotator, demo.geo_truth(data, project.kind.value), review)
    if model == "localizer":
        truth = {e["file"]: e["bbox"] for e in json.loads((data / "vggss.json").read_text())}
        review = argparse.Namespace(boxed_clips=10**6, no_every=args.no_every)
        return localizer_demo.review(session, project, annotator, truth, review)
    return avst_demo.review(session, project, annotator, avst_demo.meta_truth(data), args)


if __name__ == "__main__":
    sys.exit(main())
