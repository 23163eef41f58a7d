"""Entry point: `streamlit run app/main.py`. Login, then the pages the user's role allows."""

from __future__ import annotations

import streamlit as st

from ui.bootstrap import ensure_ready
from ui.session import current_user, log_out

st.set_page_config(page_title="AV-Geo Review", page_icon="🛰️", layout="wide")
ensure_ready()

user = current_user()
if user is None:
    page = st.navigation([st.Page("pages/login.py", title="Log in", icon=":material/login:")])
else:
    sections = {"Work": [st.Page("pages/home.py", title="Projects", icon=":material/dashboard:",
                                 default=True)]}
    if user.is_researcher:
        sections["Data"] = [st.Page("pages/data.py", title="Import & export",
                                    icon=":material/upload_file:")]
    if user.role.value == "admin":
        sections["Admin"] = [st.Page("pages/users.py", title="Users", icon=":material/group:")]
    page = st.navigation(sections)
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role.value})")
        if st.button("Log out", icon=":material/logout:"):
            log_out()
            st.rerun()
page.run()
