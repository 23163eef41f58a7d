"""Curation (VGG-Sound stages 3 and 4, thesis 4.3.3-4.3.4): run the automatic filter on a clip-verification
project, see what each stage kept and removed, and send the clips it is least sure about to people."""

from __future__ import annotations

from dataclasses import asdict

import altair as alt
import pandas as pd
import streamlit as st

from annotation_db import clip_verification as cv
from annotation_db import curation
from annotation_db.users import AccessDenied
from core.audioclass.config import CONFIGS
from core.audioclass.verification import SOUNDS
from training.audioclass.curate_job import launch_curation
from core.audioclass.curation_report import STAGES
from ui.flash import flash, show_flashes
from ui.session import require_researcher

ACTIVE = ("queued", "running")
ANSWER_WORDS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
KEPT_STAGES = ("easy", "hard", "final")  # the stages that keep a clip; the others remove it
STAGE_NAMES = {"stage3": "stage 3 (speech / music)", "easy": "easy positive", "hard": "hard positive",
               "final": "final classifier", "duplicate": "near-duplicate", "rejected": "two-fold filter"}
STAGE_COLOURS = alt.Scale(domain=[STAGE_NAMES[s] for s in STAGES],
                          range=["#b71c1c", "#1b5e20", "#43a047", "#a5d6a7", "#ff8f00", "#e57373"])
COUNT_LABELS = (("clips", "Clips", "clips curated"), ("stage3", "Stage 3", "removed by the speech / music rules"),
                ("easy", "Easy", "kept: label in the two-fold top 3"),
                ("hard", "Hard", "kept: brought back by visual retrieval"),
                ("final", "Final", "kept: brought back by the final classifier"),
                ("duplicate", "Duplicates", "removed as near-duplicates"),
                ("rejected", "Two-fold", "removed by the two-fold filter"), ("kept", "Kept", "kept in all"))

user = require_researcher()
st.title("Curation")
show_flashes()

projects = cv.verification_projects()
if not projects:
    st.info("No clip-verification project yet. Researchers import clips with the task "
            "**clip-verification** on the **Import & export** page.")
    st.stop()
name = st.selectbox("Project", list(projects), key="cur_project")
project_id = projects[name]


def _launch(epochs: int, config: str) -> None:
    try:
        job_id = launch_curation(user.id, name, {"epochs": int(epochs), "config": config})
        flash(f"Queued curate job {job_id}.")
    except (ValueError, AccessDenied) as exc:
        flash(str(exc), warning=True)


def job_progress() -> None:
    """The running curate job's progress (polled); the whole page redraws once it ends."""
    job = curation.newest_curation_job(project_id)
    if job is None or job.status not in ACTIVE:
        st.rerun()
    stage = f" · {job.stage}" if job.stage else ""
    st.progress(min(job.step / job.total, 1.0) if job.total else 0.0,
                text=f"Curate job {job.job_id} {job.status}{stage} (step {job.step} of {job.total or '-'})")


def launcher(job: curation.CurationJob | None) -> None:
    """The button that queues a curate job, with the last job's error if it failed."""
    if job is not None and job.status == "failed":
        last = (job.error or "").strip().splitlines()[-1:] or ["no message"]
        st.error(f"Curate job {job.job_id} failed: {last[0]}", icon=":material/error:")
    with st.expander("Run the automatic filter", expanded=job is None):
        st.caption("Stage 3 removes clips whose speech or music breaks the class's rule; stage 4 trains on "
                   "random halves of each class and keeps clips whose label is in the top 3 of the two "
                   "predictions, then hard positives, a final classifier and near-duplicates (4.3.4). "
                   "The job runs in the worker; this page follows it.")
        left, right = st.columns(2)
        epochs = left.number_input("Epochs per classifier", 1, 100, 8, key="cur_epochs")
        config = right.selectbox("Network", list(CONFIGS), index=list(CONFIGS).index("tiny-ap"),
                                 key="cur_config")
        st.button("Run curation", type="primary", icon=":material/filter_alt:", key="cur_launch",
                  on_click=_launch, args=(epochs, config))


