"""A curate job: stages 3 and 4 of VGG-Sound curation (4.3.3, 4.3.4) on a clip-verification project.

The project's labelled clips with media are written (hard links) as the folder `curate()` reads, with
the project's stage-3 rules as rules.json; curate() runs with its progress on the job row, and every
clip's decision is stored with the scores and model versions behind it (annotation_db/curation.py).
The labels are the ones the clips came with: curation judges them, people's verdicts are not read.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.curation import project_rules, store_decisions, vggsound_row
from annotation_db.engine import session_scope
from annotation_db.models import Clip
from core.synthetic.localization import write_labels_csv
from training.audioclass.curate import curate, decisions_path
from training.audioclass.options import CurateOptions
from training.audioclass.verdict_data import link_media
from training.jobs import launch_job, record_progress
from training.options import from_params

# progress steps: stage 3, the four two-fold models, retrieval, the final classifier, storing the decisions
STAGE_STEPS = {"stage3": 0, "twofold": 1, "retrieval": 5, "final": 6}
TOTAL_STEPS = 8
RUNNER_PARAMS = ("data", "out", "rules")  # the job sets these itself


def project_folder(session: Session, project_id: int, out_dir: Path) -> tuple[Path, dict[str, int]]:
    """Write out_dir/clips + labels.csv (the clips' own labels, VGG-Sound layout); returns (folder, key -> clip
    id). Clips without a label or a media file are left out."""
    out_dir = Path(out_dir)
    (out_dir / "clips").mkdir(parents=True, exist_ok=True)
    rows, ids = [], {}
    for clip in session.exec(select(Clip).where(Clip.project_id == project_id, Clip.label.is_not(None),
                                                Clip.media_path.is_not(None)).order_by(Clip.id)):
        if not Path(clip.media_path).is_file():
            continue
        row = vggsound_row(clip)
        key = f"{row[0]}_{row[1]:06d}"
        if key in ids:
            raise ValueError(f"clips {ids[key]} and {clip.id} would both be written as {key}")
        link_media(Path(clip.media_path), out_dir / "clips", row)
        rows.append(row)
        ids[key] = clip.id
    if not rows:
        raise ValueError(f"project {project_id}: no labelled clip with media to curate")
    write_labels_csv(out_dir / "labels.csv", rows)
    return out_dir, ids


def run_curate_job(job_id: int, project_id: int, params: dict, work_dir: Path) -> dict:
    """Curate the project's clips for job `job_id`; stores the decisions and returns the job's metric
    (counts, seconds per stage, model versions, the rules used)."""
    given = sorted(set(params) & set(RUNNER_PARAMS))
    if given:
        raise ValueError(f"a curate job sets {', '.join(given)} itself: the project's clips, and its rules "
                         "(edited on the Curation page)")
    with session_scope() as session:
        folder, ids = project_folder(session, project_id, Path(work_dir) / "data")
        rules = project_rules(session, project_id)
    (folder / "rules.json").write_text(json.dumps(rules.to_dict(), indent=1), encoding="utf-8")
    options = from_params(CurateOptions, params, data=folder, out=Path(work_dir) / "kept.csv",
                          rules=folder / "rules.json")
    record_progress(job_id, step=0, total=TOTAL_STEPS, metric={"stage": "decode"})

    def progress(stage: str, done: int, total: int) -> None:
        record_progress(job_id, step=STAGE_STEPS.get(stage, 0) + done, total=TOTAL_STEPS, metric={"stage": stage})

    report = curate(options, progress)
    decisions = json.loads(decisions_path(options.out).read_text(encoding="utf-8"))["clips"]
    with session_scope(immediate=True) as session:
        stored = store_decisions(session, job_id, decisions, ids)
    metric = {"counts": report["counts"], "seconds": report["seconds"],
              "retrieval_features": report["retrieval_features"], "rules": report["rules"],
              "models": report["models"], "kept_csv": report["out"], "stored_decisions": stored}
    record_progress(job_id, step=TOTAL_STEPS, total=TOTAL_STEPS, metric={"stage": "done", "curation": metric})
    return metric


def launch_curation(user_id: int, project_name: str, params: dict | None = None) -> int:
    """Queue a curate job of the audio classifier family on a project (researchers only); returns its id."""
    from training.audioclass import FAMILY

    return launch_job(user_id, FAMILY.name, "curate", project_name, dict(params or {}))
