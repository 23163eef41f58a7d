"""Who is logged in, kept in Streamlit's per-browser-session state."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from annotation_db.models import Role
from annotation_db.users import Account

_KEY = "current_user"


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as the pages need it (no database session attached)."""

    id: int
    name: str
    role: Role

    @property
    def is_researcher(self) -> bool:
        return self.role in (Role.researcher, Role.admin)


def log_in(user: Account) -> None:
    """Remember `user` for this browser session."""
    st.session_state[_KEY] = SessionUser(user.id, user.name, user.role)


def log_out() -> None:
    """Forget the logged-in user."""
    st.session_state.pop(_KEY, None)


def current_user() -> SessionUser | None:
    """The logged-in user, or None."""
    return st.session_state.get(_KEY)


def require_user() -> SessionUser:
    """The logged-in user; the page stops if there is none."""
    user = current_user()
    if user is None:
        st.stop()
    return user


def require_researcher() -> SessionUser:
    """The user if researcher or admin; otherwise stop the page with an error."""
    user = current_user()
    if user is None or not user.is_researcher:
        st.error("This page is for researchers and admins.")
        st.stop()
    return user
