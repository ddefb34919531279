"""A real worker process against the fake platform, for chaos tests and the benchmark.

`python tests/pipeline/run_worker.py DB_URL BASE_URL [options]`; arms the failpoint named by
MAKERIGHT_FAILPOINT (a worker started any other way has none), and stops gracefully on SIGTERM.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fake_platform import resolver  # noqa: E402

from plugin.pipeline import failpoints  # noqa: E402
from plugin.pipeline.config import PipelineSettings  # noqa: E402
from plugin.pipeline.worker import Worker  # noqa: E402
from plugin.policy import load_policy  # noqa: E402
from plugin.runtime import install_events  # noqa: E402
from plugin.store.db import Database  # noqa: E402
from tests.roundtrips import count_round_trips  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("base_url")
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="replies posted at once (default: the pipeline's own default)")
    parser.add_argument("--name", default=None)
    parser.add_argument("--lease", type=float, default=300.0)
    parser.add_argument("--backoff", type=float, default=0.05)
    parser.add_argument("--idle", type=float, default=0.05)
    parser.add_argument("--auto-approve", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--defaults", action="store_true",
                        help="as `makeright worker` runs: the pipeline's default timings "
                             "(ignoring --lease/--backoff/--idle) and outbound events recorded")
    parser.add_argument("--round-trips", metavar="FILE",
                        help="count this process's database round trips; JSON to FILE at exit")
    args = parser.parse_args()
    failpoints.arm(os.environ.get("MAKERIGHT_FAILPOINT") or None)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        stream=sys.stderr, format="%(message)s")
    policy = load_policy()
    if args.auto_approve:
        policy = dataclasses.replace(policy, auto_approve={
            "enabled": True, "min_rating": 5, "daily_cap": 1_000_000, "delay_minutes": 0})
    settings = PipelineSettings() if args.defaults else PipelineSettings(
        lease_seconds=args.lease, backoff_base=args.backoff, backoff_max=args.backoff * 4,
        idle_seconds=args.idle)
    if args.defaults:
        install_events()
    db = Database(args.database_url)
    counts = count_round_trips(db.engine) if args.round_trips else None
    worker = Worker(db, policy, name=args.name, concurrency=args.concurrency,
                    resolve=resolver(args.base_url), settings=settings)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run(once=args.once)
    db.dispose()
    if counts is not None:
        Path(args.round_trips).write_text(json.dumps(counts.as_dict()))


if __name__ == "__main__":
    main()
