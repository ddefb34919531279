"""Fixtures shared by every test: the bundled policy and fresh databases on both engines.

PostgreSQL tests run when MAKERIGHT_TEST_POSTGRES_URL points at a server (CI sets it); each
test gets its own schema, so runs never see each other's rows.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine

from connectors.auth import TOKENS
from connectors.rate_limits import BUDGETS
from connectors.base import Review
from plugin.policy import load_policy
from plugin.store import migrate
from plugin.store.db import Database, postgres_engine_url, scratch_schema

POSTGRES_URL = os.environ.get("MAKERIGHT_TEST_POSTGRES_URL", "")


def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    if not POSTGRES_URL:
        return "PostgreSQL tests need MAKERIGHT_TEST_POSTGRES_URL (CI sets it)"
    try:
        engine = create_engine(postgres_engine_url(POSTGRES_URL))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any driver or network failure means "not reachable"
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc.__class__.__name__}"
    return None


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    """Every test starts without cached access tokens or rate budgets, as a new process would."""
    TOKENS.clear()
    BUDGETS.clear()
    yield
    TOKENS.clear()
    BUDGETS.clear()


@pytest.fixture(scope="session")
def policy():
    return load_policy()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def postgres_url():
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    with scratch_schema(POSTGRES_URL, "t") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    migrate.upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def make_review():
    """Build a valid review through the public JSON form, overriding any field."""
    return _make_review


def _make_review(**fields) -> Review:
    data = {"platform": "google_business", "external_id": uuid.uuid4().hex, "rating": 1,
            "text": "The delivery was late and the cake arrived damaged.",
            "author": "Jane Doe",
            "created_at": datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc).isoformat()}
    data.update(fields)
    return Review.from_json(data)
