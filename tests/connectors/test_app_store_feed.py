from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Review

from .support import feed, feed_url, fixture


def numbered_page(page: int, per_page: int = 2) -> dict:
    """A full feed page whose reviews get older page by page."""
    body = fixture("feed_page1.json")
    template = body["feed"]["entry"][1]
    start = datetime(2026, 11, 20, tzinfo=UTC)
    entries = []
    for n in range(per_page):
        entry = copy.deepcopy(template)
        index = (page - 1) * per_page + n
        entry["id"]["label"] = str(12000000000 + index)
        entry["updated"]["label"] = (start - timedelta(hours=index)).isoformat()
        entries.append(entry)
    body["feed"]["entry"] = entries
    return body


def test_fetch_reads_pages_until_an_empty_one_and_skips_the_app_entry(mocked, sleeps):
    mocked.get(feed_url("us", 1), json=fixture("feed_page1.json"))
    mocked.get(feed_url("us", 2), json=fixture("feed_empty.json"))

    reviews = list(feed(sleeps).fetch())

    assert [r.external_id for r in reviews] == ["11000000001", "11000000002"]
    lost = reviews[0]
    assert (lost.rating, lost.title, lost.author) == (1, "Lost my data", "tired&cross")
    assert lost.text == "After the update all my budgets are gone."
    assert lost.created_at == datetime(2026, 11, 20, 16, 15, tzinfo=UTC)
    assert lost.metadata == {"country": "us", "app_version": "4.2.13", "vote_sum": "3",
                             "vote_count": "4"}
    assert lost.platform == "app_store" and lost.reply is None
    assert lost.url.startswith("https://itunes.apple.com/us/review")


def test_fetch_stops_after_ten_pages(mocked, sleeps):
    for page in range(1, 11):
        mocked.get(feed_url("us", page), json=numbered_page(page))

    reviews = list(feed(sleeps).fetch())

    assert len(reviews) == 20 and len(mocked.calls) == 10


def test_fetch_stops_at_the_sync_point(mocked, sleeps):
    mocked.get(feed_url("us", 1), json=numbered_page(1))
    mocked.get(feed_url("us", 2), json=numbered_page(2))

    since = (datetime(2026, 11, 20, tzinfo=UTC) - timedelta(hours=2)).isoformat()
    reviews = list(feed(sleeps).fetch(since=since))

    assert [r.external_id for r in reviews] == ["12000000000", "12000000001"]
    assert len(mocked.calls) == 2


def test_storefronts_merge_newest_first_and_a_lone_entry_is_read(mocked, sleeps):
    mocked.get(feed_url("us", 1), json=fixture("feed_page1.json"))
    mocked.get(feed_url("us", 2), json=fixture("feed_empty.json"))
    mocked.get(feed_url("gb", 1), json=fixture("feed_single_entry.json"))
    mocked.get(feed_url("gb", 2), json=fixture("feed_empty.json"))

    reviews = list(feed(sleeps, countries=["us", "gb"]).fetch())

    assert [r.external_id for r in reviews] == ["11000000001", "11000000003", "11000000002"]
    assert reviews[1].source == "gb/1234567890" and reviews[1].url is None


def test_the_feed_is_read_only(sleeps):
    connector = feed(sleeps)
    review = Review(platform="app_store", external_id="1", rating=1,
                    created_at=datetime(2026, 11, 1, tzinfo=UTC))

    assert connector.answerable is False
    with pytest.raises(NotImplementedError, match="copy the reply"):
        connector.post_reply(review, "Sorry")
    assert connector.get_reply(review) is None


def test_check_counts_the_first_page(mocked, sleeps):
    mocked.get(feed_url("us", 1), json=fixture("feed_page1.json"))

    assert feed(sleeps).check() == "OK: the us feed of app 1234567890 lists 2 reviews"


def test_countries_must_be_two_letter_codes(sleeps):
    with pytest.raises(ValueError, match="countries.0"):
        feed(sleeps, countries=["USA"])
