"""People who use the queue, their roles, and failed logins.

Failed logins live in the database rather than in process memory so that every gunicorn worker
(and every host behind the load balancer) counts the same attempts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from .actions import ROLES, Actor
from .store.models import Base, utcnow

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")
MIN_PASSWORD = 10
# Checked against when the account does not exist, so a wrong name costs the same time as a
# wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-for-timing")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class LoginFailureRow(Base):
    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_name_at", "name", "at"),
                      Index("ix_login_failures_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountError(ValueError):
    """A user that cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class User:
    """The signed-in person as Flask-Login sees them: detached from any database session."""

    id: int
    name: str
    role: str
    active: bool = True

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role)

    def can(self, role: str) -> bool:
        return self.actor.can(role)

    @classmethod
    def of(cls, row: UserRow) -> "User":
        return cls(row.id, row.name, row.role, row.active)


def _validate(name: str, role: str, password: str | None) -> None:
    if not NAME_RE.match(name):
        raise AccountError("A user name is 1-150 letters, digits, '.', '_', '@' or '-'.")
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")


def find_user(session: Session, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.name == name))


def add_user(session: Session, name: str, role: str, password: str) -> UserRow:
    _validate(name, role, password)
    if find_user(session, name) is not None:
        raise AccountError(f"A user named {name!r} already exists.")
    row = UserRow(name=name, role=role, password_hash=generate_password_hash(password))
    session.add(row)
    session.flush()
    return row


def set_password(row: UserRow, password: str) -> None:
    _validate(row.name, row.role, password)
    row.password_hash = generate_password_hash(password)


def set_role(session: Session, row: UserRow, role: str, active: bool) -> None:
    """Change a role or deactivate, refusing to leave the installation without an admin."""
    _validate(row.name, role, None)
    if row.role == "admin" and (role != "admin" or not active):
        others = session.scalar(select(func.count()).select_from(UserRow).where(
            UserRow.role == "admin", UserRow.active.is_(True), UserRow.id != row.id))
        if not others:
            raise AccountError("This is the last active admin; make someone else admin first.")
    row.role = role
    row.active = active


def authenticate(session: Session, name: str, password: str) -> UserRow | None:
    row = find_user(session, name)
    if row is None or not row.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(row.password_hash, password):
        return None
    row.last_login_at = utcnow()
    return row


def recent_failures(session: Session, name: str, ip: str, window: timedelta) -> tuple[int, int]:
    """(failures for this account, failures from this address) within the window."""
    since = utcnow() - window
    by_name = session.scalar(select(func.count()).select_from(LoginFailureRow).where(
        LoginFailureRow.name == name.lower(), LoginFailureRow.at >= since)) or 0
    by_ip = session.scalar(select(func.count()).select_from(LoginFailureRow).where(
        LoginFailureRow.ip == ip, LoginFailureRow.at >= since)) or 0
    return by_name, by_ip


def record_failure(session: Session, name: str, ip: str, window: timedelta) -> None:
    """Count one failed login and forget the ones too old to matter."""
    now = utcnow()
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.at < now - window * 4))
    session.add(LoginFailureRow(name=name.lower()[:150], ip=ip[:64], at=now))


def clear_failures(session: Session, name: str) -> None:
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.name == name.lower()))
