"""Researchers launch training, evaluation and predict jobs, watch them, compare and promote versions."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from annotation_db.users import AccessDenied
from training.evaluation import SELF_CHECK, SPLITS
from training.families import families, get_family
from training.jobs import JOB_KINDS, any_job_active, cancel_job_by, job_rows, job_view, launch_job
from training.versions import projects_served, promote, version_table
from ui.flash import flash, show_flashes
from ui.session import require_researcher

ACTIVE = ("queued", "running")

user = require_researcher()
st.title("Jobs & models")
show_flashes()

launch_tab, jobs_tab, versions_tab = st.tabs(["Launch", "Jobs", "Model versions"], key="jobs_tabs")

with launch_tab:
    left, right = st.columns(2)
    model = left.selectbox("Model", list(families()), key="launch_model")
    kind = right.selectbox("Kind", JOB_KINDS, key="launch_kind")
    project = st.selectbox("Project", ["(none)"] + projects_served(model), key="launch_project",
                           help="Predict jobs need a project; train jobs record versions for it.")
    params_text = st.text_area("Parameters (JSON: the command's options)", key=f"launch_params_{model}_{kind}",
                               value=json.dumps(get_family(model).example_params.get(kind, {})), height=90)
    if kind == "train":
        st.caption('With a project and no "data", the job retrains from the project\'s verdicts: it starts '
                   "from the project's active version, holds out a fixed share of verified items, and "
                   'scores parent and child there and on a seeded synthetic benchmark ("benchmark": '
                   '{"seed", "items", "size"}; "eval": options of the evaluation).')
    if kind == "adapt":
        st.caption("Trains the project's active version on the project's own labels (no verdicts needed) "
                   "and makes the result active only if its self-check beats the parent's.")
    if kind == "evaluate":
        st.caption('With a project and no "data", the job scores the project\'s active version on its '
                   "held-out verified items and on a seeded synthetic benchmark, each labelled.")
    if st.button("Launch job", type="primary", key="launch_button"):
        try:
            job_id = launch_job(user.id, model, kind, None if project == "(none)" else project,
                                json.loads(params_text))
            flash(f"Queued job {job_id}.")
            st.session_state["selected_job"] = job_id
            st.rerun()
        except (ValueError, AccessDenied) as exc:
            st.error(str(exc))


def job_panel() -> None:
    """The job list and the selected job's live progress."""
    rows = job_rows()
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
    _job_summary(*job_view(selected))


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
    elif metric.get("evaluation"):
        _evaluation(details["model"], metric["evaluation"])
    elif metric:
        st.json(metric, expanded=False)
    if details["version"]:
        worse = headlines is not None and (headlines["child"] < headlines["parent"]).any()
        kept_out = metric.get("activated") is False
        (st.warning if worse or kept_out else st.success)(
            f"Produced version {details['version']['version']}" +
            (": it scores below its parent" if worse else "") +
            ("; not activated (its self-check did not beat the parent's)" if kept_out else ""))
    if details["error"]:
        st.error(details["error"])
    if details["status"] in ACTIVE and st.button("Cancel job", key=f"cancel_{details['id']}"):
        cancel_job_by(user.id, details["id"])
        st.rerun(scope="fragment")
    with st.expander("Log", expanded=details["status"] == "failed"):
        st.code(tail or "(no output yet)", language=None)


def _evaluation(model: str, report: dict) -> None:
    """A project evaluation: the headline number on each split, named by what it is."""
    family = get_family(model)
    rows = [{"split": SPLITS.get(split, split), ".".join(family.headline): family.headline_of(report.get(split))}
            for split in SPLITS if split in report]
    if rows:
        st.caption(f"Model version {report.get('model_version', '-')}")
        st.table(pd.DataFrame(rows).set_index("split").style.format(precision=3, na_rep="none to score"))
    check = report.get("self_check")
    if check:
        _self_check(check)
    st.json(report, expanded=False)


