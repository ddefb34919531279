"""PostgreSQL scale-out: twenty workers claiming with SKIP LOCKED, every reply exactly once."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from plugin.pipeline.worker import Worker
from plugin.store.db import Database


@pytest.fixture
def database(postgres_url):
    db = Database(postgres_url, pool_size=25, max_overflow=5)
    yield db
    db.dispose()


@pytest.mark.slow
def test_twenty_workers_post_two_hundred_replies_exactly_once(database, policy, approved,
                                                              platform, connector, fast):
    """Twenty worker threads over 200 approved reviews: every reply reaches the platform once,
    and the work is spread (SKIP LOCKED passes over claimed rows instead of queueing)."""
    reviews = [approved() for _ in range(200)]
    platform.delay = 0.005

    def run(n: int) -> int:
        # One posting thread each: twenty claimants, one connection each from the pool.
        worker = Worker(database, policy, name=f"w{n}", resolve=lambda review: connector,
                        settings=fast, concurrency=1)
        return worker.run(once=True).get("post", 0)

    with ThreadPoolExecutor(20) as pool:
        per_worker = list(pool.map(run, range(20)))
    assert sum(per_worker) == 200
    assert sum(1 for n in per_worker if n) > 1
    counts = platform.write_counts()
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert len(platform.write_requests) == 200
    assert {external_id for _, external_id in reviews} == set(counts)
