"""Researchers launch training, evaluation and predict jobs, watch them, compare and promote versions."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from annotation_db.engine import session_scope
from annotation_db.projects import get_project, list_projects
from annotation_db.users import AccessDenied, get_user
from training.benchmarks import HEADLINE
from training.comparison import SPLITS, headline_row, parent_vs_child
from training.jobs import MODELS, cancel_job, job_details, list_jobs, log_tail, submit_job
from training.registry import promote_version, versions_of
from ui.flash import flash, show_flashes
from ui.session import require_researcher

# A train job on a project without "data" retrains from the project's verdicts.
EXAMPLE_PARAMS = {
    ("autocorrect", "train"): {"steps": 300, "batch_size": 16, "lr": 1e-4},
    ("localizer", "train"): {"epochs": 2, "max_steps": 100},
    ("avst", "train"): {"epochs": 3, "max_steps": 60, "batch": 8, "eval": {"lengths": "1,2,3"}},
    ("autocorrect", "evaluate"): {"data": "var/demo/buildings"},
    ("localizer", "evaluate"): {"data": "var/demo/localization"},
    ("avst", "evaluate"): {"data": "var/demo/sync"},
}
ACTIVE = ("queued", "running")
SPLIT_NAMES = {"heldout": "held-out verified items", "synthetic": "synthetic benchmark"}


user = require_researcher()
st.title("Jobs & models")
show_flashes()

with session_scope() as session:
    projects = {p.name: p.kind for p in list_projects(session)}

launch_tab, jobs_tab, versions_tab = st.tabs(["Launch", "Jobs", "Model versions"], key="jobs_tabs")

with launch_tab:
    left, right = st.columns(2)
    model = left.selectbox("Model", MODELS, key="launch_model")
    kind = right.selectbox("Kind", ["train", "evaluate", "predict"], key="launch_kind")
    fitting = [name for name, k in projects.items() if k.model_name == model]
    project = st.selectbox("Project", ["(none)"] + fitting, key="launch_project",
                           help="Predict jobs need a project; train jobs record versions for it.")
    params_text = st.text_area("Parameters (JSON: the command's flags)", key=f"launch_params_{model}_{kind}",
                               value=json.dumps(EXAMPLE_PARAMS.get((model, kind), {})), height=90)
    if kind == "train":
        st.caption('With a project and no "data", the job retrains from the project\'s verdicts: it starts '
                   "from the project's active version, holds out a fixed share of verified items, and "
                   'scores parent and child there and on a seeded synthetic benchmark ("benchmark": '
                   '{"seed", "items", "size"}; "eval": flags of the eval command).')
    if st.button("Launch job", type="primary", key="launch_button"):
        try:
            params = json.loads(params_text)
            with session_scope(immediate=True) as session:
                target = get_project(session, project) if project != "(none)" else None
                job = submit_job(session, get_user(session, user.id), model, kind, target, params)
            flash(f"Queued job {job.id}.")
            st.session_state["selected_job"] = job.id
            st.rerun()
        except (ValueError, AccessDenied) as exc:
            st.error(str(exc))


def job_panel() -> None:
    """The job list and the selected job's live progress."""
    with session_scope() as session:
        jobs = list_jobs(session)
        rows = [{"Job": j.id, "Status": j.status.value, "Kind": j.kind.value, "Model": j.model,
                 "Progress": (j.progress_step / j.progress_total) if j.progress_total else 0.0,
                 "Loss": j.current_loss, "Created": j.created_at.strftime("%m-%d %H:%M:%S")}
                for j in jobs]
    if not rows:
        st.info("No jobs yet.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "Progress": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})
    ids = [r["Job"] for r in rows]
    default = st.session_state.get("selected_job", ids[0])
    selected = st.selectbox("Job", ids, index=ids.index(default) if default in ids else 0,
                            key="job_select")
    st.session_state["selected_job"] = selected
    with session_scope() as session:
        details = job_details(session, selected)
        job_row = next(j for j in jobs if j.id == selected)
        tail = log_tail(job_row, 6000)
    _job_summary(details, tail)


def _job_summary(details: dict, tail: str) -> None:
    progress = details["progress"]
    st.markdown(f"**Job {details['id']}** · {details['kind']} {details['model']} · "
                f"status **{details['status']}** · attempts {details['attempts']} · "
                f"worker {details['worker'] or '-'}")
    if progress["total"]:
        st.progress(min(progress["step"] / progress["total"], 1.0),
                    text=f"step {progress['step']} of {progress['total']}")
    if progress["loss_history"]:
        curve = pd.DataFrame(progress["loss_history"], columns=["step", "loss"]).set_index("step")
        st.line_chart(curve, height=220)
    metric = progress["last_metric"] or {}
    if metric.get("training_data"):
        st.caption("Training data from verdicts: " +
                   ", ".join(f"{k} {v}" for k, v in metric["training_data"].items()))
    headlines = _headline_frame(details["model"], metric)
    if headlines is not None:
        st.table(headlines.style.format(precision=3, na_rep="-"))
    elif metric:
        st.json(metric, expanded=False)
    if details["version"]:
        st.success(f"Produced version {details['version']['version']}")
    if details["error"]:
        st.error(details["error"])
    if details["status"] in ACTIVE and st.button("Cancel job", key=f"cancel_{details['id']}"):
        with session_scope(immediate=True) as session:
            cancel_job(session, get_user(session, user.id), details["id"])
        st.rerun(scope="fragment")
    with st.expander("Log", expanded=details["status"] == "failed"):
        st.code(tail or "(no output yet)", language=None)


def _headline_frame(model: str, metric: dict) -> pd.DataFrame | None:
    """Parent and child headline numbers of a retrain job, one row per split (None if not a retrain)."""
    rows = {SPLIT_NAMES[s]: metric[s] for s in SPLITS if isinstance(metric.get(s), dict)}
    if not rows:
        return None
    frame = pd.DataFrame(rows).T[["parent", "child"]]
    frame.index.name = ".".join(HEADLINE[model])
    return frame


def _refresh_every() -> float | None:
    """Seconds between refreshes of the job panel: 2 while a job is queued or running, else none.

    An idle page does not poll, so a refresh never races a click elsewhere on the page."""
    with session_scope() as session:
        busy = any(j.status.value in ACTIVE for j in list_jobs(session))
    return 2.0 if busy else None


with jobs_tab:
    refresh = _refresh_every()
    st.fragment(run_every=refresh)(job_panel)()
    if refresh is None and st.button("Refresh", key="refresh_jobs", help="No job is active: the list "
                                     "updates by itself only while one is queued or running."):
        st.rerun()


def _parent_vs_child(version) -> None:
    """Metrics table and plot of one retrained version against its parent."""
    rows = parent_vs_child(version)
    if not rows:
        st.info("This version was not made by a retrain job, so it has no parent-vs-child scores.")
        return
    table = pd.DataFrame(rows)
    st.table(table.set_index(["split", "metric"]).style.format(precision=3, na_rep="-"))
    name = ".".join(HEADLINE[version.model][1:])
    plot = table[table["metric"] == name].set_index("split")[["parent", "child"]]
    if not plot.empty:
        plot.index = [SPLIT_NAMES[s] for s in plot.index]
        st.bar_chart(plot, stack=False, height=260, y_label=name)


with versions_tab:
    family = st.selectbox("Model", MODELS, key="versions_model")
    with session_scope() as session:
        versions = {v.id: v for v in versions_of(session, family)}
        table = [headline_row(v) for v in versions.values()]
    if not table:
        st.info("No versions of this model yet: a successful train job registers one.")
    else:
        frame = pd.DataFrame(table)
        st.dataframe(frame, hide_index=True)
        st.subheader("Parent vs child")
        shown = st.selectbox("Version", list(versions), key="parent_child_version",
                             format_func=lambda i: versions[i].version)
        _parent_vs_child(versions[shown])
        st.subheader("Versions side by side")
        picked = st.multiselect("Compare versions", frame["id"].tolist(),
                                default=frame["id"].tolist()[:2], key="compare_versions",
                                format_func=lambda i: versions[i].version)
        numbers = frame[frame["id"].isin(picked)].set_index("version").drop(
            columns=["id", "parent", "job", "created"]).dropna(axis=1, how="all")
        if picked and not numbers.empty:
            st.dataframe(numbers.T)
            scores = numbers.drop(columns=["verdicts"], errors="ignore")
            if not scores.empty:
                st.bar_chart(scores.T, stack=False, height=260)
        fitting = [name for name, k in projects.items() if k.model_name == family]
        if fitting:
            left, right = st.columns(2)
            target = left.selectbox("Promote to project", fitting, key="promote_project")
            chosen = right.selectbox("Version to promote", list(versions), key="promote_version",
                                     format_func=lambda i: versions[i].version)
            if st.button("Promote and refresh proposals", key="promote_button"):
                try:
                    with session_scope(immediate=True) as session:
                        job = promote_version(session, get_user(session, user.id),
                                              get_project(session, target), chosen)
                    flash(f"Version {versions[chosen].version} is active for {target}; "
                          f"predict job {job.id} queued.")
                    st.rerun()
                except (ValueError, AccessDenied) as exc:
                    st.error(str(exc))
