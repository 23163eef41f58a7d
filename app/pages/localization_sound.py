"""Stage 3 of VGG-SS: watch the 5 s around the frame and confirm the boxed object makes the sound."""

from __future__ import annotations

import streamlit as st

from annotation_db.localization_review import localization_projects, save_sound_answer, sound_task
from core.config import get_settings
from ui.boxes import MediaError, centre_frame, segment_around_centre, with_boxes
from ui.flash import flash, saving, show_flashes
from ui.pickers import choose_project
from ui.session import require_user
from ui.undo import undo_button

ANSWERS = {"Yes": ("yes", "Y"), "No": ("no", "N"), "Not sure": ("not_sure", "S")}  # label: (answer, key)

st.title("Sound check")
show_flashes()
me = require_user()

project_name = choose_project(localization_projects(), "sound_project", "localisation")


def _undo_button() -> None:
    undo_button(project_name, me.id, "sound", "sound_undo", "Undid your last answer: that clip is asked again.")


task = sound_task(project_name, me.id)
if task is None:
    st.success("No boxed clip waits for your sound check in this project.")
    _undo_button()
    st.stop()

clip = task.clip
boxes = task.people_boxes or []
st.subheader(f"{clip.key} · {clip.label or 'no label'}")
st.markdown(f"Does the **boxed object** make the sound of **{clip.label or 'this clip'}**? "
            "Answer *Not sure* if the sound is not within these 5 seconds.")
left, right = st.columns(2)
try:
    with left:
        st.image(with_boxes(centre_frame(clip.media_path), boxes), caption="Centre frame and its boxes",
                 width="stretch")
    with right:
        st.video(str(segment_around_centre(clip.media_path, clip.id, get_settings().cache_dir)))
except (MediaError, OSError) as exc:
    st.error(f"The media of this clip cannot be read: {exc}")
    st.stop()

for column, (label, (answer, key)) in zip(st.columns(3), ANSWERS.items()):
    if column.button(label, key=f"answer_{answer}", width="stretch", shortcut=key):
        with saving():
            save_sound_answer(project_name, me.id, clip.id, answer)
            flash(f"Saved {clip.key}: {label}")
        st.rerun()
_undo_button()
st.caption("Keys: Y yes · N no · S not sure · U undo your last answer")
