"""Signed webhook ingest under gunicorn: 2,000 posts from 8 concurrent clients.

Starts gunicorn on a free loopback port against a fresh SQLite file (or the PostgreSQL URL
given with --database, which is migrated first), posts distinct signed reviews, and prints
requests/s, p50 and p99 latency and the error count. Target: p99 < 100 ms, zero errors.

    python bench/webhook_ingest.py [--requests 2000] [--clients 8] [--database URL]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugin.outbound.signing import new_secret, sign  # noqa: E402
from plugin.store import migrate  # noqa: E402
from plugin.store.db import Database, scratch_schema  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def review(index: int, run: str) -> bytes:
    return json.dumps({"platform": "google_play", "external_id": f"{run}-{index}",
                       "rating": 1 + index % 3,
                       "author": "Bench User", "language": "en",
                       "text": "The app crashed twice while I was paying and I was charged twice.",
                       "created_at": "2026-11-20T10:00:00Z"}).encode()


def client(url: str, secret: str, indices: list[int], run: str, latencies: list[float],
           errors: list[str], fresh: bool = False) -> None:
    session = requests.Session()
    for index in indices:
        if fresh:
            session = requests.Session()
        body = review(index, run)
        headers = {**sign(secret, f"msg_{uuid.uuid4().hex}", body,
                          datetime.now(UTC)).as_dict(),
                   "content-type": "application/json"}
        started = time.perf_counter()
        try:
            response = session.post(url, data=body, headers=headers, timeout=10)
            ok = response.status_code == 202
            detail = f"HTTP {response.status_code}: {response.text[:200]}"
        except requests.RequestException as exc:
            ok, detail = False, repr(exc)
        latencies.append(time.perf_counter() - started)
        if not ok:
            errors.append(detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    # SQLite has one writer: one process whose threads queue in-process is the fast layout.
    # PostgreSQL takes several processes.
    parser.add_argument("--workers", type=int, default=None, help="default: 1 (SQLite), 3")
    parser.add_argument("--threads", type=int, default=None, help="default: 8 (SQLite), 4")
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--policy", default=None, help="policy folder (default: bundled)")
    args = parser.parse_args()
    sqlite = not args.database or args.database.startswith("sqlite")
    args.workers = args.workers or (1 if sqlite else 3)
    args.threads = args.threads or (8 if sqlite else 4)

    folder = Path(tempfile.mkdtemp(prefix="makeright-bench-"))
    if sqlite:
        measure(args, args.database or f"sqlite:///{folder / 'bench.sqlite'}", folder)
    else:
        with scratch_schema(args.database, "bench") as scoped:
            measure(args, scoped, folder)


def measure(args: argparse.Namespace, url: str, folder: Path) -> None:
    database = Database(url)
    migrate.upgrade(database.engine)
    database.dispose()
    secret = new_secret()
    port = free_port()
    env = {**os.environ, "MAKERIGHT_DATABASE_URL": url, "MAKERIGHT_WEBHOOK_SECRETS": secret,
           "MAKERIGHT_SECRET_KEY": uuid.uuid4().hex * 2, "MAKERIGHT_INSTANCE": str(folder)}
    if args.policy:
        env["MAKERIGHT_POLICY_DIR"] = str(Path(args.policy).resolve())
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--threads", str(args.threads),
               "--worker-class", "gthread", "--log-level", "warning", "plugin:create_app()"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/manifest.json", process)
        target = f"{base}/webhooks/reviews"
        run = uuid.uuid4().hex[:8]
        # Warm every worker (imports, language models) over fresh connections first.
        warmers = [threading.Thread(target=client, args=(target, secret,
                                                         list(range(-100 + 10 * n, -90 + 10 * n)),
                                                         run, [], [], True))
                   for n in range(args.clients)]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()
        latencies: list[float] = []
        errors: list[str] = []
        indices = list(range(args.requests))
        threads = [threading.Thread(target=client, args=(target, secret,
                                                         indices[n::args.clients], run,
                                                         latencies, errors))
                   for n in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    engine = url.split(":", 1)[0]
    print(f"webhook ingest: {len(latencies)} signed posts, {args.clients} clients, gunicorn "
          f"{args.workers}x{args.threads} gthread, {engine}")
    print(f"requests/s {len(latencies) / elapsed:.0f}   p50 {p50:.1f} ms   p99 {p99:.1f} ms   "
          f"errors {len(errors)}")
    for detail in errors[:5]:
        print("  error:", detail)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
