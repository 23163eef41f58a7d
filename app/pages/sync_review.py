"""Sync review (thesis chapter 6): category, sync or the offset that fixes it; and the tolerance study (6.C)."""

from __future__ import annotations

import random

import streamlit as st

from annotation_db import sync_review as sr
from annotation_db.progress import review_progress
from core.media import MediaError
from ui.audio_view import STEP_KEYS, autoplay_setting, frame_step_keys, spectrogram_image
from ui.flash import flash, saving, show_flashes
from ui.lease import keep_view_lease
from ui.session import require_user
from ui.undo import undo_button
from ui.sync_plots import curve_chart, offset_chart, tolerance_chart

REVIEW, TOLERANCE = "Review clips", "Tolerance study"
CATEGORY_BUTTONS = (  # (category, label, icon, keyboard shortcut)
    ("uniform_ambient", "Uniform or ambient sound", ":material/graphic_eq:", "A"),
    ("no_source", "No sound or no visible source", ":material/volume_off:", "N"),
)
HOTKEYS = ("Keys: Y in sync as played · X in sync without correction · A uniform or ambient · N no sound or no source"
           " · U undo your last answer · " + STEP_KEYS)

user = require_user()
st.title("Sync review")
frame_step_keys()

projects = sr.sync_projects()
if not projects:
    st.info("No synchronisation project yet. Researchers import clips with the task **sync** on the "
            "**Import & export** page.")
    st.stop()
project_column, mode_column = st.columns([2, 3])
project_name = project_column.selectbox("Project", projects, key="sync_project")
mode = mode_column.segmented_control("Mode", [REVIEW, TOLERANCE], default=REVIEW, key="sync_mode") or REVIEW


def _play(media_path: str, clip_id: int, delay_frames: int, autoplay: bool = False) -> None:
    """The clip with its audio delay_frames / 25 s late, cut on the server."""
    try:
        st.video(str(sr.shifted_media(media_path, clip_id, delay_frames)), autoplay=autoplay)
    except (MediaError, OSError) as error:
        st.error(f"Cannot play this clip: {error}")


# ---- review ----


def _save(item: sr.SyncItem, category: str, in_sync: bool | None = None, offset: int | None = None) -> None:
    with saving():
        sr.save_sync(project_name, user.id, item, category, in_sync, offset)
        flash(f"Saved {item.key}: {_answer_text(category, in_sync, offset)}.")


def _answer_text(category: str, in_sync: bool | None, offset: int | None) -> str:
    if category == "evident":
        return "evident, in sync" if in_sync else f"evident, in sync at {offset:+d} frames"
    return dict((c, label.lower()) for c, label, *_ in CATEGORY_BUTTONS)[category]


def _undo_button() -> None:
    undo_button(project_name, user.id, "sync", "sync_undo", "Undid your last answer: that clip is shown again.")


@st.fragment
def review() -> None:
    """One leased clip: play at any offset, see the model's scores, answer; an answer reruns only this."""
    show_flashes()
    done = review_progress(project_name, user.id, "sync")
    st.progress(done.share, text=done.text("clips reviewed"))
    item = sr.claim_sync_item(project_name, user.id)
    if item is None:
        st.success("No clip left to review in this project.")
        _undo_button()
        return
    video, side = st.columns([3, 2], gap="large")
    with side:
        st.markdown(f"**{item.key}** · {item.label or 'no label'}")
        offset = st.slider("Audio offset to correct (frames at 25 fps; + means the audio comes late)",
                           -sr.MAX_OFFSET_FRAMES, sr.MAX_OFFSET_FRAMES, item.offset_frames,
                           key=f"sync_offset_{item.clip_id}")
        model_says = ("the model cannot tell (no confident offset)" if item.confident is False else
                      f"model's best offset: {item.offset_frames:+d} frames")
        st.caption(f"Playing with the audio moved {-offset / 25:+.2f} s; {model_says}" +
                   (f" ({item.model_version})" if item.model_version else " (no proposal yet)"))
    with side:
        autoplay = autoplay_setting()
    with video:
        _play(item.media_path, item.clip_id, -offset, autoplay)
        try:
            st.image(spectrogram_image(item.media_path), width="stretch",
                     caption="Spectrogram of the clip as recorded (0 to 8 kHz, time left to right)")
        except (MediaError, OSError) as error:
            st.caption(f"No spectrogram: {error}")
    if item.scores:
        left, right = st.columns(2)
        left.altair_chart(offset_chart(item.scores, item.offset_frames, offset), width="stretch")
        if item.curve:
            right.altair_chart(curve_chart(item.curve), width="stretch")
    st.subheader("What is this clip?")
    evident, other = st.columns(2)
    with evident:
        st.markdown("**Audio-visually evident**")
        # the answer is about the clip as played: at a non-zero slider that is the offset that fixes it
        st.button("In sync as it is" if offset == 0 else f"In sync as played ({offset:+d} frames)",
                  key="sync_in_sync", icon=":material/check_circle:", type="primary", on_click=_save, shortcut="Y",
                  args=(item, "evident", offset == 0, offset))
        if offset != 0:
            st.button("In sync without correction (0 frames)", key="sync_uncorrected", icon=":material/undo:",
                      on_click=_save, args=(item, "evident", True, 0), shortcut="X")
    with other:
        for category, label, icon, key in CATEGORY_BUTTONS:
            st.button(label, key=f"sync_{category}", icon=icon, on_click=_save, args=(item, category), shortcut=key)
    _undo_button()
    st.caption(HOTKEYS)


# ---- tolerance study ----


def _answer(trial: sr.ToleranceTrial, looks_in_sync: bool) -> None:
    sr.save_tolerance(project_name, user.id, trial, looks_in_sync)
    st.session_state.pop("sync_trial", None)


def tolerance() -> None:
    """Clips at random offsets, one question; the answers by offset as in Figure 6.5."""
    show_flashes()
    trial = st.session_state.get("sync_trial")
    if trial is None or trial[0] != project_name:
        found = sr.draw_tolerance_trial(project_name, random.Random())
        if found is None:
            st.info("This project has no clip with media.")
            return
        trial = st.session_state["sync_trial"] = (project_name, found)
    trial = trial[1]
    video, side = st.columns([3, 2], gap="large")
    with video:
        _play(trial.media_path, trial.clip_id, trial.offset_frames)
    with side:
        st.markdown("### Is this in sync?")
        st.button("Yes, in sync", key="tol_yes", icon=":material/check_circle:", type="primary",
                  on_click=_answer, args=(trial, True))
        st.button("No, out of sync", key="tol_no", icon=":material/cancel:", on_click=_answer,
                  args=(trial, False))
        st.caption("Clips play at a random audio offset between -15 and +15 frames (±0.6 s).")
    histogram = sr.tolerance_results(project_name)
    if histogram:
        st.altair_chart(tolerance_chart(histogram), width="stretch")
        st.caption(f"{sum(t for _, t in histogram.values())} answers so far.")


if mode == REVIEW:
    review()
    keep_view_lease(lambda: sr.claim_sync_item(project_name, user.id), "sync")
else:
    tolerance()
