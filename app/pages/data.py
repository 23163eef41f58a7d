"""Researchers import tiles, clips and VGG-SS boxes, and export clean labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import streamlit as st

from annotation_db.geo_review import export_geometries
from annotation_db.import_clips import import_clips
from annotation_db.import_geo import import_geo
from annotation_db.import_vggss import import_vggss
from annotation_db.localization_review import export_boxes
from annotation_db.projects import ProjectError, project_kinds
from annotation_db.reports import ImportReport, run_import
from annotation_db.uploads import discard_upload, store_upload
from core.config import get_settings, inside_data_dir
from core.errors import InputError
from ui.session import require_researcher

user = require_researcher()
st.title("Import & export")
projects = project_kinds()


def _saved_upload(upload) -> Path | None:
    """Store an uploaded file (once per content, inside the data folder) and return its path."""
    if upload is None:
        return None
    saved = st.session_state.setdefault("saved_uploads", {})
    path = saved.get(upload.file_id)
    if path is None or not path.is_file():  # reruns neither hash nor write the file again
        path = saved[upload.file_id] = store_upload(upload.name, upload.getbuffer())
    return path


def _file_input(label: str, types: list[str], key: str) -> Path | None:
    """A server path or an uploaded file, whichever the researcher gives."""
    typed = st.text_input(f"{label}: path on the server", key=f"{key}_path")
    generation = st.session_state.get("upload_generation", 0)  # a new key empties the uploader after an import
    upload = st.file_uploader(f"… or upload the {label.lower()}", type=types, key=f"{key}_upload_{generation}")
    return _saved_upload(upload) or (Path(typed.strip()) if typed.strip() else None)


def _run_import(importer: Callable[..., ImportReport], *args: Any) -> None:
    """Run one import in a transaction with a progress bar and show its report; a done import drops its uploads."""
    bar = st.progress(0.0, text="Starting…")

    def progress(done: int, total: int, what: str) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{done}/{total} · {what}")

    try:
        report = run_import(importer, *args, progress)
    except (InputError, ProjectError, ValueError) as exc:
        bar.empty()
        st.error(f"Nothing was imported. {exc}")
        return  # the upload stays for a retry (e.g. with "skip bad" ticked)
    if any([discard_upload(arg) for arg in args if isinstance(arg, Path)]):
        st.session_state["upload_generation"] = st.session_state.get("upload_generation", 0) + 1
    bar.progress(1.0, text="Done")
    _show_report(report)


def _show_report(report: ImportReport) -> None:
    st.success(report.headline)
    for title, lines in (("Repaired", report.repaired),
                         ("Refused", [f"{w}: {y}" for w, y in report.refused]),
                         ("Warnings", report.warnings)):
        if lines:
            with st.expander(f"{title} ({len(lines)})", expanded=title != "Repaired"):
                st.code("\n".join(lines), language=None)


def _project_name(key: str, kinds: tuple[str, ...]) -> str:
    existing = [name for name, kind in projects.items() if kind in kinds]
    hint = f"Existing: {', '.join(existing)}" if existing else "A new project is created."
    return st.text_input("Project", key=key, help=hint, placeholder="e.g. kent-railways").strip()


geo_tab, clips_tab, vggss_tab, export_tab = st.tabs(
    ["Aerial tiles", "Clips", "VGG-SS boxes", "Export"])

with geo_tab:
    st.caption("GeoTIFF tiles with vector annotations (GeoJSON, GeoPackage or Shapefile, any "
               "CRS). Annotations are reprojected to each raster's CRS; exports go back to "
               "the original CRS.")
    project = _project_name("geo_project", ("railway", "buildings"))
    kind = st.radio("Kind", ["railway", "buildings"], horizontal=True, key="geo_kind")
    rasters = st.text_input("Rasters: a GeoTIFF or a folder of them (path on the server)",
                            key="geo_rasters")
    annotations = _file_input("Annotations", ["geojson", "json", "gpkg"], "geo_annotations")
    skip_bad = st.checkbox("Skip bad files and features (list each with its reason)",
                           key="geo_skip")
    if st.button("Import tiles", type="primary", key="geo_import",
                 disabled=not (project and rasters.strip() and annotations)):
        _run_import(import_geo, project, kind, rasters.strip(), annotations, skip_bad)

with clips_tab:
    st.caption("mp4, mkv or webm clips with an audio stream; labels in the VGG-Sound CSV "
               "layout `youtube_id,start_seconds,label,split`.")
    project = _project_name("clips_project", ("localization", "sync", "clip-verification"))
    task = st.radio("Task", ["localization", "sync", "clip-verification"], horizontal=True,
                    key="clips_task")
    folder = st.text_input("Clips folder (path on the server)", key="clips_folder")
    labels = _file_input("Labels CSV", ["csv"], "clips_labels")
    skip_bad = st.checkbox("Skip bad files (list each with its reason)", key="clips_skip")
    if st.button("Import clips", type="primary", key="clips_import",
                 disabled=not (project and folder.strip())):
        _run_import(import_clips, project, task, folder.strip(), labels, skip_bad)

with vggss_tab:
    st.caption("The public VGG-SS layout: a JSON list of {file, class, bbox}. Clips whose "
               "media is missing keep their boxes (they can be exported, not played).")
    project = _project_name("vggss_project", ("localization",))
    boxes_file = _file_input("VGG-SS JSON", ["json"], "vggss_file")
    media = st.text_input("Media folder holding <file>.mp4 (optional)", key="vggss_media")
    skip_bad = st.checkbox("Skip unusable boxes (list each with its reason)", key="vggss_skip")
    if st.button("Import boxes", type="primary", key="vggss_import",
                 disabled=not (project and boxes_file)):
        _run_import(import_vggss, project, boxes_file, media.strip() or None, skip_bad)

with export_tab:
    exportable = {n: k for n, k in projects.items() if k in ("railway", "buildings", "localization")}
    if not exportable:
        st.info("No geo or localisation project to export yet.")
    else:
        name = st.selectbox("Project", list(exportable), key="export_project")
        is_geo = exportable[name] in ("railway", "buildings")
        suffix = st.radio("Format", [".gpkg", ".geojson"], horizontal=True) if is_geo else ".json"
        if st.button("Prepare export", key="export_button"):
            try:
                out = inside_data_dir(get_settings().cache_dir / "exports" / f"{name}{suffix}")
                count = export_geometries(name, out, user.id) if is_geo else export_boxes(name, out)
            except (ValueError, PermissionError) as exc:
                st.error(str(exc))
            else:
                st.success(f"{count} {'features' if is_geo else 'entries'} ready.")
                st.download_button(f"Download {out.name}", out.read_bytes(), file_name=out.name,
                                   key="export_download")
