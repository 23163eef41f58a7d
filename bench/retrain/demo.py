"""Before/after demonstration of the retraining loop (issue 6) on a new project (AutoCorrect or localizer).

AutoCorrect buildings (the default):

1. generate buildings tiles with the seeded generator (mostly noisy annotations) and import them as a
   project; version 1 is the project's own first model: a train job with no verdicts yet and
   "from_scratch" (no parent, J_s + J_c on the raw annotations); a researcher promotes it and its predict
   job writes the proposals;
2. an annotator reviews some tiles through the geometry-review services, as the page does: accept
   version 1's correction where it matches the generator's truth, keep the input where it was right, else
   adjust the input (shift + rotation) onto the truth;
3. a researcher submits a retrain job from version 1 (verified instances are clean labels for J_s, the rest
   noisy) and, as a control, the same job with "ignore_verdicts" (same instances, steps and seed, every
   label noisy); a worker runs the jobs in child processes, as in the app;
4. print and save `jobs show --json` of every job and the parent vs child numbers.

    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain/demo.py --workdir /tmp/retrain \
        --out bench/retrain/autocorrect_buildings_from_scratch.json

`--model localizer` runs the same loop on a new localisation project of generated clips: version 1
trains from scratch on the raw clips (tri-map loss), its predict job writes heatmaps and boxes, an
annotator boxes a batch of clips through the stage-2/3 services (the generator's true boxes, sound
check Yes, a few No), the retrain uses the oracle loss on the boxed clips, and the control trains the
same clips with every box dropped (tri-map only). Its steps live in bench/retrain/localizer_demo.py.

`--model avst` runs it on a new sync project of generated clips, half of the evident ones imported with
their audio 6-15 frames off: the parent is the bundled avst-demo checkpoint (its predict job writes the
proposals), an annotator answers every clip through the sync-review services (evident and in sync,
evident at its offset, uniform/ambient, no source), the retrain trains on the evident clips with the
offset ones re-cut into sync, and the control trains on every verified clip as imported, taken as in
sync (no category, no offset). Its steps live in bench/retrain/avst_demo.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import avst_demo  # noqa: E402  (bench/retrain/avst_demo.py, beside this script)
import localizer_demo  # noqa: E402  (bench/retrain/localizer_demo.py, beside this script)

BENCHMARK = {"items": 4, "size": 512}
FIRST_PARAMS = {"from_scratch": True, "max_steps": 1000, "batch_size": 16, "lr": 1e-3, "loss": "joint",
                "threads": 1, "benchmark": BENCHMARK}
# lr: version 1's rate after its step-down at 75 % (chosen before any run, not tuned on held-out numbers)
RETRAIN_PARAMS = {"max_steps": 300, "batch_size": 16, "lr": 1e-4, "loss": "joint", "threads": 1,
                  "benchmark": BENCHMARK}
SUMMARY = ("iou", "perturbed_only.iou", "pck.5",  # rows of the parent-vs-child table worth quoting
           "ciou@0.5", "mean_ciou", "auc", "accuracy", "accuracy_general", "accuracy_speech")
PROJECTS = {"autocorrect": "demo-buildings", "localizer": "demo-localization", "avst": "demo-sync"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=tuple(PROJECTS), default="autocorrect")
    parser.add_argument("--workdir", type=Path, required=True, help="fresh folder: database, data, models")
    parser.add_argument("--tiles", type=int, default=12)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed", type=int, help="generator seed (default: 78 autocorrect, 80 localizer, 82 avst)")
    parser.add_argument("--reviewed-tiles", type=int, default=9, help="tiles the annotator reviews")
    parser.add_argument("--match-iou", type=float, default=0.97,
                        help="a correction (or the input) this close to the truth is accepted (kept) as is")
    parser.add_argument("--first-params", help="version 1's train job (JSON; default: the model's; "
                                               "avst has none: its parent is the bundled checkpoint)")
    parser.add_argument("--params", help="the retrain job's params (JSON; default: the model's); "
                                         "the control adds \"ignore_verdicts\": true")
    parser.add_argument("--out", type=Path, help="write the results here (JSON)")
    localizer_demo.add_arguments(parser)
    avst_demo.add_arguments(parser)
    args = parser.parse_args(argv)
    seed, first, retrain = {"autocorrect": (78, FIRST_PARAMS, RETRAIN_PARAMS),
                            "localizer": (localizer_demo.SEED, localizer_demo.FIRST_PARAMS,
                                          localizer_demo.RETRAIN_PARAMS),
                            "avst": (avst_demo.SEED, None, avst_demo.RETRAIN_PARAMS)}[args.model]
    args.seed = args.seed if args.seed is not None else seed
    args.first_params = args.first_params or (first and json.dumps(first))
    args.params = args.params or json.dumps(retrain)
    return args


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
    from training.jobs import submit_job
    from training.registry import promote_version
    from training.worker import run_worker

    upgrade_database()
    model = args.model
    project_name = PROJECTS[model]
    make = {"autocorrect": _make_project, "localizer": localizer_demo.make_project,
            "avst": avst_demo.make_project}[model]
    with session_scope() as session:
        truth = make(session, project_name, args)
        annotator = create_user(session, "ann", Role.annotator, "password123")
        researcher = create_user(session, "rita", Role.researcher, "password123")
    code = provenance()
    if args.first_params is None:  # avst: the bundled checkpoint writes the proposals
        first = None
        with session_scope() as session:
            predict_job = submit_job(session, session.get(User, researcher.id), model, "predict",
                                     get_project(session, project_name), {}).id
    else:
        first = _run_job(researcher.id, model, project_name, json.loads(args.first_params))
        if first["status"] != "succeeded":
            return _finish(args, argv, {}, [first], code)
        with session_scope() as session:
            predict_job = promote_version(session, session.get(User, researcher.id),
                                          get_project(session, project_name), first["version"]["id"]).id
    run_worker(until_idle=True)  # the predict job: the parent's proposals
    predict = job_summary(predict_job)
    if predict["status"] != "succeeded":  # the review would see no proposals
        return _finish(args, argv, {}, [job for job in (first, predict) if job], code)
    review = {"autocorrect": review_geo, "localizer": localizer_demo.review, "avst": avst_demo.review}[model]
    with session_scope() as session:
        actions = review(session, get_project(session, project_name), annotator, truth, args)
    print(f"verdicts: {dict(actions)}", flush=True)
    params = json.loads(args.params)
    with session_scope() as session:
        project = get_project(session, project_name)
        user = session.get(User, researcher.id)
        jobs = [submit_job(session, user, model, "train", project, p).id
                for p in (params, {**params, "ignore_verdicts": True})]
    print(f"jobs {jobs} submitted (retrain, control); running the worker", flush=True)
    run_worker(until_idle=True)
    return _finish(args, argv, actions, [first or predict, *(job_summary(job) for job in jobs)], code)


def _run_job(user_id: int, model: str, project_name: str, params: dict) -> dict:
    """Submit a train job, let a worker run it, and return `jobs show --json` of it."""
    from annotation_db.engine import session_scope
    from annotation_db.models import User
    from annotation_db.projects import get_project
    from training.jobs import submit_job
    from training.worker import run_worker

    with session_scope() as session:
        job_id = submit_job(session, session.get(User, user_id), model, "train",
                            get_project(session, project_name), params).id
    print(f"job {job_id} submitted: {params}", flush=True)
    run_worker(until_idle=True)
    return job_summary(job_id)


def job_summary(job_id: int) -> dict:
    """`jobs show ID --json` plus the version's parent-vs-child rows worth quoting."""
    from annotation_db.engine import session_scope
    from annotation_db.models import ModelVersion
    from training.comparison import parent_vs_child
    from training.jobs import job_details

    with session_scope() as session:
        details = job_details(session, job_id)
        version = session.get(ModelVersion, details["version"]["id"]) if details["version"] else None
        summary = [row for row in parent_vs_child(version) if row["metric"] in SUMMARY] if version else []
    return {**details, "summary": summary}


