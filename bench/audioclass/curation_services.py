"""Time the curation services on a project of N clips (SQLite in a temporary folder): storing a curate job's
decisions, the page's view of them (first and again), sending clips to clip verification and next_clip with requests.

The per-clip records are copies of a real curation's (DECISIONS: a KEPT.decisions.json of
`python -m training curate`), relabelled to N distinct clips, so their size is a curation's.

    python bench/audioclass/curation_services.py --decisions /tmp/curb_out/kept.decisions.json --clips 1000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=Path, required=True)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--send", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="curation-bench-"))
    os.environ.update(DATA_DIR=str(folder), DATABASE_URL=f"sqlite:///{folder / 'bench.db'}")

    from annotation_db import curation
    from annotation_db.clip_verification import next_clip, save_answer
    from annotation_db.engine import session_scope
    from annotation_db.migrate import upgrade_database
    from annotation_db.models import Clip, JobKind, JobStatus, Project, ProjectKind, Role, TrainingJob
    from annotation_db.users import create_user

    upgrade_database()
    source = json.loads(args.decisions.read_text(encoding="utf-8"))["clips"]
    records = []
    for i in range(args.clips):
        record = json.loads(json.dumps(source[i % len(source)]))
        record["key"] = f"bench{i:05d}_000000"
        records.append(record)
    with session_scope() as session:
        project = Project(name="bench", kind=ProjectKind.clip_verification)
        session.add(project)
        session.flush()
        clips = [Clip(project_id=project.id, key=r["key"], label=r["label"], media_path=f"/m/{r['key']}.mp4")
                 for r in records]
        session.add_all(clips)
        rita = create_user(session, "rita", Role.researcher, "password1")
        ann = create_user(session, "ann", Role.annotator, "password1")
        job = TrainingJob(kind=JobKind.curate, model="audioclass", project_id=project.id, status=JobStatus.succeeded)
        session.add(job)
        session.flush()
        ids = {c.key: c.id for c in clips}
        project_id, job_id, rita_id, ann_id = project.id, job.id, rita.id, ann.id
    seconds = {}
    started = time.perf_counter()
    with session_scope(immediate=True) as session:
        curation.store_decisions(session, job_id, records, ids)
    seconds["store_decisions"] = time.perf_counter() - started
    started = time.perf_counter()
    view = curation.curation_view(project_id)
    seconds["curation_view_first"] = time.perf_counter() - started
    started = time.perf_counter()
    curation.curation_view(project_id)
    seconds["curation_view_again"] = time.perf_counter() - started  # a page redraw: the job's report is cached
    chosen = [row["clip_id"] for row in view.least_sure[:args.send]]
    started = time.perf_counter()
    curation.send_to_verification(rita_id, project_id, chosen)
    seconds["send_to_verification"] = time.perf_counter() - started
    started = time.perf_counter()
    served = []
    with session_scope(immediate=True) as session:
        for _ in range(len(chosen)):
            clip = next_clip(session, project_id, ann_id)
            served.append(clip.id)
            save_answer(session, project_id, ann_id, clip.id, "yes")
    seconds["next_clip_and_answer_each"] = (time.perf_counter() - started) / max(len(chosen), 1)
    print(json.dumps({"clips": args.clips, "least_sure": len(view.least_sure), "sent": len(chosen),
                      "served_sent_first": sorted(served) == sorted(chosen),
                      "seconds": {k: round(v, 4) for k, v in seconds.items()}}))


if __name__ == "__main__":
    main()
