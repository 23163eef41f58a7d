"""User accounts: bcrypt-hashed passwords and roles."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
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
    active: bool = True  # False: deactivated (no password; a password reset lets them in again)

    @classmethod
    def of(cls, user: User) -> Account:
        """The plain view of a stored user."""
        return cls(user.id, user.name, user.role, user.created_at, user.password_hash is not None)


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


# ---- login tokens: signed, carried by the browser, so a reload or a deep link stays logged in ----


def session_secret() -> bytes:
    """The key that signs login tokens: SESSION_SECRET, else <data_dir>/secret.key (made on first use)."""
    settings = get_settings()
    if settings.session_secret:
        return settings.session_secret.encode("utf-8")
    path = settings.data_dir / "secret.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("ascii")


def _signature(payload: str, password_hash: str) -> str:
    # the password hash is part of the key: a new password ends every token issued before it
    key = session_secret() + b"|" + password_hash.encode("ascii")
    return base64.urlsafe_b64encode(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
                                    ).decode("ascii").rstrip("=")


def issue_token(user_id: int, now: float | None = None) -> str:
    """A signed token naming the user and the time of their last activity."""
    with session_scope() as session:
        user = get_user(session, user_id)
        if user.password_hash is None:
            raise ValueError(f"{user.name} cannot log in")
        payload = base64.urlsafe_b64encode(json.dumps(
            {"u": user.id, "t": int(time.time() if now is None else now)}).encode()).decode("ascii").rstrip("=")
        return f"{payload}.{_signature(payload, user.password_hash)}"


def token_age(token: str) -> float | None:
    """Seconds since `token` was issued (its signature unchecked), or None if it is malformed."""
    try:
        payload = token.split(".")[0]
        return time.time() - json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["t"]
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def account_from_token(token: str, now: float | None = None) -> Account | None:
    """The account a token names if its signature holds and it was issued within the idle period."""
    try:
        payload, signature = token.split(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        user_id, issued = int(data["u"]), float(data["t"])
    except (ValueError, KeyError, TypeError):
        return None
    now = time.time() if now is None else now
    if not -5 <= now - issued <= get_settings().session_idle_minutes * 60:
        return None
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or user.password_hash is None or user.is_system:
            return None
        if not hmac.compare_digest(signature, _signature(payload, user.password_hash)):
            return None
        return Account.of(user)


def accounts() -> list[Account]:
    """People's accounts (active or deactivated), by name."""
    with session_scope() as session:
        return [Account.of(user) for user in list_users(session)]


def _person(session: Session, user_id: int) -> User:
    user = get_user(session, user_id)
    if user.is_system:
        raise ValueError(f"{user.name} is a system account")
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """ValueError if `user` is the last active admin (the app would have no one to manage it)."""
    if user.role is Role.admin and user.password_hash is not None:
        others = session.exec(select(func.count()).select_from(User).where(
            User.role == Role.admin, User.password_hash.is_not(None), User.id != user.id)).one()
        if not others:
            raise ValueError(f"{user.name} is the last active admin")


def change_role(user_id: int, role: Role | str) -> Account:
    """Give a user another role; ValueError for the last active admin."""
    role = Role(role)
    with session_scope(immediate=True) as session:
        user = _person(session, user_id)
        if role is not Role.admin:
            _keep_an_admin(session, user)
        user.role = role
        session.add(user)
        return Account.of(user)


def reset_password(user_id: int, password: str) -> Account:
    """Set a new password (it also reactivates a deactivated account and ends its login links)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    with session_scope(immediate=True) as session:
        user = _person(session, user_id)
        user.password_hash = hash_password(password)
        session.add(user)
        return Account.of(user)


def deactivate(user_id: int) -> Account:
    """Stop a user logging in (their verdicts stay); ValueError for the last active admin."""
    with session_scope(immediate=True) as session:
        user = _person(session, user_id)
        _keep_an_admin(session, user)
        user.password_hash = None
        session.add(user)
        return Account.of(user)
