"""Users page services: change role, reset password, deactivate; the last active admin stays."""

from __future__ import annotations

import pytest

from annotation_db.models import Role
from annotation_db.users import (LoginThrottle, account_from_token, accounts, add_account, change_role,
                                 check_login, deactivate, issue_token, reset_password)


def _login(name: str, password: str):
    return check_login(name, password, throttle=LoginThrottle(100, 60))


@pytest.mark.both_databases
def test_deactivate_and_reset_password_end_logins_and_links(database):
    add_account("boss", "admin", "boss password")
    ann = add_account("ann", "annotator", "correct horse")
    token = issue_token(ann.id)
    assert deactivate(ann.id).active is False
    assert _login("ann", "correct horse") is None and account_from_token(token) is None
    assert [(a.name, a.active) for a in accounts()] == [("ann", False), ("boss", True)]
    with pytest.raises(ValueError, match="cannot log in"):
        issue_token(ann.id)
    with pytest.raises(ValueError, match="at least 8"):
        reset_password(ann.id, "short")
    assert reset_password(ann.id, "a new password").active is True
    assert _login("ann", "a new password").id == ann.id and _login("ann", "correct horse") is None
    assert account_from_token(token) is None  # a link from before the reset stays dead


@pytest.mark.both_databases
def test_roles_change_but_the_last_active_admin_stays(database):
    boss = add_account("boss", "admin", "boss password")
    ann = add_account("ann", "annotator", "correct horse")
    assert change_role(ann.id, "researcher").role is Role.researcher
    with pytest.raises(ValueError, match="last active admin"):
        change_role(boss.id, "researcher")
    with pytest.raises(ValueError, match="last active admin"):
        deactivate(boss.id)
    change_role(ann.id, "admin")
    assert deactivate(boss.id).active is False  # another admin is left
    with pytest.raises(ValueError, match="last active admin"):
        change_role(ann.id, "annotator")
    assert {a.name: a.role for a in accounts()} == {"ann": Role.admin, "boss": Role.admin}
