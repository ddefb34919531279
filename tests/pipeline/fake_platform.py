"""A fake review platform on loopback, and a connector that talks to it over real HTTP.

The server keeps one reply per review (platforms upsert) and records every write request and
every stored write, so tests can count exactly what reached the platform. It can be scripted to
answer 500 a number of times, to drop the connection after storing a reply, to already hold
someone else's reply, to delay each write, and to publish replies only after a few reads; it
knows which worker process has a write in flight, so a test can kill exactly that one.
Used by the tests and by bench/pipeline.py.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from connectors.base import Connector, PostedReply, Review
from connectors.errors import (
    NotFound,
    PermissionDenied,
    PlatformRejected,
    RateLimited,
    TransientError,
)
from tests import loopback


@dataclass
class Stored:
    text: str
    state: str
    reads: int = 0


class FakePlatform:
    def __init__(self, delay: float = 0.0, state: str = "published", publish_after_reads: int = 0):
        self.delay = delay
        self.state = state
        self.publish_after_reads = publish_after_reads
        self.replies: dict[str, Stored] = {}
        self.write_requests: list[str] = []
        self.writes: list[tuple[str, str]] = []
        self.reads: list[str] = []
        self.fail: dict[str, int] = {}
        self.drop_after_store: set[str] = set()
        self.rate_limit: dict[str, float] = {}
        #: Writes being handled now, by the process id of the worker that sent them.
        self.in_flight: dict[int, str] = {}
        self.lock = threading.Lock()
        #: Set when the platform stops: a write still "taking its time" answers at once.
        self.stopping = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    # -- scripting -------------------------------------------------------------------------
    def someone_else_replied(self, review_id: str, text: str) -> None:
        with self.lock:
            self.replies[review_id] = Stored(text, "published")

    def writes_for(self, review_id: str) -> list[str]:
        with self.lock:
            return [text for rid, text in self.writes if rid == review_id]

    def write_counts(self) -> Counter[str]:
        with self.lock:
            return Counter(rid for rid, _ in self.writes)

    # -- serving ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakePlatform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes; without this, Nagle's algorithm
            # and delayed ACKs add ~40 ms to every response on loopback.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                return

            def _review_id(self) -> str | None:
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "reviews" and parts[2] == "reply":
                    return parts[1]
                return None

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                review_id = self._review_id()
                if review_id is None:
                    return self._send(404, {"error": "not found"})
                with platform.lock:
                    platform.reads.append(review_id)
                    stored = platform.replies.get(review_id)
                    if stored is not None:
                        stored.reads += 1
                        if stored.reads >= platform.publish_after_reads:
                            stored.state = "published"
                        body = {"reply": {"text": stored.text, "state": stored.state}}
                    else:
                        body = {"reply": None}
                self._send(200, body)

            def do_PUT(self) -> None:
                review_id = self._review_id()
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                if review_id is None or not isinstance(payload.get("text"), str):
                    return self._send(400, {"error": "bad request"})
                with platform.lock:
                    platform.write_requests.append(review_id)
                    if platform.rate_limit.get(review_id):
                        after = platform.rate_limit.pop(review_id)
                        return self._send(429, {"error": "slow down"},
                                          {"Retry-After": str(int(after))})
                    if platform.fail.get(review_id, 0) > 0:
                        platform.fail[review_id] -= 1
                        return self._send(500, {"error": "backend error"})
                sender = int(self.headers.get("X-Worker-Pid", "0"))
                with platform.lock:
                    platform.in_flight[sender] = review_id
                if platform.delay:  # the platform's own latency; a stopping one answers now
                    platform.stopping.wait(platform.delay)
                with platform.lock:
                    platform.in_flight.pop(sender, None)
                    state = "published" if platform.publish_after_reads == 0 else platform.state
                    platform.replies[review_id] = Stored(payload["text"], state)
                    platform.writes.append((review_id, payload["text"]))
                    drop = review_id in platform.drop_after_store
                    platform.drop_after_store.discard(review_id)
                if drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._send(200, {"reply": {"text": payload["text"], "state": state}})

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        loopback.serve(self.server)
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.server is not None:
            loopback.stop(self.server)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (a killed worker, a timeout) is expected here."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeConnector(Connector):
    """A connector in the shape of the real ones: typed errors, one session per thread."""

    platform = "google_business"

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self.base_url = settings["base_url"].rstrip("/")
        self.timeout = float(settings.get("timeout", 5.0))
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.trust_env = False  # loopback only; skip the per-request proxy lookup
            self._local.session = session
        return self._local.session

    def fetch(self, since: str | None = None) -> Iterator[Review]:
        return iter(())

    def _call(self, method: str, review: Review, body: dict | None = None) -> dict:
        url = f"{self.base_url}/reviews/{review.external_id}/reply"
        try:
            response = self.http.request(method, url, json=body, timeout=self.timeout,
                                         headers={"X-Worker-Pid": str(os.getpid())})
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"{method} {url}: {exc.__class__.__name__}") from exc
        status = response.status_code
        if status == 429:
            raise RateLimited("rate limited", status=status,
                              retry_after=float(response.headers.get("Retry-After", 0)))
        if status >= 500:
            raise TransientError(f"platform error {status}", status=status)
        if status == 404:
            raise NotFound("review not found", status=status)
        if status == 403:
            raise PermissionDenied("forbidden", status=status)
        if status >= 400:
            raise PlatformRejected("rejected", status=status, platform_message=response.text)
        return response.json()

    def get_reply(self, review: Review) -> PostedReply | None:
        reply = self._call("GET", review).get("reply")
        if not reply:
            return None
        return PostedReply(reply["text"], datetime.now(UTC), reply["state"])

    def post_reply(self, review: Review, text: str) -> PostedReply:
        reply = self._call("PUT", review, {"text": text})["reply"]
        return PostedReply(reply["text"], datetime.now(UTC), reply["state"])


def resolver(base_url: str):
    connector = FakeConnector({"base_url": base_url})
    return lambda review: connector
