"""Researchers: agreement between annotators per class (cIoU) and the consensus mask of a clip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from annotation_db.localization_review import (agreement_overview, change_overlap, localization_projects,
                                                project_consensus)
from ui.boxes import MediaError, centre_frame, with_boxes
from ui.pickers import choose_project
from ui.session import require_researcher

st.title("Box agreement")
require_researcher()

project_name = choose_project(localization_projects(), "agreement_project", "localisation")

overview = agreement_overview(project_name)
overlap, agreement, clips = overview.annotators_per_item, overview.agreement, overview.clips
annotators, names = overview.boxes, overview.names

wanted = st.number_input("Annotators per clip (2 for an agreement study)", 1, 5, overlap, key="overlap")
if wanted != overlap and st.button("Apply", key="apply_overlap"):
    change_overlap(project_name, int(wanted))
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
mask = project_consensus(project_name, chosen.id)
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
