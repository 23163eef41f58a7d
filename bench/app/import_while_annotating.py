"""An import of the real VGG-SS file (repeated --copies times, keys made unique) while annotators work.

Reports how long the import read and checked its input (no transaction open) and how long it wrote
(a new project: in short transactions, hidden until the last), and the claim / save latencies of the
annotators during the whole import (the slowest claim is what an annotator feels).

    .venv/bin/python bench/app/import_while_annotating.py --copies 10 --annotators 4 --json
    .venv/bin/python bench/app/import_while_annotating.py ... --database postgresql
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import annotators  # noqa: E402  (this folder's benchmark: project set-up and the annotator loop)

VGGSS = REPO.parent / "shared" / "data" / "vggss" / "vggss.json"


def annotate_until(url: str, user_id: int, start, stop, out) -> None:
    """Claim and save (no think time) until `stop` is set; reports (start time, claim ms, save ms)."""
    os.environ["DATABASE_URL"] = url
    from annotation_db import sync_review as sr

    samples, errors = [], {}
    warm = sr.claim_sync_item(annotators.PROJECT, user_id)
    sr.save_sync(annotators.PROJECT, user_id, warm, "no_source")
    start.wait()
    while not stop.is_set():
        try:
            began = time.time()
            item = sr.claim_sync_item(annotators.PROJECT, user_id)
            claimed = time.time()
            sr.save_sync(annotators.PROJECT, user_id, item, "no_source")
            samples.append((began, (claimed - began) * 1000, (time.time() - claimed) * 1000))
            time.sleep(0.2)  # a quick annotator: five clips a second
        except Exception as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
    out.put({"samples": samples, "errors": errors})


def run(url: str, copies: int, workers: int, items: int) -> dict:
    from annotation_db.import_vggss import plan_vggss
    from annotation_db.reports import write_plan

    os.environ["DATABASE_URL"] = url
    users = annotators.populate(url, items, workers, 0)
    entries = json.loads(VGGSS.read_text())
    big = [{**entry, "file": f"{entry['file']}_{copy}"} for copy in range(copies) for entry in entries]
    source = Path(os.environ["DATA_DIR"]) / "vggss_copies.json"
    source.write_text(json.dumps(big))
    context = multiprocessing.get_context("spawn")
    start, stop, out = context.Event(), context.Event(), context.Queue()
    procs = [context.Process(target=annotate_until, args=(url, user, start, stop, out)) for user in users]
    for proc in procs:
        proc.start()
    time.sleep(2.0 + 0.5 * workers)
    start.set()
    time.sleep(2.0)  # the annotators' steady state first
    began = time.time()
    plan = plan_vggss("vggss-import", source, skip_bad=True)
    planned = time.time()
    report = write_plan(plan)  # as the app and the CLI write it
    written = time.time()
    time.sleep(2.0)
    stop.set()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    during = [s for r in results for s in r["samples"] if began <= s[0] <= written]
    errors: dict[str, int] = {}
    for r in results:
        for kind, n in r["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    return {"database": url.split(":", 1)[0], "entries": len(big), "clips_created": report.created["clips"],
            "read_and_check_s": round(planned - began, 2), "write_s": round(written - planned, 2),
            "write_transactions": len(plan.parts) + 2 if plan.parts else 1,
            "annotators": workers, "claims_during_import": len(during),
            "claim_ms_during_import": annotators._percentiles([c for _, c, _ in during]),
            "save_ms_during_import": annotators._percentiles([s for _, _, s in during]),
            "errors": errors, "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=10, help="times the VGG-SS file is repeated")
    parser.add_argument("--annotators", type=int, default=4)
    parser.add_argument("--items", type=int, default=16000, help="clips of the project they annotate")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not VGGSS.is_file():
        parser.error(f"{VGGSS} is missing")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        os.environ["DATA_DIR"] = folder
        if args.database == "postgresql":
            from annotation_db.pgcluster import PostgresCluster

            with PostgresCluster.started(fast=False) as cluster:
                result = run(cluster.create_database("bench"), args.copies, args.annotators, args.items)
        else:
            result = run(f"sqlite:///{Path(folder) / 'bench.db'}", args.copies, args.annotators, args.items)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
