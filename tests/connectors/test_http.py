"""The shared request path: what is retried, how long it waits, and what reaches the caller."""
from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
import responses

from connectors.errors import (
    AuthenticationError,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    PlatformRejected,
    RateLimited,
    TransientError,
)
from connectors.http import HttpClient, RetryPolicy, parse_retry_after

from .support import CASES, Case, Sleeps, fixture, token_response

IDS = [case.name for case in CASES]


def arrange(mocked, case: Case, *failures: responses.BaseResponse):
    """Token endpoint (if any), then the failures, then the page, then the listing's end."""
    token = token_response(mocked) if case.needs_token else None
    for failure in failures:
        mocked.add(failure)
    page = mocked.get(case.list_url, json=fixture(case.page))
    if case.last_page:
        mocked.get(case.last_page[0], json=fixture(case.last_page[1]))
    return token, page


def error_body(case: Case, status: int) -> dict:
    if case.name.startswith("app_store"):
        return {"errors": [{"status": str(status), "code": "ERR", "title": "Failed",
                            "detail": f"Apple says {status}"}]}
    return {"error": {"code": status, "message": f"Google says {status}", "status": "X"}}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_429_waits_at_least_retry_after_then_succeeds(mocked, sleeps, case):
    throttled = responses.Response("GET", case.list_url, status=429, json=error_body(case, 429),
                                   headers={"Retry-After": "7"})
    _, page = arrange(mocked, case, throttled)

    reviews = list(case.make(sleeps).fetch())

    assert reviews and page.call_count == 1
    assert len(sleeps.waits) == 1 and sleeps.waits[0] >= 7


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_500_twice_then_success(mocked, sleeps, case):
    failures = [responses.Response("GET", case.list_url, status=500, json=error_body(case, 500))
                for _ in range(2)]
    arrange(mocked, case, *failures)

    assert list(case.make(sleeps).fetch())
    assert len(sleeps.waits) == 2
    assert sum(call.request.url.startswith(case.list_url) for call in mocked.calls) == 3


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_403_names_the_missing_permission_and_is_not_retried(mocked, sleeps, case):
    if case.needs_token:
        token_response(mocked)
    mocked.get(case.list_url, status=403, json=error_body(case, 403))

    with pytest.raises(PermissionDenied) as caught:
        list(case.make(sleeps).fetch())

    assert case.permission_words in str(caught.value)
    assert "says 403" in str(caught.value) and caught.value.platform_message.endswith("403")
    assert sum(call.request.url.startswith(case.list_url) for call in mocked.calls) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_retry_after_over_the_cap_gives_up_at_once(mocked, sleeps, case):
    if case.needs_token:
        token_response(mocked)
    mocked.get(case.list_url, status=429, json=error_body(case, 429),
               headers={"Retry-After": "3600"})

    with pytest.raises(RateLimited) as caught:
        list(case.make(sleeps).fetch())

    assert caught.value.retry_after == 3600
    assert sleeps.waits == []


@pytest.mark.parametrize("status, error", [
    (400, PlatformRejected), (401, AuthenticationError), (404, NotFound), (409, PlatformRejected),
    (422, PlatformRejected)])
def test_other_client_errors_are_not_retried(mocked, sleeps, status, error):
    mocked.get("https://api.test/x", status=status, json={"error": {"message": "no"}})
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    with pytest.raises(error):
        client.request("GET", "https://api.test/x")
    assert len(mocked.calls) == 1 and sleeps.waits == []


@pytest.mark.parametrize("status", [408, 502, 503, 504])
def test_transient_statuses_are_retried_until_the_attempts_run_out(mocked, sleeps, status):
    mocked.get("https://api.test/x", status=status)
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps,
                        policy=RetryPolicy(max_attempts=3))

    with pytest.raises(TransientError):
        client.request("GET", "https://api.test/x")
    assert len(mocked.calls) == 3 and len(sleeps.waits) == 2


def test_connection_errors_and_timeouts_are_retried(mocked, sleeps):
    mocked.get("https://api.test/x", body=requests.ConnectionError("refused"))
    mocked.get("https://api.test/x", body=requests.ReadTimeout("slow"))
    mocked.get("https://api.test/x", json={"ok": True})
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    assert client.get_json("https://api.test/x") == {"ok": True}
    assert len(sleeps.waits) == 2


def test_connection_failure_after_retries_is_transient_and_says_so(mocked, sleeps):
    mocked.get("https://api.test/x", body=requests.ConnectionError("refused"))
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps,
                        policy=RetryPolicy(max_attempts=2))

    with pytest.raises(TransientError, match="no answer from api.test"):
        client.request("GET", "https://api.test/x")


def test_waits_are_jittered_between_runs():
    sequences = set()
    for _ in range(20):
        sleeps = Sleeps()
        with responses.RequestsMock() as mocked:
            for _ in range(3):
                mocked.get("https://api.test/x", status=503)
            mocked.get("https://api.test/x", json={})
            HttpClient(label="Test", permission_hint="", sleep=sleeps).request(
                "GET", "https://api.test/x")
        assert len(sleeps.waits) == 3
        sequences.add(tuple(sleeps.waits))
    assert len(sequences) > 1


def test_retry_after_as_http_date(mocked, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=30)
    mocked.get("https://api.test/x", status=429,
               headers={"Retry-After": format_datetime(when, usegmt=True)})
    mocked.get("https://api.test/x", json={})
    HttpClient(label="Test", permission_hint="", sleep=sleeps).request("GET", "https://api.test/x")

    assert 25 <= sleeps.waits[0] <= 31