def provenance() -> dict:
    """The bundled checkpoints' sha256 and the code's commit and uncommitted files now (both may change later)."""
    import subprocess

    from core.checkpoints import file_sha256
    from training.family import BUNDLED_DIR

    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True).stdout.strip()

    return {"bundled_checkpoints_sha256": {path.stem: file_sha256(path) for path in
                                           sorted(BUNDLED_DIR.glob("*.pt"))},
            "git_head": git("rev-parse", "HEAD"), "uncommitted": git("status", "--porcelain").splitlines()}


def _finish(args, argv, actions: Counter, jobs: list[dict], code: dict) -> int:
    """Print and save the results; 0 if all three jobs succeeded (version 1 or the predict job, retrain, control)."""
    result = {"command": "bench/retrain/demo.py " + " ".join(sys.argv[1:] if argv is None else argv),
              **code, "verdicts": dict(actions), "jobs": jobs}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if all(job["status"] == "succeeded" for job in jobs) and len(jobs) == 3 else 1


def _make_project(session, name: str, args) -> dict[str, object]:
    """Generate and import the tiles; the truth per source id (raster CRS)."""
    from annotation_db.import_geo import import_geo
    from core.synthetic.geo import generate_geo

    data = generate_geo(kind="buildings", tiles=args.tiles, size=args.size, seed=args.seed,
                        out=args.workdir / "generated")
    import_geo(session, name, "buildings", data / "rasters", data / "annotations.geojson")
    return geo_truth(data, "buildings")


