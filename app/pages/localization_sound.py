"""Stage 3 of VGG-SS: watch the 5 s around the frame and confirm the boxed object makes the sound."""

from __future__ import annotations

import streamlit as st

from annotation_db.engine import session_scope
from annotation_db.localization_review import localization_projects, next_sound_task, save_sound
from annotation_db.models import User
from annotation_db.projects import get_project
from core.config import get_settings
from ui.boxes import MediaError, centre_frame, segment_around_centre, with_boxes
from ui.flash import flash, show_flashes
from ui.pickers import choose_project
from ui.session import require_user

ANSWERS = {"Yes": "yes", "No": "no", "Not sure": "not_sure"}

st.title("Sound check")
show_flashes()
me = require_user()

with session_scope() as session:
    projects = [p.name for p in localization_projects(session)]
project_name = choose_project(projects, "sound_project", "localisation")

with session_scope() as session:
    task = next_sound_task(session, get_project(session, project_name), session.get(User, me.id))
if task is None:
    st.success("No boxed clip waits for your sound check in this project.")
    st.stop()

clip = task.clip
boxes = task.people_boxes.boxes if task.people_boxes else []
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

for column, (label, answer) in zip(st.columns(3), ANSWERS.items()):
    if column.button(label, key=f"answer_{answer}", width="stretch"):
        with session_scope(immediate=True) as session:
            save_sound(session, session.get(User, me.id), get_project(session, project_name), clip.id, answer)
        flash(f"Saved {clip.key}: {label}")
        st.rerun()
