"""Messages that survive one st.rerun (a save, then a redraw that shows it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from annotation_db.verdicts import VerdictError

_KEY = "flash_messages"


def flash(message: str, warning: bool = False) -> None:
    """Show `message` on the next run of the page: a success note, or a warning."""
    st.session_state.setdefault(_KEY, []).append((message, warning))


@contextmanager
def saving() -> Iterator[None]:
    """Around a verdict save: a refused one (e.g. the item was reassigned) becomes a warning on the page,
    not an error trace; nothing was stored."""
    try:
        yield
    except VerdictError as error:
        flash(str(error), warning=True)


def show_flashes() -> None:
    """Show and forget the pending messages, in a container that is there even with none to show."""
    # a message that came and went must not move what follows: tabs after it would be redrawn as new
    # and open on their first tab
    with st.container():
        for message, warning in st.session_state.pop(_KEY, []):
            if warning:
                st.warning(message, icon=":material/warning:")
            else:
                st.success(message, icon=":material/check_circle:")
