"""Researchers: agreement between annotators per class (cIoU) and the consensus mask of a clip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from annotation_db.engine import session_scope
from annotation_db.localization_review import (agreement_by_class, boxes_by_annotator, clip_consensus,
                                                localization_projects, overlap_clips, set_overlap,
                                                user_names)
from annotation_db.projects import get_project
from ui.boxes import MediaError, centre_frame, with_boxes
from ui.pickers import choose_project
from ui.session import require_researcher

st.title("Box agreement")
require_researcher()

with session_scope() as session:
    projects = [p.name for p in localization_projects(session)]
project_name = choose_project(projects, "agreement_project", "localisation")

with session_scope() as session:
    project = get_project(session, project_name)
    overlap = project.annotators_per_item
    agreement = agreement_by_class(session, project)
    clips = overlap_clips(session, project)
    annotators = boxes_by_annotator(session, project)
    names = user_names(session)

wanted = st.number_input("Annotators per clip (2 for an agreement study)", 1, 5, overlap, key="overlap")
if wanted != overlap and st.button("Apply", key="apply_overlap"):
    with session_scope(immediate=True) as session:
        set_overlap(session, get_project(session, project_name), int(wanted))
    st.rerun()

if not agreement:
    st.info("No clip has boxes from two people yet. Set 2 annotators per clip and let two people box.")
    st.stop()

st.subheader("Agreement per class")
st.caption("cIoU of one person's boxes against the other's (equal to their IoU), averaged over pairs.")
st.dataframe(pd.DataFrame([{"Class": a.label, "Clips": a.clips, "Mean cIoU": round(a.mean_ciou, 3)}
                           for a in agreement]), hide_index=True, key="agreement_table")

st.subheader("Consensus mask")
chosen = st.selectbox("Clip", clips, format_func=lambda c: f"{c.key} · {c.label}", key="consensus_clip")
with session_scope() as session:
    mask = clip_consensus(session, get_project(session, project_name), chosen.id)
st.caption("g = min(sum of the annotators' masks / C, 1) with C = 2 (thesis 5.A): white where both agree.")
columns = st.columns(2)
columns[0].image((mask * 255).astype(np.uint8), caption="Consensus (C = 2)", width=224)
try:
    frame = centre_frame(chosen.media_path) if chosen.media_path else None
except (MediaError, OSError):
    frame = None
if frame is None:
    columns[1].warning("No media for this clip: only the mask can be shown.")
else:
    picture = frame
    for colour, (user_id, boxes) in zip(("#00ff66", "#ff00aa", "#00aaff"), annotators[chosen.id].items()):
        picture = with_boxes(picture, boxes, colour)
    columns[1].image(picture, caption=" · ".join(names.get(u, str(u)) for u in annotators[chosen.id]),
                     width=224)
