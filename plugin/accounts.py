"""People who use the queue, their roles and passwords, their sessions, and failed sign-ins.

Sessions: each user row carries a session generation that is also written into the session
cookie (Flask-Login's user id is "id:generation"). Signing out, changing the password and
deactivating bump it, so every cookie issued before stops working at once, on every device,
although the cookie itself is signed and still unexpired.

Failed sign-ins live in the database rather than in process memory so that every gunicorn
worker (and every host behind the load balancer) counts the same attempts. They slow the
attacker, not the owner: the delay grows per (account, address) pair, doubling with every
failure past a few free ones, and attempts refused while waiting count too. The owner signing in
from their own address is never held up by someone guessing from another; one address guessing
at many accounts is slowed the same way across all of them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Index, Integer, String, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from .actions import ROLES, Actor
from .errors import MakeRightError
from .store.models import Base, utcnow

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")
MIN_PASSWORD, MAX_PASSWORD = 10, 200
# zxcvbn's score (0-4) is an estimate of guesses; 3 is "safely unguessable" against an online
# attack slowed by the sign-in delay and the password hash.
MIN_STRENGTH = 3
# zxcvbn's matching grows fast with length; what is past this is strength it need not see.
STRENGTH_CHARS = 64
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
    session_generation: Mapped[int] = mapped_column(Integer, default=0,
                                                    server_default=text("0"))
    # The language this person reads reviews in; None follows the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(35))


class LoginFailureRow(Base):
    """One failed or refused sign-in; the throttle reads them per pair and per address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_name_ip_at", "name", "ip", "at"),
                      Index("ix_login_failures_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountError(MakeRightError, ValueError):
    """A user that cannot be created or changed as asked; the message says why."""

    code = "invalid_account"
    status = 422



class WrongPassword(AccountError):
    """The current password given to change it was not the right one."""

    code = "wrong_password"



@dataclass(frozen=True)
class User:
    """The signed-in person as Flask-Login sees them: detached from any database session."""

    id: int
    name: str
    role: str
    active: bool = True
    generation: int = 0

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
        """What the session cookie holds: the id and the generation it was issued under."""
        return f"{self.id}:{self.generation}"

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role)

    def can(self, role: str) -> bool:
        return self.actor.can(role)

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.name, row.role, row.active, row.session_generation)


def session_user(session: Session, session_id: str) -> User | None:
    """The user a session cookie names, if that session has not been ended since.

    A cookie from before generations existed (a bare id) is treated as ended: signing in again
    once is the price of being able to end sessions at all.
    """
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and generation.isascii()
            and generation.isdigit()) or len(user_id) > 10:
        return None
    row = session.get(UserRow, int(user_id))
    if row is None or not row.active or row.session_generation != int(generation):
        return None
    return User.of(row)


def end_sessions(row: UserRow) -> None:
    """Make every session cookie issued to this user so far stop working."""
    row.session_generation = (row.session_generation or 0) + 1


def check_password(name: str, password: str) -> None:
    """Refuse a password an attacker would try early; the message says what to do instead.

    Length first, then the person's own name (equal to it or containing it), then zxcvbn's
    estimate, which knows common passwords, keyboard walks, repeats, dates and l33t spellings.
    """
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"A password may have at most {MAX_PASSWORD} characters.")
    folded, who = password.casefold(), name.casefold()
    if folded == who or (len(who) >= 3 and who in folded):
        raise AccountError("The password must not contain the user name.")
    from zxcvbn import zxcvbn  # its word lists load on first use, not with every command

    result = zxcvbn(password[:STRENGTH_CHARS], user_inputs=[name, "makeright", "make right"])
    if result["score"] < MIN_STRENGTH:
        feedback = result["feedback"]
        reasons = " ".join(part for part in [feedback.get("warning") or "",
                                             *feedback.get("suggestions", [])] if part)
        raise AccountError("This password is too easy to guess. " + (reasons + " " if reasons
                                                                    else "")
                           + "A few unrelated words, or a short sentence only you would write, "
                             "make a strong password.")


def _validate(name: str, role: str, password: str | None) -> None:
    if not NAME_RE.match(name):
        raise AccountError("A user name is 1-150 letters, digits, '.', '_', '@' or '-'.")
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    if password is not None:
        check_password(name, password)


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
    """A new password; every session signed in with the old one ends."""
    _validate(row.name, row.role, password)
    row.password_hash = generate_password_hash(password)
    end_sessions(row)


def change_password(row: UserRow, current: str, new: str) -> None:
    """A person changing their own password must know the one they have."""
    if not check_password_hash(row.password_hash, current):
        raise WrongPassword("The current password is not right.")
    if current == new:
        raise AccountError("The new password must differ from the current one.")
    set_password(row, new)


def set_role(session: Session, row: UserRow, role: str, active: bool) -> None:
    """Change a role or deactivate, refusing to leave the installation without an admin."""
    _validate(row.name, role, None)
    if row.role == "admin" and (role != "admin" or not active):
        others = session.scalar(select(func.count()).select_from(UserRow).where(
            UserRow.role == "admin", UserRow.active.is_(True), UserRow.id != row.id))
        if not others:
            raise AccountError("This is the last active admin; make someone else admin first.")
    if row.active and not active:
        end_sessions(row)
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


@dataclass(frozen=True)
class Throttle:
    """How sign-in failures slow the next attempt (the app's LOGIN_* settings)."""

    free_attempts: int = 3
    free_attempts_per_address: int = 20
    base_delay: float = 1.0
    max_delay: float = 900.0
    window: timedelta = timedelta(hours=1)

    def delay(self, failures: int, free: int) -> float:
        """Seconds to wait after the last of `failures`: none for the first `free`, then 1 s,
        2 s, 4 s ... up to `max_delay`."""
        if failures < free:
            return 0.0
        return min(self.base_delay * 2.0 ** min(failures - free, 60), self.max_delay)


def wait_before_attempt(session: Session, name: str, ip: str, throttle: Throttle,
                        now: datetime | None = None) -> int:
    """Whole seconds before this address may try this account again (0: now)."""
    now = now or utcnow()
    since = now - throttle.window
    pair = session.execute(select(func.count(), func.max(LoginFailureRow.at)).where(
        LoginFailureRow.name == _key(name), LoginFailureRow.ip == ip[:64],
        LoginFailureRow.at >= since)).one()
    address = session.execute(select(func.count(), func.max(LoginFailureRow.at)).where(
        LoginFailureRow.ip == ip[:64], LoginFailureRow.at >= since)).one()
    wait = 0.0
    for (count, last), free in ((pair, throttle.free_attempts),
                                (address, throttle.free_attempts_per_address)):
        if last is not None:
            wait = max(wait, (last - now).total_seconds() + throttle.delay(count, free))
    return math.ceil(wait) if wait > 0 else 0


def record_failure(session: Session, name: str, ip: str, throttle: Throttle) -> None:
    """Count one failed or refused sign-in and forget the ones too old to matter."""
    now = utcnow()
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.at < now - throttle.window))
    session.add(LoginFailureRow(name=_key(name), ip=ip[:64], at=now))


def clear_failures(session: Session, name: str, ip: str) -> None:
    """After a successful sign-in: this address's failures for this account only, so the
    owner signing in never resets what an attacker elsewhere has earned."""
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.name == _key(name),
                                                  LoginFailureRow.ip == ip[:64]))


def _key(name: str) -> str:
    return name.lower()[:150]
