"""Timings of the pipeline, in one value so tests can shrink them to fractions of a second.

The three a deployment tunes, the posting lease, the poll interval and how many replies a worker
posts at once, also come from the environment (`MAKERIGHT_WORKER_LEASE_SECONDS`,
`MAKERIGHT_WORKER_POLL_SECONDS`, `MAKERIGHT_WORKER_POST_CONCURRENCY`, read and checked with every
other setting in plugin.config) and from `makeright worker --lease-seconds/--poll-seconds/
--concurrency`; see `for_worker`.
"""
from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from connectors.retry import backoff, exponential_window

from ..config import (
    DEFAULT_POST_CONCURRENCY,
    MAX_POLL_SECONDS,
    MAX_POST_CONCURRENCY,
    MIN_LEASE_SECONDS,
    MIN_POLL_SECONDS,
    SettingsError,
    WorkerSettings,
    check_lease,
    check_poll,
)

__all__ = ["MAX_POLL_SECONDS", "MIN_LEASE_SECONDS", "MIN_POLL_SECONDS", "PipelineSettings",
           "SettingsError"]
LEASE_ENV, POLL_ENV, POST_CONCURRENCY_ENV = (variable.name for variable in WorkerSettings.VARIABLES)


@dataclass(frozen=True)
class PipelineSettings:
    #: How long a posting claim is held; longer than any platform call can take, since the
    #: reaper takes over a post whose lease has run out.
    lease_seconds: float = 300.0
    draft_lease_seconds: float = 120.0
    #: Backoff before a transient failure is retried: full jitter in an exponential window.
    backoff_base: float = 30.0
    backoff_max: float = 3600.0
    #: Transient failures after which the review is marked failed for a person to look at.
    max_attempts: int = 8
    #: A write the platform accepted but a read did not show yet is read again by the
    #: publication step, first after this long, then at doubling intervals...
    confirm_first_seconds: float = 5.0
    #: ...until this long after posting, when a person is told the reply is missing.
    confirm_for_seconds: float = 900.0
    #: Re-reads of replies the platform has not published yet (App Store, moderation): first
    #: after `publication_first_seconds`, then doubling up to `publication_check_seconds`.
    publication_first_seconds: float = 60.0
    publication_check_seconds: float = 600.0
    publication_check_for: timedelta = timedelta(days=2)
    draft_batch: int = 50
    approve_batch: int = 100
    #: Replies each posting thread handles per tick, before the worker's other steps run.
    post_batch: int = 20
    #: Replies posted at once by one worker process, claimed together in one transaction; a
    #: platform's own cap (`Connector.parallel_writes`) and quotas still hold.
    post_concurrency: int = DEFAULT_POST_CONCURRENCY
    reap_batch: int = 50
    #: Pause between ticks that found nothing to do.
    idle_seconds: float = 2.0

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def draft_lease(self) -> timedelta:
        return timedelta(seconds=self.draft_lease_seconds)

    def backoff(self, attempts: int, retry_after: float | None = None,
                rng: random.Random | None = None) -> timedelta:
        """Full-jitter exponential backoff, never sooner than the platform's Retry-After.

        The retry is a time written on the row, not a sleep, so honouring a long Retry-After
        costs nothing and survives restarts.
        """
        wait = backoff(attempts, base=self.backoff_base, cap=self.backoff_max,
                       floor=self.backoff_base / 2, rng=rng)
        return timedelta(seconds=max(wait, retry_after or 0.0))

    def publication_wait(self, checks: int) -> timedelta:
        """How long after its `checks`-th read a pending reply is read again (doubling)."""
        first = min(self.publication_first_seconds, self.publication_check_seconds)
        return timedelta(seconds=exponential_window(checks + 1, first,
                                                    self.publication_check_seconds))

    def confirm_again_after(self, since_posted: timedelta) -> timedelta:
        """When to read an unconfirmed write again: doubling, starting at the first wait."""
        return max(timedelta(seconds=self.confirm_first_seconds), since_posted)

    def tuned(self, *, lease_seconds: float | None = None, poll_seconds: float | None = None,
              post_concurrency: int | None = None) -> PipelineSettings:
        """These settings with a deployment's lease, poll interval and posting concurrency."""
        settings = self
        if post_concurrency is not None:
            if not 1 <= post_concurrency <= MAX_POST_CONCURRENCY:
                raise SettingsError(f"a posting concurrency of {post_concurrency} is outside "
                                    f"1-{MAX_POST_CONCURRENCY}")
            settings = replace(settings, post_concurrency=post_concurrency)
        if lease_seconds is not None:
            settings = replace(settings, lease_seconds=check_lease(lease_seconds))
        if poll_seconds is not None:
            settings = replace(settings, idle_seconds=check_poll(poll_seconds))
        return settings

    @classmethod
    def for_worker(cls, worker: WorkerSettings) -> PipelineSettings:
        """Defaults with a deployment's lease, poll interval and posting concurrency applied."""
        return cls().tuned(lease_seconds=worker.lease_seconds, poll_seconds=worker.poll_seconds,
                           post_concurrency=worker.post_concurrency)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PipelineSettings:
        """Defaults with the `MAKERIGHT_WORKER_...` variables applied."""
        return cls.for_worker(WorkerSettings.from_env(environ))
