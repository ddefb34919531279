"""Fixtures for the integration surface: an app on a migrated SQLite file, tokens, signed
requests, a stand-in poster, and a loopback HTTP receiver for outbound deliveries."""
from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.base import Connector, PostedReply
from plugin import create_app
from plugin.api.tokens import create_token
from plugin.outbound.signing import new_secret, sign
from plugin.policy import DEFAULT_DIR
from plugin.store.db import Database
from tests import loopback
from tests.constants import TEST_FERNET_KEY, TEST_SECRET

SECRET_KEY = TEST_SECRET


@pytest.fixture(autouse=True)
def _environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAKERIGHT_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", TEST_FERNET_KEY)
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("MAKERIGHT_WEBHOOK_SECRETS", raising=False)
    monkeypatch.delenv("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", raising=False)


@pytest.fixture(scope="session")
def policy_dir(tmp_path_factory) -> str:
    """The bundled policy; a branch without the drafting prompt gets a placeholder one."""
    folder = tmp_path_factory.mktemp("policy") / "prompts"
    shutil.copytree(DEFAULT_DIR, folder)
    system = folder / "system.md"
    if not system.exists():
        system.write_text("Acknowledge, apologise, make it right within policy.\n", "utf-8")
    return str(folder)


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def db_url(sqlite_url) -> str:
    return sqlite_url


@pytest.fixture
def app(db_url, secret, policy_dir, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_POLICY_DIR", policy_dir)
    application = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": SECRET_KEY,
                              "WEBHOOK_SECRETS": secret, "WEBHOOK_WAIT_SECONDS": 2,
                              "POLICY_DIR": policy_dir})
    yield application
    application.extensions["makeright.db"].dispose()


@pytest.fixture
def db(app) -> Database:
    return app.extensions["makeright.db"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_token(db):
    def make(*scopes: str, name: str | None = None) -> str:
        with db.session() as session:
            _, plain = create_token(session, name or f"t-{uuid.uuid4().hex[:6]}", list(scopes))
        return plain

    return make


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def review_json(external_id: str = "r-1", **overrides: Any) -> dict[str, Any]:
    data = {"platform": "google_play", "external_id": external_id, "rating": 1,
            "author": "Dana Smith", "text": "The app crashes every time I open my order.",
            "created_at": "2026-11-20T10:00:00Z", "language": "en"}
    data.update(overrides)
    return data


def signed(secret: str, body: bytes, *, message_id: str | None = None,
           at: datetime | None = None) -> dict[str, str]:
    headers = sign(secret, message_id or f"msg_{uuid.uuid4().hex}", body,
                   at or datetime.now(UTC)).as_dict()
    return {**headers, "Content-Type": "application/json"}


def encode(data: Any) -> bytes:
    return json.dumps(data).encode("utf-8")


class RecordingPlatform(Connector):
    """A platform that keeps the replies written to it, reached through the real poster."""

    platform = "google_play"

    def __init__(self):
        super().__init__({})
        self.replies: dict[str, str] = {}

    def fetch(self, since=None):
        return iter(())

    def post_reply(self, review, text):
        self.replies[review.external_id] = text
        return PostedReply(text)

    def get_reply(self, review):
        text = self.replies.get(review.external_id)
        return PostedReply(text) if text is not None else None


@pytest.fixture
def poster(app) -> RecordingPlatform:
    platform = RecordingPlatform()
    app.extensions["makeright.connector_for"] = lambda source, **_: platform
    return platform


@pytest.fixture
def work(app, db, poster):
    """Run a pipeline worker over the app's database until it is idle, posting to `poster`."""
    from plugin.pipeline.config import PipelineSettings
    from plugin.pipeline.worker import Worker
    from plugin.policy import load_policy

    settings = PipelineSettings(lease_seconds=5, backoff_base=0.01, backoff_max=0.04,
                                idle_seconds=0.01)

    def run() -> dict[str, int]:
        policy = load_policy(app.config["POLICY_DIR"])
        return Worker(db, policy, name="api-worker", resolve=lambda review: poster,
                      settings=settings).run(once=True)
    return run


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A loopback HTTP server that answers from a script and records what it got."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(Received({k.lower(): v for k, v in
                                                   self.headers.items()},
                                                  self.rfile.read(length)))
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = loopback.serve(self.server)

    def close(self) -> None:
        loopback.stop(self.server, self.thread)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
