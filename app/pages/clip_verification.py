"""Clip verification (VGG-Sound stage 4, thesis 4.3.4): is the class label of a clip right?"""

from __future__ import annotations

import html
from dataclasses import asdict
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from annotation_db import clip_verification as cv
from ui.flash import saving, show_flashes
from ui.lease import keep_view_lease
from ui.session import require_user

ALL_CLASSES = "All classes"
# (answer, button label, keyboard shortcut, icon, button type)
ANSWER_BUTTONS = (
    ("yes", "Yes", "Y", ":material/check_circle:", "primary"),
    ("no", "No", "N", ":material/cancel:", "secondary"),
    ("not_sure", "Not sure", "S", ":material/help:", "secondary"),
)
ANSWER_WORDS = {answer: word for answer, word, *_ in ANSWER_BUTTONS}
DECISION_COLOURS = alt.Scale(domain=[cv.KEPT, cv.DROPPED, cv.UNDECIDED],
                             range=["#2e7d32", "#c62828", "#9e9e9e"])
STYLE = """<style>
.st-key-cv_answers button {min-height: 3.6rem; font-size: 1.25rem;}
.cv-question {color: #6b7280; margin-bottom: 0;}
.cv-label {font-size: 2.4rem; font-weight: 700; line-height: 1.15; margin: .1rem 0 1rem 0;}
</style>"""

user = require_user()
st.html(STYLE)
st.title("Clip verification")
show_flashes()

projects = cv.verification_projects()
if not projects:
    st.info("No clip-verification project yet. Researchers import clips with the task "
            "**clip-verification** on the **Import & export** page.")
    st.stop()

project_column, class_column = st.columns(2)
project_id = projects[project_column.selectbox("Project", list(projects), key="cv_project")]
classes = cv.class_names(project_id)
if not classes:
    st.info("This project has no labelled clip with media to verify.")
    st.stop()
choice = class_column.selectbox("Class", [ALL_CLASSES, *classes], key="cv_class")
label = None if choice == ALL_CLASSES else choice


def _save(project: int, clip_id: int, key: str, answer: str) -> None:
    """Button callback: store the answer before the page redraws with the next clip."""
    with saving():
        cv.answer_clip(project, user.id, clip_id, answer)
        st.session_state["cv_last"] = (project, clip_id, key, answer)
        st.session_state.pop("cv_revisit", None)


def _revisit(project: int, clip_id: int) -> None:
    st.session_state["cv_revisit"] = (project, clip_id)


def _revisiting() -> int | None:
    """The clip whose answer this user is changing, if any (in this project)."""
    revisit = st.session_state.get("cv_revisit")
    return revisit[1] if revisit and revisit[0] == project_id else None


def _clip_to_show() -> tuple[cv.ClipInfo | None, cv.ScopeProgress]:
    """The clip whose answer is being changed, else the next sampled clip leased to this user."""
    return cv.clip_to_verify(project_id, user.id, label, _revisiting())


def _show_progress(progress: cv.ScopeProgress) -> None:
    scope = "this class" if label else "all classes"
    st.progress(progress.answered / max(progress.sampled, 1),
                text=f"{progress.answered} of {progress.sampled} sampled clips of {scope} "
                     f"answered · {progress.by_me} by you")


def _show_last_answer() -> None:
    last = st.session_state.get("cv_last")
    if not last or last[0] != project_id:
        return
    _, clip_id, key, answer = last
    text, button = st.columns([4, 1], vertical_alignment="center")
    if _revisiting() == clip_id:
        text.caption(f"Changing your answer **{ANSWER_WORDS[answer]}** for `{key}`: "
                     "answer again.")
        return
    text.caption(f"Saved **{ANSWER_WORDS[answer]}** for `{key}`.")
    button.button("Change", key="cv_change", icon=":material/undo:", type="tertiary",
                  on_click=_revisit, args=(project_id, clip_id),
                  help="Show that clip again (key U)", shortcut="U")


