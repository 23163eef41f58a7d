"""The Undo button of the review pages: take back one's own last verdict (the history keeps it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from annotation_db.undo import undo_last
from ui.flash import flash


def undo_button(project_name: str, user_id: int, kind: str, key: str, message: str | Callable[[Any], str],
                after: Callable[[Any], None] | None = None, **button: Any) -> None:
    """An Undo button (key U) for the person's last `kind` verdict in the project; `after(undone)` resets the
    page's own state, `message` (or message(undone)) is shown once it is done."""
    def undo() -> None:
        undone = undo_last(project_name, user_id, kind)
        if undone is None:
            flash("Nothing of yours to undo in this project.", warning=True)
            return
        if after is not None:
            after(undone)
        flash(message(undone) if callable(message) else message)

    st.button("Undo", key=key, icon=":material/undo:", shortcut="U", on_click=undo,
              help="Take back your last answer in this project (key U); it stays in the history.", **button)
