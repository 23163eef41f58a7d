"""Who is logged in: Streamlit's per-browser-session state, backed by a signed token in the URL.

The token (`?auth=…`, signed with HMAC, see annotation_db.users.issue_token) lets a reload or a
deep link restore the login; it names the user and the time of the last page view and stops
working after SESSION_IDLE_MINUTES without one."""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from annotation_db.models import Role
from annotation_db.users import Account, account_from_token, issue_token, token_age
from core.config import get_settings

_KEY = "current_user"
_SEEN = "current_user_seen"
TOKEN_PARAM = "auth"
REFRESH_S = 60  # the URL's token is renewed at most this often


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
    """Remember `user` for this browser session and put a fresh token in the URL."""
    st.session_state[_KEY] = SessionUser(user.id, user.name, user.role)
    st.session_state[_SEEN] = time.time()
    st.query_params[TOKEN_PARAM] = issue_token(user.id)


def log_out() -> None:
    """Forget the logged-in user and drop the token from the URL."""
    st.session_state.pop(_KEY, None)
    st.session_state.pop(_SEEN, None)
    if TOKEN_PARAM in st.query_params:
        del st.query_params[TOKEN_PARAM]


def current_user() -> SessionUser | None:
    """The logged-in user, or None (also after the idle period); restored from the URL's token."""
    user: SessionUser | None = st.session_state.get(_KEY)
    now = time.time()
    idle_s = get_settings().session_idle_minutes * 60
    if user is not None and now - st.session_state.get(_SEEN, now) > idle_s:
        log_out()
        return None
    if user is None:
        token = st.query_params.get(TOKEN_PARAM)
        account = account_from_token(token) if token else None
        if account is None:
            if token:
                del st.query_params[TOKEN_PARAM]
            return None
        user = SessionUser(account.id, account.name, account.role)
        st.session_state[_KEY] = user
    st.session_state[_SEEN] = now
    token = st.query_params.get(TOKEN_PARAM)
    age = token_age(token) if token else None
    if age is None or age > REFRESH_S:  # missing (a page switch drops it) or getting old
        try:
            st.query_params[TOKEN_PARAM] = issue_token(user.id)
        except ValueError:  # the account is gone
            log_out()
            return None
    return user


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
