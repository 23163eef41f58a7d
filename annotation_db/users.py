"""User accounts: bcrypt-hashed passwords and roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import bcrypt
from sqlmodel import Session, func, select

from annotation_db.engine import session_scope
from annotation_db.models import Role, User

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


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user if name and password match, else None (system accounts never log in)."""
    user = session.exec(select(User).where(User.name == name.strip())).first()
    if user is None or user.password_hash is None:
        bcrypt.checkpw(b"timing", bcrypt.hashpw(b"x", bcrypt.gensalt(4)))  # same cost either way
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


# ---- page services: plain values in and out, one transaction each ----


def count_accounts() -> int:
    """How many accounts can log in (0: the app asks for a first admin)."""
    with session_scope() as session:
        return count_login_users(session)


def add_account(name: str, role: Role | str, password: str) -> Account:
    """Create a user who can log in; ValueError on a taken name or a short password."""
    with session_scope(immediate=True) as session:
        return Account.of(create_user(session, name, role, password))


def check_login(name: str, password: str) -> Account | None:
    """The account if name and password match, else None."""
    with session_scope() as session:
        user = authenticate(session, name, password)
        return None if user is None else Account.of(user)


def accounts() -> list[Account]:
    """Accounts that can log in, by name."""
    with session_scope() as session:
        return [Account.of(user) for user in list_users(session)]
