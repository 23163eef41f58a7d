"""Signed login tokens: they restore the account, expire after the idle period, and cannot be forged."""

from __future__ import annotations

import time

from annotation_db import users
from annotation_db.engine import session_scope
from annotation_db.users import account_from_token, add_account, hash_password, issue_token, system_user
from core.config import get_settings


def test_a_token_restores_its_account_until_the_idle_period_ends(database):
    account = add_account("ann", "annotator", "correct horse")
    now = time.time()
    token = issue_token(account.id, now=now)
    assert account_from_token(token, now=now + 60) == account
    idle = get_settings().session_idle_minutes * 60
    assert account_from_token(token, now=now + idle - 1) == account
    assert account_from_token(token, now=now + idle + 1) is None
    assert account_from_token(token, now=now - 3600) is None  # issued in the future


def test_the_secret_is_made_once_in_the_data_folder(database):
    first = users.session_secret()
    path = get_settings().data_dir / "secret.key"
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert users.session_secret() == first and len(first) == 64


def test_forged_tampered_and_stale_tokens_are_refused(database, monkeypatch):
    ann = add_account("ann", "annotator", "correct horse")
    boss = add_account("boss", "admin", "correct horse")
    token = issue_token(ann.id)
    payload, signature = token.split(".")
    boss_payload = issue_token(boss.id).split(".")[0]
    for bad in ("", "garbage", "a.b.c", f"{boss_payload}.{signature}", f"{payload}.{signature[:-2]}AA",
                f"{payload}x.{signature}"):
        assert account_from_token(bad) is None, bad
    # another secret: every token issued before is void
    monkeypatch.setenv("SESSION_SECRET", "another secret")
    get_settings.cache_clear()
    assert account_from_token(token) is None
    assert account_from_token(issue_token(ann.id)) == ann
    monkeypatch.delenv("SESSION_SECRET")
    get_settings.cache_clear()
    # a new password: tokens issued before it are void
    assert account_from_token(token) == ann
    with session_scope() as session:
        users.get_user(session, ann.id).password_hash = hash_password("a new password")
    assert account_from_token(token) is None


def test_system_accounts_get_no_token(database):
    with session_scope() as session:
        reference_id = system_user(session).id
    try:
        issue_token(reference_id)
    except ValueError as exc:
        assert "cannot log in" in str(exc)
    else:
        raise AssertionError("a system account got a token")
