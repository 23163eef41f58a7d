"""Keeping a viewed item's short view lease while its page stays open without any click."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import streamlit as st

from annotation_db.assignment import view_lease_length

RENEW_SHARE = 0.5  # renew when half the view lease is left, so one late run does not lose the item


def keep_view_lease(claim: Callable[[], Any], key: str) -> None:
    """Call `claim` (the page's claim service, which renews the user's open lease) every half view lease
    while the page is open, in a fragment of its own: nothing else of the page reruns."""
    every = max(view_lease_length() * RENEW_SHARE, timedelta(seconds=1))
    stamp = f"_lease_renewed_{key}"
    st.session_state.setdefault(stamp, time.monotonic())  # the page's own claim has just renewed it

    @st.fragment(run_every=every)
    def renew() -> None:
        if time.monotonic() - st.session_state[stamp] >= every.total_seconds() * 0.9:
            claim()
            st.session_state[stamp] = time.monotonic()

    renew()