def _show_clip(clip: cv.ClipInfo) -> None:
    video, question = st.columns([3, 2], gap="large")
    with video:
        if clip.media_path and Path(clip.media_path).is_file():
            st.video(clip.media_path, autoplay=True)
        else:
            st.error(f"The media file of {clip.key} is missing: {clip.media_path}")
    with question:
        st.html(f'<p class="cv-question">Does this clip show <b>and</b> sound like</p>'
                f'<div class="cv-label">{html.escape(clip.label)}</div>')
        with st.container(key="cv_answers"):
            for answer, word, shortcut, icon, kind in ANSWER_BUTTONS:
                st.button(word, key=f"cv_{answer}", icon=icon, type=kind, shortcut=shortcut,
                          width="stretch", on_click=_save,
                          args=(project_id, clip.id, clip.key, answer))
        st.caption(f"Clip `{clip.key}` · keys **Y** / **N** / **S**. Not sure: the sound "
                   "or the object cannot be judged in this clip.")


@st.fragment
def verify() -> None:
    """Watch and hear one sampled clip, answer it, get the next; an answer reruns only this panel."""
    show_flashes()
    clip, progress = _clip_to_show()
    _show_progress(progress)
    _show_last_answer()
    if clip is not None:
        _show_clip(clip)
    elif progress.answered < progress.sampled:
        st.info("The clips left are with other annotators right now. Try another class, or "
                "come back later.", icon=":material/hourglass_top:")
    else:
        st.success("Every sampled clip here is answered. Thank you!", icon=":material/done_all:")


def _share_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Share of Yes per class, coloured by decision, with the keep line (thesis: 50%)."""
    bars = alt.Chart(table).mark_bar().encode(
        x=alt.X("share_yes:Q", title="Share of Yes", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        y=alt.Y("label:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260)),
        color=alt.Color("decision:N", scale=DECISION_COLOURS, title="Decision"),
        tooltip=["label", "answered", "sampled", alt.Tooltip("share_yes:Q", format=".0%"),
                 "decision"])
    keep = cv.DEFAULT_CONFIG.keep_share
    line = alt.Chart(pd.DataFrame({"keep": [keep]})).mark_rule(
        color="#111827", strokeDash=[6, 4], size=2).encode(x="keep:Q")
    return (bars + line).properties(height=alt.Step(26))


def report() -> None:
    """Researchers: per-class counts and decisions, the chart, and the CSV exports."""
    result = cv.verification_report(project_id)
    rows, verdicts = result.classes, result.verdicts_csv
    table = pd.DataFrame([asdict(row) for row in rows])
    counts = table["decision"].value_counts()
    kept, dropped, undecided, settled = st.columns(4)
    kept.metric("Kept", int(counts.get(cv.KEPT, 0)))
    dropped.metric("Dropped", int(counts.get(cv.DROPPED, 0)))
    undecided.metric("Undecided", int(counts.get(cv.UNDECIDED, 0)))
    settled.metric("Settled", f"{int(table['settled'].sum())} of {len(table)}")
    config = cv.DEFAULT_CONFIG
    st.caption(f"Up to {config.sample_size} clips sampled per class; a class is kept with at "
               f"least {config.keep_share:.0%} Yes among its answered clips (Not sure counts as "
               "not confirmed). Settled: the clips still unanswered cannot change the decision.")
    st.altair_chart(_share_chart(table), width="stretch")
    st.dataframe(table, hide_index=True, key="cv_report", column_config={
        **{column: column.replace("_", " ").capitalize() for column in table.columns},
        "label": "Class",
        "share_yes": st.column_config.ProgressColumn("Share of Yes", format="percent",
                                                     min_value=0, max_value=1),
    })
    name = next(n for n, i in projects.items() if i == project_id)
    left, middle, right = st.columns(3)
    left.download_button("Kept classes (CSV)", cv.classes_csv(rows, cv.KEPT),
                         file_name=f"{name}-kept-classes.csv", mime="text/csv",
                         icon=":material/download:", on_click="ignore", key="cv_kept_csv")
    middle.download_button("Dropped classes (CSV)", cv.classes_csv(rows, cv.DROPPED),
                           file_name=f"{name}-dropped-classes.csv", mime="text/csv",
                           icon=":material/download:", on_click="ignore", key="cv_dropped_csv")
    right.download_button("Per-clip verdicts (CSV)", verdicts,
                          file_name=f"{name}-clip-verdicts.csv", mime="text/csv",
                          icon=":material/download:", on_click="ignore", key="cv_verdicts_csv")


if user.is_researcher:
    verify_tab, report_tab = st.tabs(["Verify", "Class report"])
    with verify_tab:
        verify()
    with report_tab:
        report()
else:
    verify()
keep_view_lease(lambda: cv.clip_to_verify(project_id, user.id, label, _revisiting()), "clip_verification")
