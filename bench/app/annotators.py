"""Load benchmark: N annotators (one process each) claim and save through the sync review services.

Each process calls what the Sync review page calls for every clip — `claim_sync_item` (lease the
next clip, most uncertain first) then `save_sync` (store the verdict, complete the lease) — on a
project of M clips with scored proposals, and times both. Afterwards the database is checked:
verdicts written against expected, clips with more than one verdict or live lease (double-assigned),
and every error by kind (SQLite "database is locked" counts as a lock error).

    .venv/bin/python bench/app/annotators.py --annotators 16 --per-annotator 100 --items 16000 --json
    .venv/bin/python bench/app/annotators.py ... --database postgresql     # a throwaway local cluster
    .venv/bin/python bench/app/annotators.py ... --database-url postgresql+psycopg://user@host/db

The default database is a new SQLite file in a temporary folder. `--database postgresql` starts a
cluster with initdb / pg_ctl on 127.0.0.1 (durable settings: fsync and synchronous_commit on) and
removes it afterwards. A `--database-url` must point at an empty database (it is migrated first).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

PROJECT = "bench-annotators"
CATEGORIES = ("no_source", "uniform_ambient")


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(int(q * len(ordered)), len(ordered) - 1)], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 2),
            "mean": round(sum(ordered) / len(ordered), 2), "n": len(ordered)}


def populate(url: str, items: int, annotators: int, seed: int) -> list[int]:
    """Migrate `url`, add a sync project of `items` clips with scored proposals and the annotators."""
    from sqlalchemy import insert, select

    from annotation_db.engine import get_engine, session_scope
    from annotation_db.migrate import upgrade_database
    from annotation_db.models import Clip, Proposal, Role, refresh_queue_ranks, utcnow
    from annotation_db.projects import ensure_project
    from annotation_db.users import create_user

    upgrade_database(url)
    rng = random.Random(seed)
    now = utcnow()
    with session_scope(url) as session:
        project = ensure_project(session, PROJECT, "sync")
        connection = session.connection()
        connection.execute(insert(Clip.__table__), [
            {"project_id": project.id, "key": f"clip{i:06d}_000000", "media_path": f"/bench/clip{i:06d}.mp4",
             "label": "bench", "created_at": now, "queue_rank": 1e30, "queue_open": True} for i in range(items)])
        clip_ids = list(connection.execute(select(Clip.__table__.c.id).where(
            Clip.__table__.c.project_id == project.id)).scalars())
        connection.execute(insert(Proposal.__table__), [
            {"project_id": project.id, "clip_id": clip_id, "model": "avst", "model_version": "bench",
             "payload": {"offset_frames": 0, "scores": {"0": 0.5}}, "uncertainty": round(rng.random(), 4),
             "created_at": now} for clip_id in clip_ids])
        refresh_queue_ranks(connection, clip_ids)
        users = [create_user(session, f"annotator{i:02d}", Role.annotator, "bench-password").id
                 for i in range(annotators)]
    get_engine(url).dispose()
    return users


def annotate(url: str, user_id: int, verdicts: int, think_ms: float, start, out) -> None:
    """One annotator: claim, (think), save, `verdicts` times; reports timings and errors."""
    os.environ["DATABASE_URL"] = url
    from annotation_db import sync_review as sr
    from annotation_db.assignment import ItemReassigned

    rng = random.Random(user_id)
    claims, saves, errors, saved, reassigned = [], [], {}, [], 0
    warm = sr.claim_sync_item(PROJECT, user_id)  # a long-running app process has its caches warm:
    sr.save_sync(PROJECT, user_id, warm, CATEGORIES[0])  # one untimed verdict first (counted as written)
    saved.append(warm.clip_id)
    start.wait()
    for _ in range(verdicts):
        try:
            begin = time.perf_counter()
            item = sr.claim_sync_item(PROJECT, user_id)
            claims.append((time.perf_counter() - begin) * 1000)
            if item is None:
                break
            if think_ms:
                time.sleep(rng.expovariate(1 / think_ms) / 1000)
            begin = time.perf_counter()
            sr.save_sync(PROJECT, user_id, item, rng.choice(CATEGORIES))
            saves.append((time.perf_counter() - begin) * 1000)
            saved.append(item.clip_id)
        except ItemReassigned:
            reassigned += 1
        except Exception as error:  # counted and reported, never fatal: the run goes on
            kind = "lock" if "locked" in str(error) or "deadlock" in str(error) else type(error).__name__
            errors[kind] = errors.get(kind, 0) + 1
    out.put({"user": user_id, "claims": claims, "saves": saves, "errors": errors, "saved": saved,
             "reassigned": reassigned})


def check(url: str) -> dict:
    """What the database holds after the run."""
    from sqlalchemy import func, select

    from annotation_db.engine import get_engine, session_scope
    from annotation_db.models import Assignment, Project, Verdict

    with session_scope(url) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == PROJECT))
        per_clip = session.exec(select(Verdict.clip_id, func.count()).where(
            Verdict.project_id == project_id).group_by(Verdict.clip_id)).all()
        live = session.exec(select(Assignment.clip_id, func.count()).where(
            Assignment.project_id == project_id, Assignment.released_at.is_(None)).group_by(
            Assignment.clip_id)).all()
    get_engine(url).dispose()
    return {"verdicts_written": sum(n for _, n in per_clip),
            "items_with_several_verdicts": sum(n > 1 for _, n in per_clip),
            "items_with_several_leases": sum(n > 1 for _, n in live)}


def run(url: str, annotators: int, per_annotator: int, items: int, think_ms: float, seed: int) -> dict:
    started = time.perf_counter()
    users = populate(url, items, annotators, seed)
    setup_s = time.perf_counter() - started
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    workers = [context.Process(target=annotate, args=(url, user, per_annotator, think_ms, start, out))
               for user in users]
    for worker in workers:
        worker.start()
    time.sleep(2.0 + 0.5 * annotators)  # let every process import before the clock starts
    began = time.perf_counter()
    start.set()
    results = [out.get(timeout=3600) for _ in workers]
    wall = time.perf_counter() - began
    for worker in workers:
        worker.join(timeout=60)
    held = check(url)
    saved = [clip for r in results for clip in r["saved"]]
    errors: dict[str, int] = {}
    for r in results:
        for kind, n in r["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    # + each annotator's untimed first verdict; no more than the items, each answered once
    expected = min(annotators * (per_annotator + 1), items)
    return {
        "database": url.split(":", 1)[0], "annotators": annotators, "per_annotator": per_annotator,
        "items": items, "think_ms": think_ms,
        "verdicts_expected": expected, "saves_acknowledged": len(saved), **held,
        "lost": expected - held["verdicts_written"],
        "acknowledged_not_written": len(saved) - held["verdicts_written"],
        "double_assigned": len(saved) - len(set(saved)) + held["items_with_several_leases"],
        "lock_errors": errors.get("lock", 0), "errors": errors,
        "reassigned": sum(r["reassigned"] for r in results),
        "claim_ms": _percentiles([t for r in results for t in r["claims"]]),
        "save_ms": _percentiles([t for r in results for t in r["saves"]]),
        "per_annotator_verdicts": {"min": min(len(r["saved"]) for r in results),
                                   "max": max(len(r["saved"]) for r in results)},
        "wall_s": round(wall, 2), "verdicts_per_s": round(len(saved) / wall, 1), "setup_s": round(setup_s, 1),
        "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotators", type=int, default=16)
    parser.add_argument("--per-annotator", type=int, default=100, help="verdicts each annotator saves")
    parser.add_argument("--items", type=int, default=16000, help="clips in the project")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="a new SQLite file, or a throwaway local PostgreSQL cluster")
    parser.add_argument("--database-url", help="an empty database to use instead (SQLAlchemy URL)")
    parser.add_argument("--pg-synchronous-commit", choices=("on", "off"), default="on",
                        help="the throwaway cluster's synchronous_commit (off: a commit does not wait for "
                             "its WAL flush, the durability of SQLite's WAL with synchronous=NORMAL)")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="mean time an annotator looks at a clip between claim and save (exponential)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the cluster and clean up
    with tempfile.TemporaryDirectory(prefix="bench-annotators-") as folder:
        os.environ["DATA_DIR"] = folder
        if args.database_url:
            result = run(args.database_url, args.annotators, args.per_annotator, args.items, args.think_ms,
                         args.seed)
        elif args.database == "postgresql":
            from annotation_db.pgcluster import PostgresCluster

            settings = {"synchronous_commit": args.pg_synchronous_commit}
            with PostgresCluster.started(fast=False, settings=settings) as cluster:
                url = cluster.create_database("bench")
                result = run(url, args.annotators, args.per_annotator, args.items, args.think_ms, args.seed)
        else:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            result = run(url, args.annotators, args.per_annotator, args.items, args.think_ms, args.seed)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0 if result["lost"] == 0 and result["double_assigned"] == 0 and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
