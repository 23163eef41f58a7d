"""The localizer's steps of bench/retrain/demo.py (`--model localizer`): project, params, review.

Steps and rates were fixed from the time budget before the first run (about 80 samples/s on one
thread, config tiny) and were not tuned on any held-out number.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

SEED = 80
BENCHMARK = {"items": 100}  # seed 1000, 224 px, 3 s clips (training.benchmarks)
# version 1: the bundled localizer-demo recipe (tri-map, 2 positives-only warm-up epochs, lr 1e-3)
FIRST_PARAMS = {"from_scratch": True, "config": "tiny", "variant": "trimap", "epochs": 8, "warmup_epochs": 2,
                "batch_size": 32, "lr": 1e-3, "seed": 0, "benchmark": BENCHMARK}
# the retrain and its control: version 1's constant rate, 6 more epochs; the oracle loss applies to the
# boxed clips (people_boxes.json of the training set), the tri-map loss to the rest
RETRAIN_PARAMS = {"variant": "trimap", "epochs": 6, "batch_size": 32, "lr": 1e-3, "seed": 1,
                  "benchmark": BENCHMARK}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The localizer demo's options."""
    group = parser.add_argument_group("--model localizer")
    group.add_argument("--clips", type=int, default=400, help="generated clips in the project")
    group.add_argument("--duration", type=float, default=3.0, help="seconds per clip")
    group.add_argument("--boxed-clips", type=int, default=250, help="clips the annotator boxes (stage 2)")
    group.add_argument("--no-every", type=int, default=25,
                       help="the sound check (stage 3) of every N-th boxed clip is answered No")


def make_project(session, name: str, args) -> dict[str, list[list[float]]]:
    """Generate and import the clips (as training/demo.py does); the true boxes per clip key."""
    from annotation_db.import_clips import import_clips
    from core.synthetic.localization import generate_localization

    data = generate_localization(clips=args.clips, seed=args.seed, out=args.workdir / "generated",
                                 duration=args.duration)
    import_clips(session, name, "localization", data / "clips", data / "labels.csv")
    return {entry["file"]: entry["bbox"] for entry in json.loads((data / "vggss.json").read_text())}


def review(session, project, annotator, truth: dict, args) -> Counter:
    """Stage 2 then stage 3 through the review services, as the pages call them: the annotator boxes
    the first `boxed_clips` clips of their queue with the true boxes, then answers each sound check
    Yes, except every `no_every`-th No."""
    from annotation_db import localization_review as lr

    actions = Counter()
    for _ in range(args.boxed_clips):
        task = lr.next_box_task(session, project, annotator)
        if task is None:
            break
        lr.save_boxes(session, annotator, project, task.clip.id, truth[task.clip.key],
                      proposal_id=task.proposal.id if task.proposal else None,
                      assignment_id=task.assignment_id)
        actions["boxes"] += 1
        session.flush()
    while (task := lr.next_sound_task(session, project, annotator)) is not None:
        answer = "no" if (actions["sound_yes"] + actions["sound_no"] + 1) % args.no_every == 0 else "yes"
        lr.save_sound(session, annotator, project, task.clip.id, answer)
        actions[f"sound_{answer}"] += 1
        session.flush()
    return actions
