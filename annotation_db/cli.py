"""`python -m annotation_db ...`: create, fill, export and inspect the annotation database."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Callable

from annotation_db.engine import session_scope
from annotation_db.migrate import upgrade_database
from annotation_db.models import Role
from annotation_db.projects import ProjectError
from annotation_db.reports import write_plan
from annotation_db.verdicts import VerdictError
from core.errors import InputError

EXPECTED_ERRORS = (InputError, ProjectError, VerdictError, ValueError, FileNotFoundError)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="python -m annotation_db", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or upgrade the database")

    user = sub.add_parser("create-user", help="add a user (password from a prompt or an env var)")
    user.add_argument("name")
    user.add_argument("--role", choices=[r.value for r in Role], required=True)
    user.add_argument("--password-env", metavar="VAR", help="read the password from this variable")

    geo = sub.add_parser("import-geo", help="GeoTIFF tiles and vector annotations")
    geo.add_argument("--project", required=True)
    geo.add_argument("--kind", choices=["railway", "buildings"], required=True)
    geo.add_argument("--rasters", type=Path, required=True, help="a GeoTIFF or a folder of them")
    geo.add_argument("--annotations", type=Path, required=True, help="GeoJSON, GeoPackage or Shapefile")
    geo.add_argument("--max-shift-m", type=float, help="expected misalignment of the annotations in metres: "
                     "the largest correction proposed and the adapt/self-check bound (default: the model card's)")
    _import_flags(geo)

    clips = sub.add_parser("import-clips", help="mp4/mkv/webm clips with audio")
    clips.add_argument("--project", required=True)
    clips.add_argument("--task", choices=["localization", "sync", "clip-verification"], required=True)
    clips.add_argument("--clips", type=Path, required=True, help="a folder of clips (or one clip)")
    clips.add_argument("--labels", type=Path, help="VGG-Sound CSV: youtube_id,start_seconds,label,split")
    _import_flags(clips)

    vggss = sub.add_parser("import-vggss", help="a VGG-SS box JSON file")
    vggss.add_argument("file", type=Path)
    vggss.add_argument("--project", required=True)
    vggss.add_argument("--media", type=Path, help="folder holding <file>.mp4 clips, if any")
    _import_flags(vggss)

    export_geo = sub.add_parser("export-geo", help="final geometries in the original CRS")
    export_geo.add_argument("--project", required=True)
    export_geo.add_argument("--out", type=Path, required=True, help="FILE.gpkg or FILE.geojson")

    export_vggss = sub.add_parser("export-vggss", help="boxes in the VGG-SS JSON layout")
    export_vggss.add_argument("--project", required=True)
    export_vggss.add_argument("--out", type=Path, required=True)

    stats = sub.add_parser("stats", help="counts of items, proposals and verdicts")
    stats.add_argument("--project")
    stats.add_argument("--json", action="store_true")

    return parser


def _import_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip-bad", action="store_true",
                        help="import the good parts and list each refused one with its reason")
    parser.add_argument("--json", action="store_true", help="print the import report as JSON")


def main(argv: list[str] | None = None) -> int:
    """Run one command; expected errors print a message and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        upgrade_database()
        return COMMANDS[args.command](args)
    except EXPECTED_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _init(args) -> int:
    from core.config import get_settings

    print(f"database ready: {get_settings().database_url}")
    return 0


def _create_user(args) -> int:
    from annotation_db.users import create_user

    password = _password(args.password_env)
    with session_scope() as session:
        user = create_user(session, args.name, Role(args.role), password)
        print(f"created {user.role.value} {user.name!r}")
    return 0


def _password(env_var: str | None) -> str:
    if env_var:
        if env_var not in os.environ:
            raise ValueError(f"environment variable {env_var} is not set")
        return os.environ[env_var]
    if not sys.stdin.isatty():
        raise ValueError("no terminal to prompt for a password; use --password-env VAR")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise ValueError("passwords do not match")
    return password


def _run_import(args, importer: Callable, *inputs, after: Callable | None = None) -> int:
    """Read and check everything first (no write transaction), then write it (with `after`, in one
    transaction with the rows)."""
    plan = importer.plan(*inputs, progress=_terminal_progress)
    if after is None:
        report = write_plan(plan)
    else:
        with session_scope(immediate=True) as session:
            report = plan.apply(session)
            after(session)
    _terminal_progress(1, 1, "done")
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0


def _import_geo(args) -> int:
    from annotation_db.import_geo import import_geo
    from annotation_db.projects import set_project_settings

    def settings(session) -> None:
        if args.max_shift_m is not None:
            set_project_settings(session, args.project, max_shift_m=args.max_shift_m)

    return _run_import(args, import_geo, args.project, args.kind, args.rasters, args.annotations,
                       args.skip_bad, after=settings)


def _import_clips(args) -> int:
    from annotation_db.import_clips import import_clips

    return _run_import(args, import_clips, args.project, args.task, args.clips, args.labels, args.skip_bad)


def _import_vggss(args) -> int:
    from annotation_db.import_vggss import import_vggss

    return _run_import(args, import_vggss, args.project, args.file, args.media, args.skip_bad)


def _export_geo(args) -> int:
    from annotation_db.export_geo import export_geo

    with session_scope() as session:
        frame = export_geo(session, args.project, args.out)
    print(f"wrote {len(frame)} feature(s) in {frame.crs.to_string()} to {args.out}")
    return 0


def _export_vggss(args) -> int:
    from annotation_db.export_vggss import export_vggss

    with session_scope() as session:
        count = export_vggss(session, args.project, args.out)
    print(f"wrote {count} entries to {args.out}")
    return 0


def _stats(args) -> int:
    from annotation_db.stats import stats

    with session_scope() as session:
        rows = stats(session, args.project)
    if args.json:
        print(json.dumps(rows if args.project is None else rows[0], indent=2))
    else:
        for row in rows:
            print(f"{row['project']} ({row['kind']}): items {row['items']}, proposals "
                  f"{row['proposals']}, verdicts {row['verdicts']}")
    return 0


def _terminal_progress(done: int, total: int, what: str) -> None:
    if sys.stderr.isatty():
        width = 30
        filled = int(width * done / max(total, 1))
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what[:40]:<40}",
              end="" if done < total else "\n", file=sys.stderr, flush=True)


COMMANDS = {
    "init": _init, "create-user": _create_user, "import-geo": _import_geo,
    "import-clips": _import_clips, "import-vggss": _import_vggss, "export-geo": _export_geo,
    "export-vggss": _export_vggss, "stats": _stats,
}
