"""Admins add accounts for annotators and researchers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotation_db.models import Role
from annotation_db.users import MIN_PASSWORD_LENGTH, accounts, add_account
from ui.flash import flash, show_flashes
from ui.session import current_user

if current_user() is None or current_user().role is not Role.admin:
    st.error("This page is for admins.")
    st.stop()

st.title("Users")
show_flashes()
users = accounts()
st.dataframe(pd.DataFrame([{"Name": u.name, "Role": u.role.value,
                            "Created": u.created_at.strftime("%Y-%m-%d %H:%M")} for u in users]),
             hide_index=True)

st.subheader("Add a user")
with st.form("add_user", clear_on_submit=True):
    name = st.text_input("User name")
    role = st.selectbox("Role", [r.value for r in Role])
    password = st.text_input("Password", type="password",
                             help=f"At least {MIN_PASSWORD_LENGTH} characters")
    submitted = st.form_submit_button("Add user", type="primary")
if submitted:
    try:
        add_account(name, role, password)
        flash(f"Added {role} {name!r}.")
        st.rerun()
    except ValueError as exc:
        st.error(str(exc))
