"""`makeright demo`: a working queue on a fresh machine with no accounts and no network.

Everything here is idempotent, because people run the README's first command more than once:
reviews are deduplicated by the store, only reviews without a draft are drafted, and the admin
user is created once.
"""
from __future__ import annotations

import os
import secrets
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select

from . import intake
from .accounts import add_user, find_user, set_password
from .drafting import draft_review, get_drafter
from .policy import Policy
from .sources.resolve import DEMO_SOURCE, demo_connector
from .store import states
from .store.db import Database, ensure_instance
from .store.models import ReviewRow
from .store.reviews import save_draft, to_review

ADMIN = "admin"


@dataclass
class DemoResult:
    counts: Counter
    password: str | None
    password_generated: bool


def load_demo(database: Database, policy: Policy, instance: Path,
              reviews: Path | None = None) -> Counter:
    """Fetch the demo source into the store and draft what has no draft yet."""
    connector = demo_connector(instance, reviews)
    drafter = get_drafter("offline")
    counts: Counter[str] = Counter()
    fetched = [replace(review, source=DEMO_SOURCE) for review in connector.fetch()]
    classified = intake.classify(fetched, policy)
    door = intake.Door("demo", answerable=type(connector).answerable)
    with database.session() as session:
        for stored in intake.store(session, classified, door):
            counts[stored.outcome] += 1
        pending = session.scalars(select(ReviewRow).where(
            ReviewRow.source == DEMO_SOURCE, ReviewRow.status == states.NEW)).all()
        for row in pending:
            save_draft(session, row, draft_review(to_review(row), policy, drafter))
            counts["drafted"] += 1
    return counts


def ensure_admin(database: Database, wanted: str | None = None) -> tuple[str | None, bool]:
    """Create the demo admin once; (password to show, whether it was generated).

    When the admin exists its password is left alone, unless `wanted` (MAKERIGHT_DEMO_PASSWORD)
    asks for a specific one, which is how someone who lost the generated password gets back in.
    """
    wanted = wanted or None
    with database.session() as session:
        row = find_user(session, ADMIN)
        if row is None:
            password = wanted or secrets.token_urlsafe(12)
            add_user(session, ADMIN, "admin", password)
            return password, wanted is None
        if wanted:
            set_password(row, wanted)
            return wanted, False
    return None, False


def secret_key_file(instance: Path) -> str:
    """The demo's session key, made once and kept in the instance folder (owner-only)."""
    path = Path(instance) / "secret_key"
    if not path.exists():
        ensure_instance(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(secrets.token_hex(32))
    return path.read_text().strip()


def prepare_demo(database: Database, policy: Policy, instance: Path,
                 password: str | None = None) -> DemoResult:
    """Load the demo and make sure its admin exists (with `password`, when one is asked for)."""
    counts = load_demo(database, policy, instance)
    password, generated = ensure_admin(database, password)
    return DemoResult(counts, password, generated)
