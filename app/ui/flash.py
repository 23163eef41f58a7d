"""Messages that survive one st.rerun (a save, then a redraw that shows it)."""

from __future__ import annotations

import streamlit as st

_KEY = "flash_messages"


def flash(message: str) -> None:
    """Show `message` as a success note on the next run of the page."""
    st.session_state.setdefault(_KEY, []).append(message)


def show_flashes() -> None:
    """Show and forget the pending messages."""
    for message in st.session_state.pop(_KEY, []):
        st.success(message, icon=":material/check_circle:")
