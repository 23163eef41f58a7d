"""User accounts: bcrypt-hashed passwords and roles."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Callable

import bcrypt
from sqlmodel import Session, func, select

from annotation_db.engine import session_scope
from annotation_db.models import Role, User
from core.config import get_settings

MIN_PASSWORD_LENGTH = 8
REFERENCE_USER = "reference"  # owns verdicts imported from public annotation files


class AccessDenied(PermissionError):
    """A user asked for something their role does not allow."""


@dataclass(frozen=True)
class Account:
    """A user as the pages see it (plain values, no password hash)."""

    id: int
    name: str
    role: Role
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> Account:
        """The plain view of a stored user."""
        return cls(user.id, user.name, user.role, user.created_at)


def hash_password(password: str) -> str:
    """A bcrypt hash of `password`."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def create_user(session: Session, name: str, role: Role | str, password: str) -> User:
    """Add a user who can log in; ValueError on a taken name or a short password."""
    name = name.strip()
    if not name:
        raise ValueError("user name is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.exec(select(User).where(User.name == name)).first():
        raise ValueError(f"user {name!r} already exists")
    user = User(name=name, role=Role(role), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> bytes:
    """A hash made like real ones (same cost), checked for unknown names so refusals take as long."""
    return hash_password("no account has this password").encode("ascii")


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user if name and password match, else None (system accounts never log in).

    An unknown name costs one full bcrypt check too, so the time taken does not tell names apart."""
    user = session.exec(select(User).where(User.name == name.strip())).first()
    if user is None or user.password_hash is None:
        bcrypt.checkpw(password.encode("utf-8"), _dummy_hash())
        return None
    if bcrypt.checkpw(password.encode("utf-8"), user.password_hash.encode("ascii")):
        return user
    return None


def count_login_users(session: Session) -> int:
    """How many accounts can log in (0 on a fresh database: the app asks for a first admin)."""
    return session.exec(select(func.count()).select_from(User).where(
        User.password_hash.is_not(None))).one()


def system_user(session: Session, name: str = REFERENCE_USER, role: Role = Role.annotator) -> User:
    """A non-login account (imported annotations, command-line jobs), created on first use."""
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        user = User(name=name, role=role, is_system=True)
        session.add(user)
        session.flush()
    return user


def require_role(user: User, *roles: Role) -> None:
    """AccessDenied unless `user` has one of `roles`."""
    if user.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise AccessDenied(f"{user.name} is {user.role.value}; this needs {allowed}")


def require_exporter(user) -> None:
    """AccessDenied unless `user` (a User or an Account) is a researcher or an admin."""
    if user.role not in (Role.researcher, Role.admin):
        raise AccessDenied(f"{user.name} is {user.role.value}; exports are for researchers and admins")


def list_users(session: Session) -> list[User]:
    """Accounts that can log in, by name."""
    return list(session.exec(select(User).where(User.is_system.is_(False)).order_by(User.name)))


def get_user(session: Session, user_id: int) -> User:
    """The user with this id; ValueError if there is none."""
    user = session.get(User, user_id)
    if user is None:
        raise ValueError(f"no user {user_id}")
    return user


class LoginThrottled(PermissionError):
    """Too many failed logins for this user name or address; `retry_after` seconds to wait."""

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"Too many failed logins for this user name or address. "
                         f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.")


class LoginThrottle:
    """Failed logins per key (a user name, an address) in a sliding window, kept in this process.

    A key with `max_failures` failures within `window_s` seconds is refused until the oldest of
    them leaves the window."""

    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window_s, self.clock = max_failures, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> float:
        """Seconds until every key may try again (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = [times[-self.max_failures] + self.window_s - now for key in keys
                     if len(times := self._recent(key, now)) >= self.max_failures]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        """Count one failure against each key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                self._failures[key] = self._recent(key, now)
                self._failures[key].append(now)

    def succeeded(self, key: str) -> None:
        """Forget a key's failures (the user name after a good password; not the address)."""
        with self._lock:
            self._failures.pop(key, None)


@lru_cache(maxsize=1)
def login_throttle() -> LoginThrottle:
    """The process-wide throttle, sized by LOGIN_MAX_FAILURES and LOGIN_WINDOW_MINUTES."""
    settings = get_settings()
    return LoginThrottle(settings.login_max_failures, settings.login_window_minutes * 60)


# ---- page services: plain values in and out, one transaction each ----


def count_accounts() -> int:
    """How many accounts can log in (0: the app asks for a first admin)."""
    with session_scope() as session:
        return count_login_users(session)


def add_account(name: str, role: Role | str, password: str) -> Account:
    """Create a user who can log in; ValueError on a taken name or a short password."""
    with session_scope(immediate=True) as session:
        return Account.of(create_user(session, name, role, password))


def check_login(name: str, password: str, address: str | None = None,
                throttle: LoginThrottle | None = None) -> Account | None:
    """The account if name and password match, else None.

    LoginThrottled (without checking the password) after too many recent failures for this user
    name or this address (the client's IP)."""
    throttle = throttle or login_throttle()
    keys = [f"name:{name.strip().lower()}"] + ([f"address:{address}"] if address else [])
    wait = throttle.retry_after(*keys)
    if wait > 0:
        raise LoginThrottled(wait)
    with session_scope() as session:
        user = authenticate(session, name, password)
        account = None if user is None else Account.of(user)
    if account is None:
        throttle.failed(*keys)
    else:
        throttle.succeeded(keys[0])
    return account


def accounts() -> list[Account]:
    """Accounts that can log in, by name."""
    with session_scope() as session:
        return [Account.of(user) for user in list_users(session)]
