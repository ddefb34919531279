"""The connector contract is open: a platform MakeRight has never heard of, installed as a
package of its own, goes through the ordinary command line and API from sync to posted reply.

`makeright-feedbackhub/` is built and installed with pip into a folder of its own, and every
MakeRight process here runs as a subprocess that sees that folder on PYTHONPATH, exactly as
it would see a package installed beside it. Its platform talks HTTP to a loopback server.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.constants import TEST_FERNET_KEY, TEST_SECRET
from tests.loopback import serve, stop
from tests.waiting import wait_for

PACKAGE = Path(__file__).parent / "makeright-feedbackhub"
BIN = Path(sys.executable).parent
KEY = "fh-key-0042"
REVIEW = {"id": "fh-1", "stars": 3, "author": "Robin Vale", "lang": "en",
          "body": "The coffee was good but we waited twenty minutes for a table."}


class FeedbackHub:
    """The platform: serves one review and keeps every reply written to it, in order."""

    def __init__(self) -> None:
        self.puts: list[str] = []
        self.reply: str | None = None
        self.unauthorised = 0
        hub = self
        written = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {KEY}":
                    return True
                hub.unauthorised += 1
                self._answer(401, {"error": "bad key"})
                return False

            def do_GET(self):  # noqa: N802
                if not self._authorised():
                    return
                if self.path.startswith("/v1/reviews?") or self.path == "/v1/reviews":
                    self._answer(200, {"reviews": [{**REVIEW, "written_at": written}]})
                elif self.path == f"/v1/reviews/{REVIEW['id']}/reply" and hub.reply is not None:
                    self._answer(200, {"text": hub.reply})
                else:
                    self._answer(404, {"error": "not found"})

            def do_PUT(self):  # noqa: N802
                if not self._authorised():
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hub.puts.append(body["text"])
                hub.reply = body["text"]
                self._answer(200, {"text": body["text"]})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread: threading.Thread = serve(self.server)

    def close(self) -> None:
        stop(self.server, self.thread)


@pytest.fixture
def hub() -> Iterator[FeedbackHub]:
    platform = FeedbackHub()
    yield platform
    platform.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The package built and installed by pip, offline, into a folder of its own."""
    source = tmp_path_factory.mktemp("src") / PACKAGE.name
    shutil.copytree(PACKAGE, source)  # a build writes beside the sources; keep the repo clean
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--no-index", "--target", str(target),
                           str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(target.glob("makeright_feedbackhub-*.dist-info"))
    return target


@pytest.fixture
def environment(site, tmp_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MAKERIGHT_")}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(site),
                                                        os.environ.get("PYTHONPATH")])),
               MAKERIGHT_INSTANCE=str(tmp_path / "instance"),
               MAKERIGHT_SECRET_KEY=TEST_SECRET, MAKERIGHT_SECRET_KEYS=TEST_FERNET_KEY,
               FH_KEY=KEY)
    return env


def makeright(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "makeright"), *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"makeright {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """`makeright serve` on a loopback port; yields its base address."""
    port = free_port()
    process = subprocess.Popen([str(BIN / "makeright"), "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            return requests.get(f"{base}/openapi.json", timeout=1).ok
        except requests.ConnectionError:
            return False

    try:
        wait_for(answering, 60, "makeright serve to answer")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_an_installed_platform_is_synced_drafted_approved_and_answered(hub, environment):
    makeright(environment, "source", "add", "feedbackhub", "hub", "--set",
              f"base_url={hub.url}", "--secret-env", "api_key=FH_KEY")
    assert "1 new" in makeright(environment, "sync", "hub")
    makeright(environment, "worker", "--once")
    token = makeright(environment, "token", "create", "thirdparty", "--scopes",
                      "reviews:read,replies:approve,replies:post").strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    with serving(environment) as base:
        schema = requests.get(f"{base}/openapi.json", timeout=10).json()
        platform = schema["components"]["schemas"]["ReviewInput"]["properties"]["platform"]
        assert "feedbackhub" in platform["enum"]
        listed = requests.get(f"{base}/api/v1/reviews", params={"platform": "feedbackhub"},
                              headers=headers, timeout=10).json()["reviews"]
        assert [r["external_id"] for r in listed] == ["fh-1"]
        found = requests.get(f"{base}/api/v1/reviews/{listed[0]['id']}", headers=headers,
                             timeout=10).json()
        draft = found["draft"]
        assert found["review"]["status"] == "drafted" and draft["text"]
        approved = requests.post(f"{base}/api/v1/reviews/{listed[0]['id']}/approve",
                                 json={"draft_version": draft["version"], "post": True},
                                 headers=headers, timeout=10)
        assert approved.status_code == 202, approved.text
    makeright(environment, "worker", "--once")
    assert hub.puts == [draft["text"]] and hub.unauthorised == 0
