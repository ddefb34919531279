"""Chaos: two worker processes post a backlog while one of them is killed with SIGKILL in the
middle of a platform write, five times, on both engines.

A killed worker never records its outcome, and the platform may or may not have stored its
write; the surviving workers' reapers must settle each such post by reading the platform. At
the end every approved reply is on the platform exactly once, none is lost, and the replies
someone else wrote are still there. The figures are printed (run with -s to see them).
"""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import load

from plugin.store import states
from plugin.store.models import DraftRow, ReviewRow
from tests.waiting import wait_for

RUN_WORKER = Path(__file__).resolve().parent / "run_worker.py"
KILLS = 5
BACKLOG, THEIRS = 30, 3
#: Each write takes this long on the platform: the window in which a worker is killed.
WRITE_SECONDS = 0.3
#: Longer than a whole post takes on a busy machine, so a live worker is never reaped.
LEASE_SECONDS = 4.0


def start_worker(database_url: str, base_url: str, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(RUN_WORKER), database_url, base_url, "--name", name,
         "--lease", str(LEASE_SECONDS), "--backoff", "0.05", "--idle", "0.05", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_killing_workers_mid_post_loses_and_duplicates_nothing(database, database_url, approved,
                                                               platform, capsys):
    engine = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    ours = [approved() for _ in range(BACKLOG)]
    held = [approved() for _ in range(THEIRS)]
    for _, external_id in held:
        platform.someone_else_replied(external_id, f"Sorted by phone ({external_id[:6]}). — Owner")
    platform.delay = WRITE_SECONDS
    workers = {n: start_worker(database_url, platform.base_url, f"w{n}") for n in (1, 2)}
    killed: list[tuple[str, str]] = []
    try:
        for round_ in range(KILLS):
            def victim():
                with platform.lock:
                    flying = dict(platform.in_flight)
                return next(((n, flying[p.pid]) for n, p in workers.items()
                             if p.pid in flying and p.poll() is None), None)

            number, external_id = wait_for(victim, 90, f"a write in flight (kill {round_ + 1})",
                                           step=0.005)
            workers[number].send_signal(signal.SIGKILL)
            assert workers[number].wait(timeout=30) == -signal.SIGKILL
            killed.append((f"w{number}", external_id))
            replacement = 10 * (round_ + 1) + number
            workers[replacement] = start_worker(database_url, platform.base_url,
                                                f"w{replacement}")
            del workers[number]

        def settled():
            with database.session() as session:
                return session.query(ReviewRow).filter(
                    ReviewRow.status.in_([states.APPROVED, states.POSTING])).count() == 0

        wait_for(settled, 180, "every post to settle", step=0.1)
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    counts = platform.write_counts()
    with database.session() as session:
        texts = {rid: session.get(DraftRow, session.get(ReviewRow, rid).current_draft_id).text
                 for rid, _ in ours}
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lost = sum(1 for rid, external_id in ours
               if load(database, rid).status != states.POSTED
               or platform.writes_for(external_id) != [texts[rid]])
    overwritten = sum(1 for rid, external_id in held
                      if platform.writes_for(external_id)
                      or load(database, rid).status != states.NEEDS_ATTENTION)
    writes = sum(counts.values())
    with capsys.disabled():
        print(f"\n{engine}: {len(killed)} workers killed mid-write "
              f"({', '.join(f'{w} on {e[:8]}' for w, e in killed)}); approved {BACKLOG + THEIRS} "
              f"({THEIRS} with someone else's reply); writes {writes} for {BACKLOG} postable, "
              f"duplicates {duplicates}, lost {lost}, overwritten {overwritten}, write requests "
              f"{len(platform.write_requests)}")
    assert len(killed) == KILLS
    assert writes == BACKLOG and duplicates == 0 and lost == 0 and overwritten == 0
    assert set(counts) == {external_id for _, external_id in ours}
