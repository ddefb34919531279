"""Posting in parallel by default, within what each platform takes.

A worker with default settings posts `MAKERIGHT_WORKER_POST_CONCURRENCY` (4) replies at once;
a connector whose platform holds parallel requests against the caller (`parallel_writes`, the
App Store's 1) is never sent more than that at a time, whatever the worker's concurrency.
"""
from __future__ import annotations

import threading
from typing import ClassVar

from fake_platform import FakeConnector

from plugin.pipeline.config import PipelineSettings
from plugin.pipeline.worker import Worker
from plugin.store import states
from plugin.store.models import ReviewRow


class CountingConnector(FakeConnector):
    """Counts the writes in flight at once."""

    def __init__(self, settings):
        super().__init__(settings)
        self.lock = threading.Lock()
        self.flying = 0
        self.most = 0

    def post_reply(self, review, text):
        with self.lock:
            self.flying += 1
            self.most = max(self.most, self.flying)
        try:
            return super().post_reply(review, text)
        finally:
            with self.lock:
                self.flying -= 1


class OneAtATime(CountingConnector):
    parallel_writes: ClassVar[int | None] = 1


def _post_all(database, policy, connector, count: int) -> None:
    worker = Worker(database, policy, name="w1", resolve=lambda review: connector,
                    settings=PipelineSettings(idle_seconds=0.01))
    assert worker.context.concurrency == PipelineSettings().post_concurrency == 4
    worker.run(once=True)
    with database.session() as session:
        posted = session.query(ReviewRow).filter(ReviewRow.status == states.POSTED).count()
    assert posted == count


def test_a_worker_posts_several_replies_at_once_by_default(database, policy, approved,
                                                           platform):
    for _ in range(8):
        approved(text="Gr8 cofee, frendly staff — merci!")
    platform.delay = 0.05
    connector = CountingConnector({"base_url": platform.base_url})
    _post_all(database, policy, connector, 8)
    assert connector.most > 1
    assert sorted(platform.write_counts().values()) == [1] * 8


def test_a_platform_that_takes_one_write_at_a_time_gets_one(database, policy, approved,
                                                             platform):
    for _ in range(6):
        approved(text="Sehr lecker, gerne wieder 🙂")
    platform.delay = 0.05
    connector = OneAtATime({"base_url": platform.base_url})
    _post_all(database, policy, connector, 6)
    assert connector.most == 1
    assert sorted(platform.write_counts().values()) == [1] * 6
