"""Google Play sync against a fake Android Publisher API on loopback: requests and memory.

    .venv/bin/python bench/sync.py

The fake API runs in a child process, so the figures below are the client's alone. It serves
reviews newest first, one minute apart, generated on demand from their index. Printed:
1. the requests an incremental sync makes when 60 of 10,000 reviews are new since the cursor;
2. tracemalloc peak and the process's resident memory for full first syncs of 2,500, 5,000 and
   10,000 reviews: a streaming fetch keeps these flat as the count grows.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.base import format_time
from connectors.google_play import GooglePlayConnector

NEWEST = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TEXT = ("The app froze twice while I was paying at the till, and the receipt never arrived. "
        "Support asked me to reinstall, which wiped my saved cards. ") * 2


def modified(index: int) -> datetime:
    return NEWEST - timedelta(minutes=index)


def fake_review(index: int) -> dict:
    return {
        "reviewId": f"gp:bench-{index:06d}",
        "authorName": f"Reviewer {index}",
        "comments": [{"userComment": {
            "text": f"Review {index}\t{TEXT}",
            "lastModified": {"seconds": str(int(modified(index).timestamp())), "nanos": 0},
            "starRating": 1 + index % 5,
            "reviewerLanguage": "en",
            "appVersionName": "4.2.13",
            "thumbsUpCount": index % 7,
        }}],
    }


class FakePlay(BaseHTTPRequestHandler):
    """`/token` and `.../applications/bench.n{total}/reviews`; the page token is an offset."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._json({"access_token": "bench-token", "expires_in": 3600, "token_type": "Bearer"})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        total = int(url.path.split("/applications/bench.n")[1].split("/")[0])
        start = int(query.get("token", ["0"])[0])
        size = int(query.get("maxResults", ["100"])[0])
        end = min(start + size, total)
        page: dict = {"reviews": [fake_review(i) for i in range(start, end)]}
        if end < total:
            page["tokenPagination"] = {"nextPageToken": str(end)}
        self._json(page)

    def _json(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def serve(port_out) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePlay)
    port_out.send(server.server_address[1])
    server.serve_forever()


def service_account() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account",
                       "client_email": "bench@example.iam.gserviceaccount.com",
                       "private_key": pem, "private_key_id": "bench",
                       "token_uri": "https://oauth2.googleapis.com/token"})


def connector(base: str, key: str, total: int, page_size: int,
              calls: Counter) -> GooglePlayConnector:
    session = requests.Session()
    session.hooks["response"].append(
        lambda response, **_: calls.update(
            ["token" if response.request.path_url.startswith("/token") else "list page"]))
    return GooglePlayConnector({"package_name": f"bench.n{total}", "service_account_json": key,
                                "base_url": base, "token_url": f"{base}/token",
                                "page_size": page_size}, session=session)


def memory() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return fields


def main() -> None:
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{receive.recv()}"
    key = service_account()
    try:
        print("Incremental sync: 10,000 reviews on the server, 60 newer than the cursor")
        since = format_time(modified(60))
        for page_size in (100, 50):
            calls: Counter = Counter()
            new = sum(1 for _ in connector(base, key, 10_000, page_size, calls).fetch(since))
            print(f"  page size {page_size:>3}: {new} new reviews; HTTP requests: "
                  f"{calls['list page']} list page(s) + {calls['token']} token "
                  f"(minimum {math.ceil(60 / page_size)} page(s))")

        print("\nFull first sync (page size 100)")
        print(f"  {'reviews':>8} {'pages':>6} {'seconds':>8} {'tracemalloc peak':>17} "
              f"{'RSS now':>8} {'RSS peak':>9}")
        for total in (2_500, 5_000, 10_000):
            calls = Counter()
            tracemalloc.start()
            started = time.perf_counter()
            count = sum(1 for _ in connector(base, key, total, 100, calls).fetch())
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rss = memory()
            assert count == total, (count, total)
            print(f"  {count:>8,} {calls['list page']:>6} {elapsed:>8.2f} "
                  f"{peak / 2**20:>14.2f} MB {rss['VmRSS']:>5} MB {rss['VmHWM']:>6} MB")
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
