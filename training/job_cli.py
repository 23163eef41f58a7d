"""`python -m training jobs submit|list|cancel|show` and `versions list|promote`."""

from __future__ import annotations

import json
import sys

from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.migrate import upgrade_database
from annotation_db.models import Role, User
from annotation_db.projects import ProjectError, get_project
from annotation_db.users import AccessDenied, system_user
from training.jobs import cancel_job, job_details, list_jobs, submit_job

CLI_USER = "cli"


def run_jobs_command(args) -> int:
    """Dispatch one `jobs` verb; expected errors print a message and return 2."""
    upgrade_database()
    try:
        with session_scope() as session:
            return VERBS[args.verb](session, args)
    except (ValueError, ProjectError, AccessDenied) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _user(session, name: str | None) -> User:
    if name is None:
        return system_user(session, CLI_USER, Role.researcher)
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise ValueError(f"no user named {name!r}")
    return user


def _submit(session, args) -> int:
    params = json.loads(args.params)
    if not isinstance(params, dict):
        raise ValueError("--params must be a JSON object")
    project = get_project(session, args.project) if args.project else None
    job = submit_job(session, _user(session, args.user), args.model, args.kind, project, params)
    print(job.id)
    return 0


def _list(session, args) -> int:
    for job in list_jobs(session):
        progress = f"{job.progress_step}/{job.progress_total}" if job.progress_total else "-"
        print(f"{job.id:>5}  {job.status.value:<9}  {job.kind.value:<8}  {job.model:<11}  "
              f"{progress:>9}  {job.created_at:%Y-%m-%d %H:%M}")
    return 0


def _cancel(session, args) -> int:
    job = cancel_job(session, _user(session, None), args.job_id)
    print(f"job {job.id}: {'cancel requested' if job.cancel_requested else job.status.value}")
    return 0


def _show(session, args) -> int:
    details = job_details(session, args.job_id)
    if args.json:
        print(json.dumps(details, indent=2))
    else:
        for key, value in details.items():
            print(f"{key}: {value}")
    return 0


VERBS = {"submit": _submit, "list": _list, "cancel": _cancel, "show": _show}


def run_versions_command(args) -> int:
    """`versions list --project P` or `versions promote ID --project P`; expected errors exit 2."""
    from training.registry import promote_version
    from training.versions import project_versions

    upgrade_database()
    try:
        if args.verb == "list":
            rows = project_versions(args.project)
            if args.json:
                print(json.dumps(rows, indent=2))
            for row in [] if args.json else rows:
                mark = "*" if row["active"] else " "
                print(f"{mark} {row['id']:>4}  {row['version']:<40}  parent {row.get('parent') or '-':<5}  "
                      f"self-check {row['self_check'] if row['self_check'] is not None else '-'}"
                      f"{'  adapted, not activated' if row['adapted'] and not row['activated'] else ''}")
            return 0
        with session_scope() as session:
            job = promote_version(session, _user(session, args.user), get_project(session, args.project),
                                  args.version_id)
            print(f"version {args.version_id} is active for {args.project}; predict job {job.id} queued")
        return 0
    except (ValueError, ProjectError, AccessDenied) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
