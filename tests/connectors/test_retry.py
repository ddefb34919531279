"""The one backoff formula and its tenacity form: bounds, growth, the cap, and that it is the
same draw tenacity's own full-jitter wait makes."""
from __future__ import annotations

import random

import pytest
from tenacity import RetryCallState, Retrying, wait_random_exponential

from connectors.retry import backoff, exponential_window, jittered, wait_backoff


def _state(attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    return state


@pytest.mark.parametrize(("attempt", "expected"), [(0, 2.0), (1, 2.0), (2, 4.0), (4, 16.0),
                                                   (6, 50.0), (10_000, 50.0)])
def test_the_window_doubles_from_base_up_to_the_cap(attempt, expected):
    assert exponential_window(attempt, 2.0, 50.0) == expected


def test_a_draw_stays_between_the_floor_and_the_window():
    rng = random.Random(1)
    for attempt in range(1, 12):
        waits = [backoff(attempt, base=30, cap=3600, floor=15, rng=rng) for _ in range(200)]
        assert min(waits) >= 15
        assert max(waits) <= max(15, min(3600, 30 * 2 ** (attempt - 1)))
    early = [backoff(1, base=30, cap=3600, rng=rng) for _ in range(200)]
    late = [backoff(8, base=30, cap=3600, rng=rng) for _ in range(200)]
    assert sum(late) / len(late) > 10 * sum(early) / len(early)
    assert len(set(late)) > 150  # jittered, not a fixed schedule


def test_the_floor_holds_when_it_is_above_the_window():
    assert backoff(1, base=1, cap=10, floor=20, rng=random.Random(3)) == 20


@pytest.mark.parametrize("attempt", [1, 2, 3, 7, 30])
def test_the_tenacity_wait_is_tenacitys_own_full_jitter(attempt):
    random.seed(attempt)
    theirs = wait_random_exponential(multiplier=0.5, max=20)(_state(attempt))
    random.seed(attempt)
    ours = wait_backoff(0.5, 20)(_state(attempt))
    assert ours == theirs


def test_a_schedule_step_is_jittered_by_the_spread_either_way():
    rng = random.Random(5)
    waits = [jittered(300.0, 0.1, rng) for _ in range(500)]
    assert 270 <= min(waits) < 280 and 320 < max(waits) <= 330
