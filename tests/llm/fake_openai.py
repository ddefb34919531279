"""A small OpenAI-compatible server on loopback, scripted per test.

It serves `POST /v1/chat/completions` the way the real API shapes its answers, so the tests
exercise the real `openai` SDK end to end (HTTP, retries, timeouts, parsing). Each request takes
the next scripted step (a fixed response, or a function of the request); when the script is
empty the default responder answers. Usage is reported as request characters / 4 (no tokenizer
is installed offline), which is what the bench's tokens-per-draft figure means.

Run as a script it serves with a fixed delay for the concurrency bench.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests import loopback


@dataclass
class Step:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Responder = Callable[[dict[str, Any]], Step]
Scripted = Step | Responder


@dataclass(frozen=True)
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def answer(content: Any, *, finish_reason: str = "stop", refusal: str | None = None,
           delay: float = 0.0) -> Step:
    """A chat.completion whose message content is `content` (a dict is sent as JSON)."""
    text = json.dumps(content, ensure_ascii=False) if isinstance(content, dict) else content
    return Step(body={"_content": text, "_finish": finish_reason, "_refusal": refusal},
                delay=delay)


def error(status: int, message: str, headers: dict[str, str] | None = None,
          delay: float = 0.0) -> Step:
    return Step(status=status, headers=headers or {}, delay=delay,
                body={"error": {"message": message, "type": "invalid_request_error",
                                "param": None, "code": None}})


def request_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The answer schema of a request: response_format, or written into the prompt."""
    fmt = request.get("response_format")
    if fmt and fmt.get("type") == "json_schema":
        return fmt["json_schema"]["schema"]
    for message in request.get("messages", []):
        marker = "valid against this JSON schema:\n"
        if message["role"] == "user" and marker in message["content"]:
            tail = message["content"].split(marker, 1)[1]
            return json.JSONDecoder().raw_decode(tail)[0]
    return None


def allowed_offer_ids(request: dict[str, Any]) -> list[str]:
    schema = request_schema(request) or {}
    offer = schema.get("properties", {}).get("offer_id", {})
    return [v for v in offer.get("enum", []) if v is not None]


def review_text(request: dict[str, Any]) -> str:
    for message in request.get("messages", []):
        found = re.search(r"<review>\n(.*)\n</review>", message["content"], re.S)
        if found and message["role"] == "user":
            return found.group(1)
    return ""


def compliant(request: dict[str, Any]) -> Step:
    """A well-behaved model: a short, plain apology, the first allowed offer, no amounts."""
    ids = allowed_offer_ids(request)
    return answer({
        "categories": [], "escalate": False, "escalation_reason": None,
        "offer_id": ids[0] if ids else None,
        "reply": "Thank you for telling us, and I am sorry we let you down. Please write to "
                 "care@harbourlane.example so we can put it right. – Maya, Harbour Lane",
        "note": "Standard apology.",
    })


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog is set when the socket opens, so it must be a class attribute; the
    # default of 5 drops connections when a batch opens 16 at once.
    request_queue_size = 256


class FakeOpenAI:
    def __init__(self, default: Responder = compliant, delay: float = 0.0,
                 port: int = 0):
        self.default = default
        self.delay = delay
        self.steps: deque[Scripted] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server = _Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        args=(loopback.POLL_SECONDS,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def script(self, *steps: Scripted) -> None:
        with self._lock:
            self.steps.extend(steps)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _next(self, request: dict[str, Any]) -> Step:
        with self._lock:
            scripted = self.steps.popleft() if self.steps else self.default
        return scripted if isinstance(scripted, Step) else scripted(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed
            # ACK holds the body back ~40 ms on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(Step(404, {"error": {"message": "not found"}}))
                    return
                request = json.loads(raw)
                with fake._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    fake.requests.append(Recorded(request, headers, time.monotonic()))
                step = fake._next(request)
                wait = step.delay or fake.delay
                if wait and fake._stopping.wait(wait):
                    return
                self._send(step, request)

            def _send(self, step: Step, request: dict[str, Any] | None = None) -> None:
                body = step.body
                if isinstance(body, dict) and "_content" in body:
                    body = _completion(request or {}, body)
                data = json.dumps(body).encode()
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in step.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


def _completion(request: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    sent = json.dumps(request.get("messages", []), ensure_ascii=False)
    sent += json.dumps(request.get("response_format") or {}, ensure_ascii=False)
    content = spec["_content"]
    prompt, completion = estimate_tokens(sent), estimate_tokens(content or "")
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
        "model": request.get("model", "test-model"),
        "choices": [{"index": 0, "finish_reason": spec["_finish"], "logprobs": None,
                     "message": {"role": "assistant",
                                 "content": None if spec["_refusal"] else content,
                                 "refusal": spec["_refusal"]}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.25)
    args = parser.parse_args()
    fake = FakeOpenAI(delay=args.delay, port=args.port).start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