@pytest.mark.parametrize("value, expected", [
    ("7", 7.0), (" 120 ", 120.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None),
    ("", None), (None, None)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=1_900_000_000) == expected


def test_parse_retry_after_http_date_in_the_future():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10.0


def test_every_retrying_has_an_explicit_stop():
    """RT-1: a bare Retrying or @retry retries for ever."""
    package = Path(__file__).parents[2] / "connectors"
    calls = []
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in {"Retrying", "retry"}:
                    calls.append((path.name, {kw.arg for kw in node.keywords}))
    assert calls, "the retry policy moved; update this test"
    assert all("stop" in keywords for _, keywords in calls), calls


def test_a_body_that_is_not_json_is_transient(mocked, sleeps):
    mocked.get("https://api.test/x", body="<html>proxy error</html>", status=200)
    mocked.get("https://api.test/x", json={"ok": True})
    mocked.put("https://api.test/y", body="")
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    assert client.get_json("https://api.test/x") == {"ok": True}
    assert client.request("PUT", "https://api.test/y") == {}
    assert len(sleeps.waits) == 1


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_a_write_answered_with_a_5xx_is_sent_once_and_its_outcome_is_unknown(
        mocked, sleeps, method, status):
    """The platform may have saved it; a resend could duplicate it or replace a reply someone
    else wrote in between, so the caller reads the platform instead."""
    mocked.add(method, "https://api.test/reply", status=status,
               json={"error": {"message": "backend error"}})
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    with pytest.raises(OutcomeUnknown, match="may or may not have been applied") as caught:
        client.request(method, "https://api.test/reply", json={"comment": "Sorry"})
    assert caught.value.status == status and caught.value.retryable
    assert len(mocked.calls) == 1 and sleeps.waits == []


@pytest.mark.parametrize("failure", [requests.ReadTimeout("slow"),
                                     requests.ConnectionError("connection reset by peer")])
def test_a_write_whose_answer_is_lost_is_sent_once(mocked, sleeps, failure):
    mocked.put("https://api.test/reply", body=failure)
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    with pytest.raises(OutcomeUnknown, match="no answer from api.test"):
        client.request("PUT", "https://api.test/reply", json={"comment": "Sorry"})
    assert len(mocked.calls) == 1 and sleeps.waits == []


def test_a_write_that_could_not_connect_was_never_sent(mocked, sleeps):
    mocked.post("https://api.test/reply", body=requests.ConnectTimeout("no route"))
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    with pytest.raises(TransientError, match="nothing was sent") as caught:
        client.request("POST", "https://api.test/reply", json={"replyText": "Sorry"})
    assert not isinstance(caught.value, OutcomeUnknown) and len(mocked.calls) == 1


def test_a_throttled_write_is_not_repeated_in_process(mocked, sleeps):
    mocked.post("https://api.test/reply", status=429, headers={"Retry-After": "7"})
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    with pytest.raises(RateLimited) as caught:
        client.request("POST", "https://api.test/reply", json={"replyText": "Sorry"})
    assert caught.value.retry_after == 7 and len(mocked.calls) == 1 and sleeps.waits == []


def test_a_write_refused_with_401_is_sent_again_once_with_new_credentials(mocked, sleeps):
    """A 401 means the platform applied nothing, so one resend after a refresh is safe."""
    class Credentials:
        refreshed = 0

        def headers(self):
            return {"Authorization": f"Bearer token-{self.refreshed}"}

        def refresh(self):
            self.refreshed += 1

    mocked.put("https://api.test/reply", status=401, json={"error": {"message": "expired"}})
    mocked.put("https://api.test/reply", json={"comment": "Sorry"})
    auth = Credentials()
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps, auth=auth)

    assert client.request("PUT", "https://api.test/reply", json={"comment": "Sorry"}) == \
        {"comment": "Sorry"}
    assert auth.refreshed == 1 and len(mocked.calls) == 2
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer token-1"


def test_a_write_answered_with_a_body_that_is_not_json_is_unknown(mocked, sleeps):
    mocked.post("https://api.test/reply", body="<html>proxy</html>", status=200)
    client = HttpClient(label="Test", permission_hint="", sleep=sleeps)

    with pytest.raises(OutcomeUnknown):
        client.request("POST", "https://api.test/reply", json={"replyText": "Sorry"})
    assert len(mocked.calls) == 1


def test_one_reading_of_retry_after_for_platforms_webhooks_and_the_model():
    """Connectors, outbound webhook delivery and the LLM client read the header the same way."""
    from datetime import datetime, timedelta

    from plugin.drafting.llm_client import retry_after_seconds
    from plugin.outbound.delivery import retry_after

    now = datetime(2030, 1, 1, tzinfo=UTC)
    cases = [("7", 7.0), ("1.5", 1.5), ("-3", 0.0), (" 120 ", 120.0),
             ("Tue, 01 Jan 2030 00:10:00 GMT", 600.0), ("Mon, 31 Dec 2029 23:00:00 GMT", 0.0),
             ("soon", None), ("nan", None), ("1e400", None), ("", None)]
    for value, seconds in cases:
        assert parse_retry_after(value, now.timestamp()) == seconds, value
        assert retry_after(value, now) == (None if seconds is None
                                           else timedelta(seconds=seconds)), value
        if not value or value[0].isalpha():
            continue  # a date is measured from the real clock by the LLM client
        class Response:
            headers = {"retry-after": value}

        class Failure(Exception):
            response = Response()

        assert retry_after_seconds(Failure()) == seconds, value
