"""The sign-in delay on both engines, with a clock the test controls."""
from __future__ import annotations

from datetime import timedelta

from plugin.accounts import (
    LoginFailureRow,
    Throttle,
    clear_failures,
    record_failure,
    wait_before_attempt,
)
from plugin.store.models import utcnow

RULES = Throttle(free_attempts=3, free_attempts_per_address=5, base_delay=1, max_delay=60,
                 window=timedelta(hours=1))


def _fail(session, name: str, ip: str, at) -> None:
    session.add(LoginFailureRow(name=name, ip=ip, at=at))
    session.flush()


def test_the_wait_doubles_per_pair_and_runs_out(database):
    now = utcnow()
    with database.session() as session:
        for seconds in (40, 30, 20):
            _fail(session, "maya", "203.0.113.9", now - timedelta(seconds=seconds))
        # Three failures are free, the last was 20 s ago, the fourth attempt waits 1 s from it.
        assert wait_before_attempt(session, "maya", "203.0.113.9", RULES, now) == 0
        _fail(session, "maya", "203.0.113.9", now)
        assert wait_before_attempt(session, "maya", "203.0.113.9", RULES, now) == 2
        _fail(session, "maya", "203.0.113.9", now)
        assert wait_before_attempt(session, "maya", "203.0.113.9", RULES, now) == 4
        assert wait_before_attempt(session, "maya", "203.0.113.9", RULES,
                                   now + timedelta(seconds=4)) == 0
        assert wait_before_attempt(session, "maya", "198.51.100.7", RULES, now) == 0
        assert wait_before_attempt(session, "MAYA", "203.0.113.9", RULES, now) == 4


def test_the_wait_is_capped_and_old_failures_are_forgotten(database):
    now = utcnow()
    with database.session() as session:
        for _ in range(30):
            _fail(session, "maya", "203.0.113.9", now)
        assert wait_before_attempt(session, "maya", "203.0.113.9", RULES, now) == 60
        assert wait_before_attempt(session, "maya", "203.0.113.9", RULES,
                                   now + timedelta(hours=2)) == 0


def test_one_address_across_many_names(database):
    now = utcnow()
    with database.session() as session:
        for number in range(6):
            _fail(session, f"user{number}", "203.0.113.9", now)
        assert wait_before_attempt(session, "someone-else", "203.0.113.9", RULES, now) == 2
        assert wait_before_attempt(session, "someone-else", "198.51.100.7", RULES, now) == 0


def test_success_clears_only_its_own_pair(database):
    with database.session() as session:
        for _ in range(3):
            record_failure(session, "maya", "203.0.113.9", RULES)
            record_failure(session, "maya", "198.51.100.7", RULES)
        clear_failures(session, "maya", "198.51.100.7")
        session.flush()
        remaining = {(row.name, row.ip) for row in session.query(LoginFailureRow)}
    assert remaining == {("maya", "203.0.113.9")}
