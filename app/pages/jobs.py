"""Researchers launch training, evaluation and predict jobs, watch them, compare and promote versions."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from annotation_db.engine import session_scope
from annotation_db.projects import get_project, list_projects
from annotation_db.users import AccessDenied, get_user
from training.jobs import MODELS, cancel_job, job_details, list_jobs, log_tail, submit_job
from training.registry import promote_version, versions_of
from ui.flash import flash, show_flashes
from ui.session import require_researcher

EXAMPLE_PARAMS = {
    "train": {"data": "var/demo/railway", "epochs": 2},
    "evaluate": {"data": "var/demo/railway"},
    "predict": {},
}
ACTIVE = ("queued", "running")

def _flat(metrics: dict, prefix: str = "") -> dict:
    """Nested metric dicts as one level of 'a.b' keys with numeric values."""
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = value
    return flat


user = require_researcher()
st.title("Jobs & models")
show_flashes()

with session_scope() as session:
    projects = {p.name: p.kind for p in list_projects(session)}

launch_tab, jobs_tab, versions_tab = st.tabs(["Launch", "Jobs", "Model versions"])

with launch_tab:
    left, right = st.columns(2)
    model = left.selectbox("Model", MODELS, key="launch_model")
    kind = right.selectbox("Kind", ["train", "evaluate", "predict"], key="launch_kind")
    fitting = [name for name, k in projects.items() if k.model_name == model]
    project = st.selectbox("Project", ["(none)"] + fitting, key="launch_project",
                           help="Predict jobs need a project; train jobs record versions for it.")
    params_text = st.text_area("Parameters (JSON: the command's flags)", key=f"launch_params_{kind}",
                               value=json.dumps(EXAMPLE_PARAMS[kind]), height=90)
    if st.button("Launch job", type="primary", key="launch_button"):
        try:
            params = json.loads(params_text)
            with session_scope() as session:
                target = get_project(session, project) if project != "(none)" else None
                job = submit_job(session, get_user(session, user.id), model, kind, target, params)
            flash(f"Queued job {job.id}.")
            st.session_state["selected_job"] = job.id
            st.rerun()
        except (ValueError, AccessDenied) as exc:
            st.error(str(exc))


@st.fragment(run_every=2.0)
def job_panel() -> None:
    """The job list and the selected job's live progress, refreshed every 2 s."""
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
    if progress["last_metric"]:
        st.json(progress["last_metric"], expanded=False)
    if details["version"]:
        st.success(f"Produced version {details['version']['version']}")
    if details["error"]:
        st.error(details["error"])
    if details["status"] in ACTIVE and st.button("Cancel job", key=f"cancel_{details['id']}"):
        with session_scope() as session:
            cancel_job(session, get_user(session, user.id), details["id"])
        st.rerun(scope="fragment")
    with st.expander("Log", expanded=details["status"] == "failed"):
        st.code(tail or "(no output yet)", language=None)


with jobs_tab:
    job_panel()

with versions_tab:
    family = st.selectbox("Model", MODELS, key="versions_model")
    with session_scope() as session:
        versions = versions_of(session, family)
        table = [{"id": v.id, "version": v.version, "parent": v.parent_id, "job": v.job_id,
                  "created": v.created_at.strftime("%Y-%m-%d %H:%M"), **_flat(v.metrics or {})}
                 for v in versions] if versions else []
    if not table:
        st.info("No versions of this model yet: a successful train job registers one.")
    else:
        frame = pd.DataFrame(table)
        st.dataframe(frame, hide_index=True)
        picked = st.multiselect("Compare versions", frame["id"].tolist(),
                                default=frame["id"].tolist()[:2], key="compare_versions")
        metric_columns = [c for c in frame.columns
                          if c not in ("id", "version", "parent", "job", "created")]
        if picked and metric_columns:
            compared = frame[frame["id"].isin(picked)].set_index("version")[metric_columns]
            st.dataframe(compared.T)
            numeric = compared.select_dtypes("number")
            if not numeric.empty:
                st.bar_chart(numeric.T, stack=False, height=260)
        fitting = [name for name, k in projects.items() if k.model_name == family]
        if fitting:
            left, right = st.columns(2)
            target = left.selectbox("Promote to project", fitting, key="promote_project")
            chosen = right.selectbox("Version", frame["id"].tolist(), key="promote_version")
            if st.button("Promote and refresh proposals", key="promote_button"):
                try:
                    with session_scope() as session:
                        job = promote_version(session, get_user(session, user.id),
                                              get_project(session, target), chosen)
                    flash(f"Version {chosen} is active for {target}; predict job {job.id} queued.")
                    st.rerun()
                except (ValueError, AccessDenied) as exc:
                    st.error(str(exc))
