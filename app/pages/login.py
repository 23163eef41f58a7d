"""Log in; on a database with no users, create the first admin instead."""

from __future__ import annotations

import streamlit as st

from annotation_db.models import Role
from annotation_db.users import MIN_PASSWORD_LENGTH, LoginThrottled, add_account, check_login, count_accounts
from ui.session import log_in

first_run = count_accounts() == 0

st.title("AV-Geo Review")
if first_run:
    st.info("No accounts yet: create the first admin account.")
    with st.form("first_admin"):
        name = st.text_input("Admin user name", value="admin")
        password = st.text_input("Password", type="password",
                                 help=f"At least {MIN_PASSWORD_LENGTH} characters")
        repeat = st.text_input("Repeat password", type="password")
        submitted = st.form_submit_button("Create admin and log in", type="primary")
    if submitted:
        if password != repeat:
            st.error("The passwords do not match.")
        else:
            try:
                log_in(add_account(name, Role.admin, password))
                st.rerun()
            except ValueError as exc:
                st.error(str(exc))
else:
    with st.form("login"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            user = check_login(name, password, st.context.ip_address)
        except LoginThrottled as exc:
            st.error(str(exc))
        else:
            if user is None:
                st.error("Unknown user name or wrong password.")
            else:
                log_in(user)
                st.rerun()
