"""Wall time of predict_project on 16 generated clips of 4-6 s (what the demo seeding calls), on this CPU.

Usage: python bench/avst/project_predict_time.py --checkpoint training/checkpoints/avst-demo.pt
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from training.avst import FAMILY
from training.family import bundled_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(bundled_checkpoint(FAMILY.bundled["sync"])))
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATA_DIR"] = tmp
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        from annotation_db.engine import session_scope
        from annotation_db.import_clips import import_clips
        from annotation_db.migrate import upgrade_database
        from annotation_db.projects import get_project
        from core.synthetic.sync import generate_sync
        from training.avst.predict import predict_project

        upgrade_database()
        data = generate_sync(clips=args.clips, seed=7, out=Path(tmp) / "sync", min_duration=4.0, max_duration=6.0)
        with session_scope() as session:
            import_clips(session, "bench-sync", "sync", data / "clips", data / "labels.csv")
        with session_scope() as session:
            start = time.perf_counter()
            count = predict_project(session, get_project(session, "bench-sync"), Path(args.checkpoint).resolve())
            seconds = time.perf_counter() - start
    result = {"clips": count, "seconds": round(seconds, 2), "per_clip_s": round(seconds / max(count, 1), 3)}
    print(json.dumps(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
