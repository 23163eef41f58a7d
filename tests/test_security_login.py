"""Login throttling per user name and per address, and refusals that take as long for unknown names."""

from __future__ import annotations

import time

import pytest

from annotation_db import users
from annotation_db.users import LoginThrottle, LoginThrottled, add_account, check_login


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def throttle(clock):
    return LoginThrottle(max_failures=3, window_s=600, clock=clock)


def test_a_user_name_is_refused_after_too_many_failures_even_with_the_right_password(database, throttle, clock):
    account = add_account("ann", "annotator", "correct horse")
    for _ in range(3):
        assert check_login("ann", "wrong password", "10.0.0.1", throttle=throttle) is None
    with pytest.raises(LoginThrottled, match="Too many failed logins.*Try again in 10 minutes"):
        check_login("ann", "correct horse", "10.0.0.2", throttle=throttle)  # another address too
    with pytest.raises(LoginThrottled):
        check_login(" ANN ", "correct horse", "10.0.0.3", throttle=throttle)  # same name, other spelling
    clock.now += 601  # the failures leave the window
    assert check_login("ann", "correct horse", "10.0.0.2", throttle=throttle) == account


def test_an_address_is_refused_after_failures_on_many_names(database, throttle, clock):
    account = add_account("ann", "annotator", "correct horse")
    for name in ("bob", "carol", "dave"):
        assert check_login(name, "guess", "10.0.0.9", throttle=throttle) is None
    with pytest.raises(LoginThrottled):
        check_login("ann", "correct horse", "10.0.0.9", throttle=throttle)
    assert check_login("ann", "correct horse", "10.0.0.1", throttle=throttle) == account  # other address


def test_failures_spread_over_more_than_the_window_are_not_refused(database, throttle, clock):
    account = add_account("ann", "annotator", "correct horse")
    for _ in range(6):
        assert check_login("ann", "wrong", throttle=throttle) is None
        clock.now += 301  # two failures per 10 minutes at most
    assert check_login("ann", "correct horse", throttle=throttle) == account


def test_a_good_login_clears_the_name_but_not_the_address(database, throttle, clock):
    account = add_account("ann", "annotator", "correct horse")
    for _ in range(2):
        check_login("ann", "wrong", "10.0.0.1", throttle=throttle)
    assert check_login("ann", "correct horse", "10.0.0.1", throttle=throttle) == account
    assert check_login("ann", "wrong", "10.0.0.2", throttle=throttle) is None  # name count starts again
    assert check_login("ann", "wrong", "10.0.0.2", throttle=throttle) is None
    check_login("zed", "wrong", "10.0.0.1", throttle=throttle)  # the address's third failure
    with pytest.raises(LoginThrottled):
        check_login("ann", "correct horse", "10.0.0.1", throttle=throttle)


def test_the_default_throttle_follows_the_settings(database, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    monkeypatch.setenv("LOGIN_WINDOW_MINUTES", "1")
    get_settings.cache_clear()
    users.login_throttle.cache_clear()
    try:
        add_account("ann", "annotator", "correct horse")
        check_login("ann", "wrong", "10.1.1.1")
        check_login("ann", "wrong", "10.1.1.1")
        with pytest.raises(LoginThrottled, match="1 minute\\."):
            check_login("ann", "correct horse", "10.1.1.1")
    finally:
        users.login_throttle.cache_clear()
        get_settings.cache_clear()


def test_unknown_names_cost_a_full_password_check(database, throttle):
    add_account("ann", "annotator", "correct horse")
    real_cost = users.hash_password("x")[:7]  # "$2b$12$": the bcrypt cost of stored hashes
    assert users._dummy_hash().decode()[:7] == real_cost

    def slowest_refusal(name: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert check_login(name, "wrong password", throttle=LoginThrottle(100, 60)) is None
            times.append(time.perf_counter() - started)
        return min(times)

    slowest_refusal("nobody")  # the dummy hash is made once, on first use
    known, unknown = slowest_refusal("ann"), slowest_refusal("nobody")
    assert unknown > 0.4 * known and known > 0.4 * unknown  # was 892 ms against 7.8 ms
