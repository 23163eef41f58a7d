"""Stage 3 of VGG-SS: watch the 5 s around the frame and confirm the boxed object makes the sound."""

from __future__ import annotations

import streamlit as st

from annotation_db.localization_review import ClipTask, localization_projects, save_sound_answer, sound_task
from annotation_db.progress import review_progress, sound_checks_left
from core.config import get_settings
from ui.audio_view import STEP_KEYS, autoplay_setting, frame_step_keys, spectrogram_image
from ui.boxes import MediaError, boxed_frame, segment_around_centre
from ui.flash import flash, saving, show_flashes
from ui.pickers import choose_project
from ui.prefetch import prepare_ahead
from ui.session import require_user
from ui.undo import undo_button

ANSWERS = {"Yes": ("yes", "Y"), "No": ("no", "N"), "Not sure": ("not_sure", "S")}  # label: (answer, key)

st.title("Sound check")
me = require_user()
frame_step_keys()

project_name = choose_project(localization_projects(), "sound_project", "localisation")


def _undo_button() -> None:
    undo_button(project_name, me.id, "sound", "sound_undo", "Undid your last answer: that clip is asked again.")


def _answer(task: ClipTask, label: str, answer: str) -> None:
    """Button callback: store the answer before the panel redraws with the next clip."""
    with saving():
        save_sound_answer(project_name, me.id, task.clip.id, answer)
        flash(f"Saved {task.clip.key}: {label}")


@st.fragment
def review_panel() -> None:
    """One boxed clip, its 5 s and the three answers; an answer reruns only this panel."""
    show_flashes()
    done = review_progress(project_name, me.id, "sound")
    st.progress(done.share, text=done.text("boxed clips checked"))
    task = sound_task(project_name, me.id)
    if task is None:
        st.success("No boxed clip waits for your sound check in this project.")
        _undo_button()
        return
    clip = task.clip
    st.subheader(f"{clip.key} · {clip.label or 'no label'}")
    st.markdown(f"Does the **boxed object** make the sound of **{clip.label or 'this clip'}**? "
                "Answer *Not sure* if the sound is not within these 5 seconds.")
    left, right = st.columns(2)
    try:
        with left:
            st.image(boxed_frame(clip.media_path, tuple(map(tuple, task.people_boxes or []))),
                     caption="Centre frame and its boxes", width="stretch")
        with right:
            segment = segment_around_centre(clip.media_path, clip.id, get_settings().cache_dir)
            st.video(str(segment), autoplay=autoplay_setting())
            st.image(spectrogram_image(str(segment)), width="stretch",
                     caption="Spectrogram of these 5 s (0 to 8 kHz, time left to right)")
    except (MediaError, OSError) as exc:
        st.error(f"The media of this clip cannot be read: {exc}")
        return
    for column, (label, (answer, key)) in zip(st.columns(3), ANSWERS.items()):
        column.button(label, key=f"answer_{answer}", width="stretch", shortcut=key, on_click=_answer,
                      args=(task, label, answer))
    _undo_button()
    st.caption("Keys: Y yes · N no · S not sure · U undo your last answer · " + STEP_KEYS)
    for clip_id, media_path in sound_checks_left(project_name, me.id):
        if clip_id != clip.id and media_path:
            prepare_ahead(("sound", clip_id), _prepare, media_path, clip_id)


def _prepare(media_path: str, clip_id: int) -> None:
    """The 5 s segment and its spectrogram of a clip still to check, made before it is shown."""
    spectrogram_image(str(segment_around_centre(media_path, clip_id, get_settings().cache_dir)))


review_panel()