def _stage_chart(classes: list[dict]) -> alt.Chart:
    """Per class, the clips each stage decided, stacked: greens kept them, reds removed them."""
    rows = [{"class": row["class"], "stage": STAGE_NAMES[stage], "order": STAGES.index(stage),
             "clips": row[stage], "kept": stage in KEPT_STAGES}
            for row in classes for stage in STAGES if row[stage]]
    return alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X("sum(clips):Q", title="Clips", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("class:N", title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("stage:N", scale=STAGE_COLOURS, title="Decided by"),
        order=alt.Order("order:Q"),
        tooltip=["class", "stage", "clips", "kept"]).properties(height=alt.Step(24))


def _histogram_chart(histogram: dict) -> alt.Chart:
    """Clips per bin of the two-fold ensemble's probability of their label, kept next to removed."""
    edges = histogram["edges"]
    rows = [{"bin": f"{edges[i]:.1f}-{edges[i + 1]:.1f}", "start": edges[i], "clips": histogram[which][i],
             "which": which} for which in ("kept", "removed") for i in range(len(edges) - 1)]
    return alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X("bin:N", title="Two-fold probability of the clip's label", sort=alt.SortField("start")),
        xOffset="which:N",
        y=alt.Y("clips:Q", title="Clips", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("which:N", title=None, scale=alt.Scale(domain=["kept", "removed"],
                                                               range=["#2e7d32", "#c62828"])),
        tooltip=["bin", "which", "clips"]).properties(height=260)


def _send(clips: list[tuple[int, str]]) -> None:
    chosen = [clip_id for clip_id, key in clips if st.session_state.get(key)]
    try:
        sent = curation.send_to_verification(user.id, project_id, chosen)
        flash(f"Sent {sent} clip(s) to clip verification." + ("" if sent == len(chosen) else
              f" {len(chosen) - sent} were there already."))
        for _, key in clips:
            st.session_state[key] = False
    except (ValueError, AccessDenied) as exc:
        flash(str(exc), warning=True)


def least_sure(view: curation.CurationView) -> None:
    """The clips the filter is least sure about, a checkbox each, and one button that sends the chosen ones."""
    st.subheader("Least sure")
    if not view.least_sure:
        st.info("The two-fold models agree on every clip: none is near the keep line.")
        return
    st.caption("The two models disagree on whether the label is in their top 3, or the ensemble ranks it "
               "3rd or 4th. Annotators are asked about the clips sent before the random sample "
               f"({view.requested} sent from this curation so far).")
    boxes = []
    header = st.columns([3, 3, 2, 1, 1, 1])
    for column, title in zip(header, ("Clip", "Class", "Decided by", "Rank", "p(label)", "Kept")):
        column.markdown(f"**{title}**")
    with st.container(key="cur_least_sure"):
        for row in view.least_sure:
            key = f"cur_pick_{project_id}_{row['clip_id']}"
            columns = st.columns([3, 3, 2, 1, 1, 1], vertical_alignment="center")
            if row["requested"]:
                answer = ANSWER_WORDS.get(row["answer"], "not answered yet")
                columns[0].markdown(f":material/task_alt: `{row['key']}` (sent · {answer})")
            else:
                columns[0].checkbox(row["key"], key=key)
                boxes.append((row["clip_id"], key))
            columns[1].write(row["label"])
            columns[2].write(STAGE_NAMES[row["decided_by"]])
            columns[3].write(str(row["label_rank"]))
            columns[4].write(f"{row['label_probability']:.2f}")
            columns[5].write("yes" if row["kept"] else "no")
    st.button("Send to clip verification", icon=":material/send:", key="cur_send", on_click=_send,
              args=(boxes,), disabled=not boxes)


def human_check() -> None:
    """The classes people kept in clip verification (their random sample, 4.3.4)."""
    st.subheader("Human check")
    rows = cv.verification_report(project_id).classes
    table = pd.DataFrame([asdict(row) for row in rows])
    if table.empty or not table["answered"].any():
        st.info("Nobody has answered in Clip verification yet.")
        return
    kept = table[table["decision"] == cv.KEPT]["label"].tolist()
    st.markdown(f"**{len(kept)} of {len(table)} classes kept**" + (": " + ", ".join(kept) if kept else ""))
    st.dataframe(table[["label", "sampled", "answered", "yes", "no", "not_sure", "share_yes", "decision"]],
                 hide_index=True, key="cur_human", column_config={
                     "label": "Class", "share_yes": st.column_config.ProgressColumn(
                         "Share of Yes", format="percent", min_value=0, max_value=1)})


def _save_rules(text_key: str) -> None:
    try:
        curation.update_rules(user.id, project_id, st.session_state[text_key])
        flash("Stage-3 rules saved; the next curate job uses them.")
    except (ValueError, AccessDenied) as exc:
        flash(f"Rules not saved: {exc}", warning=True)


def rules_editor() -> None:
    """The project's stage-3 rules as JSON, checked on save."""
    st.subheader("Stage-3 rules")
    text = curation.rules_text(project_id)
    key = f"cur_rules_{project_id}"
    st.caption(f"A class rejects clips where a named sound ({', '.join(SOUNDS)}) scores above the threshold "
               "(4.3.3: 0.5); classes without a rule of their own take the default. Instruments usually "
               'allow music: `"classes": {"playing violin": {"reject": ["speech"]}}`.')
    editor, effective = st.columns([3, 2])
    editor.text_area("Rules (JSON)", value=text, height=260, key=key)
    editor.button("Save rules", key="cur_rules_save", on_click=_save_rules, args=(key,))
    effective.dataframe(pd.DataFrame(curation.class_rules(project_id)), hide_index=True, key="cur_rule_table",
                        column_config={"class": "Class", "rejects": "Rejects", "own_rule": "Own rule"})


def results(view: curation.CurationView) -> None:
    """The latest finished curation: counts, per-class bars, the label-probability histogram, the download."""
    st.subheader(f"Latest curation (job {view.job_id})")
    for column, (field, title, meaning) in zip(st.columns(len(COUNT_LABELS)), COUNT_LABELS):
        column.metric(title, view.totals[field], help=meaning)
    seconds = ", ".join(f"{stage} {s:.1f} s" for stage, s in view.seconds.items())
    st.caption(f"Finished {view.finished_at or '-'} · {seconds} · retrieval on "
               f"{view.retrieval_features or '-'}.")
    st.markdown("**What decided each clip, per class**")
    st.altair_chart(_stage_chart(view.classes), width="stretch")
    st.markdown("**How sure the two-fold filter was**")
    st.altair_chart(_histogram_chart(view.histogram), width="stretch")
    st.download_button("Kept clips (VGG-Sound CSV)", curation.kept_clips_csv(user.id, project_id),
                       file_name=f"{name}-kept.csv", mime="text/csv", icon=":material/download:",
                       on_click="ignore", key="cur_kept_csv")


newest = curation.newest_curation_job(project_id)
if newest is not None and newest.status in ACTIVE:
    st.fragment(run_every=2.0)(job_progress)()
else:
    launcher(newest)
view = curation.curation_view(project_id)
if view is None:
    st.info("No finished curation of this project yet: run the filter above.")
else:
    results(view)
    least_sure(view)
human_check()
rules_editor()