def geo_truth(data: Path, kind: str) -> dict[str, object]:
    """The generator's true geometry per source id, in the raster CRS (what the review services use)."""
    import geopandas as gpd

    from core.synthetic.geo import KINDS

    truth = gpd.read_file(data / "truth.geojson").to_crs(KINDS[kind].crs)
    return {str(i): g for i, g in zip(truth["instance_id"], truth.geometry)}


def review_geo(session, project, annotator, truth: dict, args) -> Counter:
    """Verdicts on the first `reviewed_tiles` tiles of the annotator's queue, via the page's services."""
    from annotation_db import geo_review as gr

    actions = Counter()
    for _ in range(args.reviewed_tiles):
        tile = gr.next_tile(session, project, annotator)
        if tile is None:
            break
        for item in tile.instances:
            target = truth[item.source_id]
            action, move = _decision(item, target, args.match_iou)
            gr.save_geometry_verdict(session, annotator, project, tile, item.instance_id, action,
                                     from_correction=False, **move)
            actions[action] += 1
        session.flush()
    return actions


def _decision(item, target, match_iou: float) -> tuple[str, dict]:
    """accepted / original / adjusted (with the shift and turn that put the input on the truth)."""
    import shapely

    if item.proposal_wkt and _iou(shapely.from_wkt(item.proposal_wkt), target) >= match_iou:
        return "accepted", {}
    noisy = shapely.from_wkt(item.noisy_wkt)
    if _iou(noisy, target) >= match_iou:
        return "original", {}
    return "adjusted", _move_onto(noisy, target)


def _move_onto(noisy, target) -> dict:
    """dx_m, dy_m, rotation_deg of adjusted_wkt that take noisy onto target (rigid, as the generator moved it)."""
    import shapely
    from scipy.optimize import minimize_scalar

    from annotation_db.geo_review import adjusted_wkt

    dx, dy = target.centroid.x - noisy.centroid.x, target.centroid.y - noisy.centroid.y

    def miss(rotation: float) -> float:
        return 1.0 - _iou(shapely.from_wkt(adjusted_wkt(noisy.wkt, dx, dy, rotation)), target)

    best = minimize_scalar(miss, bounds=(-10.0, 10.0), method="bounded", options={"xatol": 1e-3})
    return {"dx_m": dx, "dy_m": dy, "rotation_deg": float(best.x)}


def _iou(a, b) -> float:
    """Area IoU; railway centrelines are compared as tracks (buffered to the ballast width)."""
    a, b = _as_area(a), _as_area(b)
    union = a.union(b).area
    return a.intersection(b).area / union if union > 0 else 0.0


def _as_area(geometry):
    """Railway centrelines buffered to half the track width, as the railway masks are drawn."""
    from core.autocorrect.config import AutoCorrectConfig

    half_width = AutoCorrectConfig.track_width_m / 2
    return geometry.buffer(half_width) if geometry.geom_type.endswith("LineString") else geometry


if __name__ == "__main__":
    sys.exit(main())
