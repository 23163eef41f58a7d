"""Stage 2 of VGG-SS: fix the model's boxes on the centre frame, or say it cannot be localised."""

from __future__ import annotations

import streamlit as st

from annotation_db.localization_review import (claim_box_task, localization_projects, save_box_verdict,
                                                skip_leased_clip)
from ui.boxes import (GUIDE, MediaError, box_editor, centre_frame, format_boxes, load_heatmap,
                      parse_boxes, with_boxes, with_heatmap)
from ui.flash import flash, saving, show_flashes
from ui.pickers import choose_project
from ui.session import require_user
from ui.undo import undo_button

st.title("Sound-source boxes")
show_flashes()
me = require_user()

project_name = choose_project(localization_projects(), "boxes_project", "localisation")


def _forget_boxes(undone) -> None:
    for key in (f"boxes_text_{undone.clip_id}", f"boxes_text_{undone.clip_id}_from_editor"):
        st.session_state.pop(key, None)


def _undo_button() -> None:
    undo_button(project_name, me.id, "boxes", "boxes_undo", "Undid your last boxes: that clip is shown again.",
                after=_forget_boxes)


task = claim_box_task(project_name, me.id)

if task is None:
    st.success("Every clip of this project has its boxes. Thank you!")
    _undo_button()
    st.stop()

clip = task.clip
st.subheader(f"{clip.key} · {clip.label or 'no label'}")
with st.expander("Guide", expanded=False):
    st.markdown(GUIDE)


def _save(boxes: list[list[float]], cannot: bool) -> None:
    with saving():
        save_box_verdict(project_name, me.id, clip.id, boxes, cannot_localise=cannot,
                         proposal_id=task.proposal.id if task.proposal else None, assignment_id=task.assignment_id)
        flash(f"Saved {clip.key}: " + ("cannot be localised" if cannot else f"{len(boxes)} box(es)"))
    st.rerun()


def _skip() -> None:
    skip_leased_clip(me.id, task.assignment_id)
    st.rerun()


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
    st.button("Skip this clip", on_click=_skip, key="skip_no_media")
    st.stop()

left, right = st.columns([3, 2])
with right:
    show_heat = st.toggle("Heatmap overlay", value=True, key="boxes_heat_on")
    opacity = st.slider("Opacity", 0.0, 1.0, 0.45, 0.05, key="boxes_opacity", disabled=not show_heat)
    show_model = st.toggle("Model's boxes (orange)", value=True, key="boxes_model_on")
    if task.proposal is not None:
        st.caption(f"Model {task.proposal.model_version} · uncertainty {task.proposal.uncertainty:.2f}")
    else:
        st.caption("No model proposal for this clip yet.")

heatmap = load_heatmap(task.heatmap_path)
backdrop = with_heatmap(frame, heatmap if show_heat else None, opacity)
if show_model and task.model_boxes:
    backdrop = with_boxes(backdrop, task.model_boxes, colour="#ff8800", width=1)

text_key = f"boxes_text_{clip.id}"
if text_key not in st.session_state:
    st.session_state[text_key] = format_boxes(task.starting_boxes())
with left:
    st.caption("Draw, move, resize or delete boxes, then press **Complete** under the picture.")
    edited = box_editor(backdrop, task.starting_boxes(), key=f"editor_{clip.id}")
    if edited is not None and format_boxes(edited) != st.session_state.get(f"{text_key}_from_editor"):
        st.session_state[text_key] = st.session_state[f"{text_key}_from_editor"] = format_boxes(edited)
with right:
    text = st.text_area("Boxes (x1, y1, x2, y2 per line, fractions of the frame)", key=text_key, height=120)
    try:
        boxes = parse_boxes(text)
        problem = None
    except ValueError as exc:
        boxes, problem = [], str(exc)
    if problem:
        st.error(problem)
    elif len(boxes) > 4:
        st.warning("More than 4 boxes: the guide asks for one box over the group.")
    st.image(with_boxes(frame, boxes), caption="Your boxes", width=224)
    save_col, cannot_col = st.columns(2)
    if save_col.button("Save boxes", type="primary", disabled=bool(problem) or not boxes, key="save_boxes",
                       shortcut="S"):
        _save(boxes, False)
    if cannot_col.button("Cannot be localised", key="cannot_localise", shortcut="L"):
        _save([], True)
    st.button("Skip this clip", on_click=_skip, key="skip_clip", help="Leave it to others; it is not asked again.",
              shortcut="K")
    _undo_button()
    st.caption("Keys: S save boxes · L cannot be localised · K skip · U undo your last boxes")
