"""Stage 2 of VGG-SS: fix the model's boxes on the centre frame, or say it cannot be localised."""

from __future__ import annotations

import streamlit as st

from annotation_db.localization_review import (ClipTask, claim_box_task, localization_projects, save_box_verdict,
                                                skip_leased_clip)
from annotation_db.progress import review_progress
from ui.box_editor import box_editor
from ui.boxes import GUIDE, MediaError, centre_frame, format_boxes, heatmap_overlay, parse_boxes
from ui.flash import flash, saving, show_flashes
from ui.lease import keep_view_lease
from ui.pickers import choose_project
from ui.session import require_user
from ui.undo import undo_button

EDIT = "boxes_edit"  # {"clip": id, "boxes": [[x1, y1, x2, y2]], "version": n}: what the editor shows
VERSIONS = "boxes_edit_versions"  # a counter that never repeats: each start of the editor gets its own token
EDITOR_KEY = "boxes_editor"
TEXT_KEY = "boxes_text"
HOTKEYS = ("Keys on the page: S save boxes · L cannot be localised · K skip · U undo your last boxes. "
           "In the picture: arrows nudge the selected box (Shift: 10 px, Alt: resize) · Delete · Tab · S save")

st.title("Sound-source boxes")
me = require_user()

project_name = choose_project(localization_projects(), "boxes_project", "localisation")


def _forget_boxes(undone) -> None:
    st.session_state.pop(EDIT, None)


def _undo_button() -> None:
    undo_button(project_name, me.id, "boxes", "boxes_undo", "Undid your last boxes: that clip is shown again.",
                after=_forget_boxes)


def _edit(task: ClipTask) -> dict:
    """The boxes being edited for this clip (the user's earlier ones, else the model's or imported ones)."""
    edit = st.session_state.get(EDIT)
    if edit is None or edit["clip"] != task.clip.id:
        edit = st.session_state[EDIT] = {"clip": task.clip.id, "boxes": task.starting_boxes(), "version": _next()}
        st.session_state[TEXT_KEY] = format_boxes(edit["boxes"])
    return edit


def _save(task: ClipTask, boxes: list[list[float]], cannot: bool) -> None:
    """Store the verdict; the panel then redraws with the next clip."""
    if not cannot and not boxes:
        flash("No box to save: draw one, or choose Cannot be localised.", warning=True)
        return
    with saving():
        save_box_verdict(project_name, me.id, task.clip.id, boxes, cannot_localise=cannot,
                         proposal_id=task.proposal.id if task.proposal else None, assignment_id=task.assignment_id)
        flash(f"Saved {task.clip.key}: " + ("cannot be localised" if cannot else f"{len(boxes)} box(es)"))
        st.session_state.pop(EDIT, None)


def _save_edited(task: ClipTask) -> None:
    _save(task, _edit(task)["boxes"], False)


def _from_editor(task: ClipTask) -> None:
    """The editor reported its boxes (after an edit) or its Save was pressed."""
    value = st.session_state.get(EDITOR_KEY) or {}
    edit = _edit(task)
    if value.get("reset") != _token(edit):  # a report about boxes no longer shown
        return
    edit["boxes"] = [list(map(float, box)) for box in value.get("boxes", [])]
    st.session_state[TEXT_KEY] = format_boxes(edit["boxes"])
    if value.get("save"):
        _save(task, edit["boxes"], False)


def _from_text(task: ClipTask) -> None:
    """The numbers were edited: the editor starts again from them."""
    edit = _edit(task)
    try:
        edit["boxes"] = parse_boxes(st.session_state[TEXT_KEY])
    except ValueError as exc:
        flash(f"Boxes not changed: {exc}", warning=True)
        return
    edit["version"] = _next()


def _next() -> int:
    st.session_state[VERSIONS] = st.session_state.get(VERSIONS, 0) + 1
    return st.session_state[VERSIONS]


def _token(edit: dict) -> str:
    return f"{edit['clip']}:{edit['version']}"


def _skip(task: ClipTask) -> None:
    skip_leased_clip(me.id, task.assignment_id)
    st.session_state.pop(EDIT, None)


@st.fragment
def review_panel() -> None:
    """One clip's frame in the box editor and the verdict buttons; a verdict reruns only this panel."""
    show_flashes()
    done = review_progress(project_name, me.id, "boxes")
    st.progress(done.share, text=done.text("clips boxed"))
    task = claim_box_task(project_name, me.id)
    if task is None:
        st.success("Every clip of this project has its boxes. Thank you!")
        _undo_button()
        return
    clip = task.clip
    st.subheader(f"{clip.key} · {clip.label or 'no label'}")
    frame = None
    if task.has_media:
        try:
            frame = centre_frame(clip.media_path)
        except (MediaError, OSError) as exc:
            st.error(f"The media of this clip cannot be read: {exc}")
    if frame is None:
        if not task.has_media:
            st.warning("This clip has no media file here (boxes only, e.g. the public VGG-SS file): the "
                       "frame cannot be shown. Its imported boxes are kept and exported as they are.")
        if task.reference_boxes:
            st.caption("Imported boxes: " + format_boxes(task.reference_boxes).replace("\n", " | "))
        st.button("Skip this clip", on_click=_skip, args=(task,), key="skip_no_media")
        return
    edit = _edit(task)
    caption = (f"Model {task.proposal.model_version} · uncertainty {task.proposal.uncertainty:.2f} · its boxes "
               "dashed orange" if task.proposal is not None else "No model proposal for this clip yet.")
    st.caption(caption + " · heatmap: the model's evidence, over the frame")
    box_editor(frame, heatmap_overlay(task.heatmap_path, *frame.shape[:2]), task.model_boxes,
               edit["boxes"], _token(edit), key=EDITOR_KEY, on_change=_from_editor, args=(task,))
    save_col, cannot_col, skip_col, undo_col = st.columns(4)
    save_col.button("Save boxes", type="primary", key="save_boxes", shortcut="S", width="stretch",
                    disabled=not edit["boxes"], on_click=_save_edited, args=(task,))
    cannot_col.button("Cannot be localised", key="cannot_localise", shortcut="L", width="stretch",
                      on_click=_save, args=(task, [], True))
    skip_col.button("Skip this clip", on_click=_skip, args=(task,), key="skip_clip", shortcut="K", width="stretch",
                    help="Leave it to others; it is not asked again.")
    with undo_col:
        _undo_button()
    st.caption(HOTKEYS)
    if len(edit["boxes"]) > 4:
        st.warning("More than 4 boxes: the guide asks for one box over the group.")
    with st.expander("Boxes as numbers"):
        st.text_area("Boxes (x1, y1, x2, y2 per line, fractions of the frame)", key=TEXT_KEY, height=120,
                     on_change=_from_text, args=(task,))
    with st.expander("Guide", expanded=False):
        st.markdown(GUIDE)


review_panel()
keep_view_lease(lambda: claim_box_task(project_name, me.id), "boxes")
