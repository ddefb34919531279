"""Bearer tokens for the REST API: created once, stored as a hash, revocable, scoped.

A token's scopes decide which routes it may call and the role it acts with, so the permission
rules of the actions (who may approve, who may edit) hold for integrators as for people.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import g, request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..actions import Actor
from ..context import get_db
from ..store.models import utcnow
from .common import ApiError
from .models import ApiToken

READ, WRITE, APPROVE, POST = "reviews:read", "reviews:write", "replies:approve", "replies:post"
SCOPES: dict[str, str] = {
    READ: "List and read reviews, drafts and history.",
    WRITE: "Create reviews, request and edit drafts, skip reviews.",
    APPROVE: "Approve replies (acts with the approver role).",
    POST: "Post approved replies to the platform.",
}
TOKEN_PREFIX = "mrt_"
TOUCH_EVERY = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Store a new token and return it with its plain value, which is never shown again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r} (use {', '.join(SCOPES)})")
    if not scopes:
        raise ValueError("a token needs at least one scope")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, prefix=plain[:10], token_hash=hash_token(plain),
                   scopes=sorted(set(scopes)))
    session.add(row)
    session.flush()
    return row, plain


def revoke_token(session: Session, token_id: int) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def actor_for(token: ApiToken) -> Actor:
    """The role a token acts with: the strongest its scopes imply."""
    scopes = set(token.scopes)
    role = "approver" if scopes & {APPROVE, POST} else "editor" if WRITE in scopes else "viewer"
    return Actor(f"token:{token.name}", role)


@dataclass(frozen=True)
class Caller:
    token_id: int
    scopes: frozenset[str]
    actor: Actor


def authenticate() -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "unauthorized", "Send `Authorization: Bearer <token>`.")
    digest = hash_token(value.strip())
    # Read without the write lock; the touch, when due (rarely), is a write of its own.
    with get_db().session(read_only=True) as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if token is None or token.revoked_at is not None:
            raise ApiError(401, "unauthorized", "The token is unknown or revoked.")
        caller = Caller(token.id, frozenset(token.scopes), actor_for(token))
        last_used = token.last_used_at
    now = utcnow()
    if last_used is None or now - last_used > TOUCH_EVERY:
        with get_db().session() as session:
            session.execute(update(ApiToken).where(ApiToken.id == caller.token_id)
                            .values(last_used_at=now))
    return caller


def require_scope(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Authenticate the bearer token and insist on one scope before the view runs."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = authenticate()
            if scope not in caller.scopes:
                raise ApiError(403, "insufficient_scope", f"This operation needs the {scope} "
                                                          "scope.")
            g.caller = caller
            return view(*args, **kwargs)

        wrapper.required_scope = scope  # type: ignore[attr-defined]
        return wrapper

    return decorate
