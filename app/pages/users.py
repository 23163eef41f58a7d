"""Admins add accounts, change roles, reset passwords and deactivate accounts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from annotation_db.models import Role
from annotation_db.users import (MIN_PASSWORD_LENGTH, accounts, add_account, change_role, deactivate,
                                 reset_password)
from ui.flash import flash, show_flashes
from ui.session import current_user

if current_user() is None or current_user().role is not Role.admin:
    st.error("This page is for admins.")
    st.stop()

st.title("Users")
show_flashes()
users = accounts()
st.dataframe(pd.DataFrame([{"Name": u.name, "Role": u.role.value, "Active": u.active,
                            "Created": u.created_at.strftime("%Y-%m-%d %H:%M")} for u in users]),
             hide_index=True)

if users:
    st.subheader("Change a user")
    by_name = {u.name: u for u in users}
    with st.form("change_user", clear_on_submit=True):
        chosen = by_name[st.selectbox("User", list(by_name), key="change_name")]
        action = st.radio("Change", ["Role", "Reset password", "Deactivate"], horizontal=True)
        new_role = st.selectbox("New role", [r.value for r in Role], key="change_role",
                                help="Used when changing the role")
        new_password = st.text_input("New password", type="password", key="change_password",
                                     help=f"Used when resetting; at least {MIN_PASSWORD_LENGTH} characters. "
                                          "A reset also reactivates a deactivated account.")
        apply = st.form_submit_button("Apply")
    if apply:
        try:
            if action == "Role":
                change_role(chosen.id, new_role)
                flash(f"{chosen.name} is now {new_role}.")
            elif action == "Reset password":
                reset_password(chosen.id, new_password)
                flash(f"New password set for {chosen.name}; their earlier login links no longer work.")
            else:
                deactivate(chosen.id)
                flash(f"Deactivated {chosen.name}; their verdicts stay. A password reset lets them in again.")
            st.rerun()
        except ValueError as exc:
            st.error(str(exc))

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
