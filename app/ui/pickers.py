"""Small shared widgets for choosing what to work on."""

from __future__ import annotations

import streamlit as st

NO_PROJECT_HINT = "Researchers import data on the **Import & export** page."


def choose_project(names: list[str], key: str, kind: str) -> str:
    """A project picker; stops the page with a hint when there is no project of this kind."""
    if not names:
        st.info(f"No {kind} project yet. {NO_PROJECT_HINT}")
        st.stop()
    return st.selectbox("Project", names, key=key)
