"""Fixtures shared by every test: the bundled policy and fresh databases on both engines.

PostgreSQL tests run when MAKERIGHT_TEST_POSTGRES_URL points at a server (CI sets it). Every
test gets a migrated database with no rows: a copy of a file migrated once per test process
(SQLite), or a schema of its own process migrated once and emptied before each test
(PostgreSQL); see tests/databases.py. Tests of the migrations themselves take
`empty_database_url`.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from connectors.auth import TOKENS
from connectors.base import Review
from connectors.rate_limits import BUDGETS
from plugin import accounts
from plugin.policy import load_policy
from plugin.store.db import Database, postgres_engine_url, scratch_schema
from tests.browser import browser, shared_chromium  # noqa: F401 (fixtures)
from tests.databases import SCHEMA_PREFIX, PostgresTemplate, copy_sqlite, migrated_sqlite

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


def pytest_xdist_auto_num_workers(config) -> int:
    """One worker per core, at most four: beyond that the workers mostly wait on the shared
    PostgreSQL server and on each other's subprocesses."""
    return max(1, min(os.cpu_count() or 1, 4))


def worksteal_shares(total: int, workers: int) -> list[int]:
    """How many tests pytest-xdist's worksteal scheduler hands each worker at the start: the
    collection in order, cut into consecutive runs of nearly equal length."""
    shares = []
    for remaining_workers in range(workers, 0, -1):
        shares.append((total - sum(shares)) // remaining_workers)
    return shares


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Each worker starts with the long tests (marked `slow` or `browser`), dealt out in turn.

    A worker runs its share from the front and an idle worker steals from the back of another's
    share, so a long test placed anywhere else may start last and keep the whole run waiting
    for it alone. Long tests first, spread over the workers' shares, leave only short tests for
    the end, where stealing evens them out. The other tests keep their order. Every worker
    collects the same items and so orders them the same way, as pytest-xdist requires.
    """
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    long = [item for item in items
            if item.get_closest_marker("slow") or item.get_closest_marker("browser")]
    if not long:
        return
    chosen = set(long)
    short = [item for item in items if item not in chosen]
    shares = worksteal_shares(len(items), workers)
    heads: list[list[pytest.Item]] = [long[worker::workers] for worker in range(workers)]
    if any(len(head) > share for head, share in zip(heads, shares, strict=True)):
        items[:] = long + short
        return
    rest = iter(short)
    items[:] = [item for head, share in zip(heads, shares, strict=True)
                for item in head + [next(rest) for _ in range(share - len(head))]]


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    """Every test starts without cached access tokens or rate budgets, as a new process would."""
    TOKENS.clear()
    BUDGETS.clear()
    yield
    TOKENS.clear()
    BUDGETS.clear()


@pytest.fixture(scope="session", autouse=True)
def _password_hashes_computed_once():
    """Each password is hashed once per test process, and each (hash, password) pair checked
    once.

    scrypt is slow on purpose (a tenth of a second of CPU a call); the suite signs in and adds
    users over and over with a handful of passwords. A password keeps one salted hash for the
    whole process, and a check gives what the real check gave for the same pair, so every
    account rule runs as in production: only the repeated key stretching is skipped.
    """
    hashes: dict[tuple[str, str], str] = {}
    checks: dict[tuple[str, str], bool] = {}
    generate, check = accounts.generate_password_hash, accounts.check_password_hash

    def generate_once(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
        if (password, method) not in hashes:
            hashes[password, method] = generate(password, method, salt_length)
        return hashes[password, method]

    def check_once(pwhash: str, password: str) -> bool:
        if (pwhash, password) not in checks:
            checks[pwhash, password] = check(pwhash, password)
        return checks[pwhash, password]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "generate_password_hash", generate_once)
        patch.setattr(accounts, "check_password_hash", check_once)
        yield


@pytest.fixture(scope="session")
def policy():
    return load_policy()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, built once per test process."""
    return migrated_sqlite(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def _postgres_reason() -> str | None:
    return postgres_reason()


@pytest.fixture(scope="session")
def postgres_template(_postgres_reason):
    """A migrated schema of this test process's own, dropped when the process ends."""
    if _postgres_reason:
        pytest.skip(_postgres_reason)
    template = PostgresTemplate(POSTGRES_URL).start()
    yield template
    template.close()


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """A migrated SQLite database of this test's own, with no rows."""
    return f"sqlite:///{copy_sqlite(sqlite_template, tmp_path / 'test.sqlite')}"


@pytest.fixture
def postgres_url(postgres_template) -> str:
    """A migrated PostgreSQL schema with no rows, for this test alone."""
    return postgres_template.fresh()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def empty_sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'empty.sqlite'}"


@pytest.fixture
def empty_postgres_url(_postgres_reason):
    """A new schema with no tables at all, dropped after the test."""
    if _postgres_reason:
        pytest.skip(_postgres_reason)
    with scratch_schema(POSTGRES_URL, f"{SCHEMA_PREFIX}{int(time.time())}_empty") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request) -> str:
    """A database with no schema, for tests that run the migrations themselves."""
    return request.getfixturevalue(f"empty_{request.param}_url")


@pytest.fixture
def database(database_url):
    db = Database(database_url)
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
            "created_at": datetime(2026, 11, 1, 9, 30, tzinfo=UTC).isoformat()}
    data.update(fields)
    return Review.from_json(data)
