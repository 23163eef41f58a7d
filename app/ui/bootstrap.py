"""Once per server process: migrate the database and seed the demo workspace."""

from __future__ import annotations

import os

import streamlit as st

from annotation_db.migrate import upgrade_database
from training.demo import missing_demo_projects, seed_demo
from training.worker import ensure_worker


@st.cache_resource(show_spinner=False)
def _migrated() -> bool:
    upgrade_database()
    return True


def ensure_ready() -> None:
    """Bring the schema up to date, keep a job worker running beside the app and, unless
    SEED_DEMO=0, create missing demo projects."""
    _migrated()
    ensure_worker()
    if os.environ.get("SEED_DEMO", "1") == "0" or st.session_state.get("demo_checked"):
        return
    missing = missing_demo_projects()
    if missing:
        with st.status("Preparing the demo workspace (first start only)…", expanded=True) as status:
            for line in seed_demo():
                status.write(line)
            status.update(label="Demo workspace ready", state="complete", expanded=False)
    st.session_state["demo_checked"] = True
