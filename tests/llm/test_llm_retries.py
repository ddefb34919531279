"""One retry layer: tenacity owns retries, the SDK client makes none of its own
(RT-2, RT-3, RT-5)."""
from __future__ import annotations

import time
from datetime import UTC

import pytest

from plugin.drafting import draft_review
from plugin.drafting.llm_client import retry_after_seconds
from plugin.drafts import DraftFailed
from tests.llm.fake_openai import answer, compliant, error


def test_the_sdk_client_makes_no_retries_of_its_own(drafter):
    assert drafter.client.client.max_retries == 0


def test_500_is_tried_exactly_max_attempts_times(fake, drafter, policy, make_review):
    fake.script(*[error(500, "upstream exploded")] * 5)
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "server_error"
    assert len(fake.requests) == drafter.settings.max_attempts == 3


def test_500_then_success_is_retried_once(fake, drafter, policy, make_review, sleeps):
    fake.script(error(503, "busy"), compliant)
    draft = draft_review(make_review(), policy, drafter)
    assert draft.engine == "llm" and len(fake.requests) == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 8


def test_429_waits_for_retry_after_then_succeeds(fake, drafter, policy, make_review, sleeps):
    fake.script(error(429, "slow down", {"Retry-After": "7"}), compliant)
    draft = draft_review(make_review(), policy, drafter)
    assert draft.engine == "llm"
    assert sleeps == [7.0]
    assert len(fake.requests) == 2


def test_429_with_retry_after_beyond_the_cap_is_not_waited_for(fake, drafter, policy,
                                                              make_review, sleeps):
    fake.script(error(429, "quota", {"Retry-After": "3600"}), compliant)
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "rate_limited" and "3600" in failed.value.detail
    assert sleeps == [] and len(fake.requests) == 1


def test_retry_after_real_wait_is_honoured(fake, make_drafter, policy, make_review):
    from plugin.drafting.llm import LLMDrafter
    from plugin.drafting.llm_client import LLMClient

    settings = make_drafter().settings
    drafter = LLMDrafter(settings, client=LLMClient(settings))
    fake.script(error(429, "slow down", {"retry-after-ms": "300"}), compliant)
    draft_review(make_review(), policy, drafter)
    gap = fake.requests[1].at - fake.requests[0].at
    assert gap >= 0.3


def test_backoff_waits_are_jittered(fake, drafter, policy, make_review, sleeps):
    for _ in range(4):
        fake.script(error(500, "x"), error(500, "x"), compliant)
        draft_review(make_review(), policy, drafter)
    assert len(sleeps) == 8 and len(set(sleeps)) > 1


def test_a_hang_past_the_timeout_fails_after_max_attempts(fake, make_drafter, policy,
                                                         make_review):
    drafter = make_drafter(timeout=0.3, max_attempts=2)
    fake.script(answer("{}", delay=3), answer("{}", delay=3))
    started = time.monotonic()
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "timeout"
    assert len(fake.requests) == 2
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("status,reason", [(401, "auth"), (403, "auth"), (404, "bad_request"),
                                           (422, "bad_request")])
def test_client_errors_are_not_retried(fake, drafter, policy, make_review, status, reason):
    fake.script(error(status, "no"))
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == reason and len(fake.requests) == 1


def test_unreachable_server_is_a_connection_failure(make_drafter, policy, make_review, sleeps):
    drafter = make_drafter(base_url="http://127.0.0.1:9/v1", max_attempts=2)
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "connection" and len(sleeps) == 1


def test_retry_after_as_an_http_date():
    from datetime import datetime, timedelta
    from email.utils import format_datetime

    class Response:
        headers = {"retry-after": format_datetime(datetime.now(UTC)
                                                  + timedelta(seconds=20), usegmt=True)}

    class Failure(Exception):
        response = Response()

    assert 15 <= retry_after_seconds(Failure()) <= 20
