"""Entry point: `streamlit run app/main.py`. Login, then the pages the user's role allows."""

from __future__ import annotations

import streamlit as st

from ui.bootstrap import ensure_ready
from ui.navigation import pages_for
from ui.session import current_user, log_out

st.set_page_config(page_title="AV-Geo Review", page_icon="🛰️", layout="wide")
ensure_ready()

user = current_user()
if user is None:
    page = st.navigation([st.Page("pages/login.py", title="Log in", icon=":material/login:")])
else:
    page = st.navigation({
        section: [st.Page(spec.script, title=spec.title, icon=spec.icon,
                          default=spec.script == "pages/home.py") for spec in specs]
        for section, specs in pages_for(user.role).items()})
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role.value})")
        if st.button("Log out", icon=":material/logout:"):
            log_out()
            st.rerun()
page.run()