def _self_check(check: dict) -> None:
    """A self-check on the project's own data: known perturbations, how often they were undone."""
    if "recovery_pck" not in check:  # clips: known shifts (AVST) or known halves (localizer)
        shown = {"score": check.get("score"), "recovered": check.get("recovered"),
                 "confident": check.get("confident_share"), "recovered when confident": check.get("confident_recovered"),
                 "clips": check.get("clips")}
        st.markdown(f"**Self-check on the project's own clips** (no labels: known shifts or placements "
                    f"recovered), model version {check.get('model_version', '-')}")
        st.table(pd.DataFrame([shown]).style.format(precision=3, na_rep="-"))
        return
    st.markdown(f"**{SELF_CHECK}**: score {check['score']:.3f} (recovery PCK@5 with abstention), "
                f"{check['confident_share']:.0%} of corrections confident, {check['instances']} labels checked")
    curve = pd.DataFrame({"perturbed input": check["perturbed_pck"], "every correction": check["recovery_pck"],
                          "with abstention": check["confident_recovery_pck"]})
    curve.index = [int(k) for k in curve.index]
    st.line_chart(curve.sort_index(), height=260, x_label="k (model px)", y_label="PCK@k")


def _headline_frame(model: str, metric: dict) -> pd.DataFrame | None:
    """Parent and child headline numbers of a retrain job, one row per split (None if not a retrain)."""
    rows = {SPLITS[s]: metric[s] for s in SPLITS if isinstance(metric.get(s), dict)}
    if isinstance(metric.get("self_check"), dict):  # an adapt job: both models' self-check scores
        rows[SELF_CHECK] = metric["self_check"]
    if not rows:
        return None
    frame = pd.DataFrame(rows).T.reindex(columns=["parent", "child"])
    frame.index.name = ".".join(get_family(model).headline) if len(rows) > 1 or SELF_CHECK not in rows \
        else "self-check score"
    return frame


with jobs_tab:
    # an idle page does not poll, so a refresh never races a click elsewhere on the page
    refresh = 2.0 if any_job_active() else None
    st.fragment(run_every=refresh)(job_panel)()
    if refresh is None and st.button("Refresh", key="refresh_jobs", help="No job is active: the list "
                                     "updates by itself only while one is queued or running."):
        st.rerun()


def _parent_vs_child(model: str, version: dict) -> None:
    """Metrics table and plot of one retrained version against its parent."""
    rows = version["parent_vs_child"]
    if not rows:
        st.info("This version was not made by a retrain job, so it has no parent-vs-child scores.")
        return
    table = pd.DataFrame(rows)
    st.table(table.set_index(["split", "metric"]).style.format(precision=3, na_rep="-"))
    name = ".".join(get_family(model).headline[1:])
    plot = table[table["metric"] == name].set_index("split")[["parent", "child"]]
    if not plot.empty:
        plot.index = [SPLITS[s] for s in plot.index]
        st.bar_chart(plot, stack=False, height=260, y_label=name)


with versions_tab:
    family = st.selectbox("Model", list(families()), key="versions_model")
    versions = {v["id"]: v for v in version_table(family)}
    if not versions:
        st.info("No versions of this model yet: a successful train job registers one.")
    else:
        frame = pd.DataFrame([{k: v for k, v in row.items() if k != "parent_vs_child"}
                              for row in versions.values()])
        st.dataframe(frame, hide_index=True)
        st.subheader("Parent vs child")
        shown = st.selectbox("Version", list(versions), key="parent_child_version",
                             format_func=lambda i: versions[i]["version"])
        _parent_vs_child(family, versions[shown])
        st.subheader("Versions side by side")
        picked = st.multiselect("Compare versions", frame["id"].tolist(),
                                default=frame["id"].tolist()[:2], key="compare_versions",
                                format_func=lambda i: versions[i]["version"])
        numbers = frame[frame["id"].isin(picked)].set_index("version").drop(
            columns=["id", "parent", "job", "created"]).dropna(axis=1, how="all")
        if picked and not numbers.empty:
            st.dataframe(numbers.T)
            scores = numbers.drop(columns=["verdicts", "activated"], errors="ignore")
            if not scores.empty:
                st.bar_chart(scores.T, stack=False, height=260)
        fitting = projects_served(family)
        if fitting:
            left, right = st.columns(2)
            target = left.selectbox("Promote to project", fitting, key="promote_project")
            chosen = right.selectbox("Version to promote", list(versions), key="promote_version",
                                     format_func=lambda i: versions[i]["version"])
            if st.button("Promote and refresh proposals", key="promote_button"):
                try:
                    job_id = promote(user.id, target, chosen)
                    flash(f"Version {versions[chosen]['version']} is active for {target}; "
                          f"predict job {job_id} queued.")
                    st.rerun()
                except (ValueError, AccessDenied) as exc:
                    st.error(str(exc))
