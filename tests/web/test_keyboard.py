"""Ten reviews handled with the keyboard alone in real Chromium: open the first from the queue,
then approve or skip each and land on the next one in the same view."""
from __future__ import annotations

import re

from tests.browser import MARKS

from .test_browser import demo, signed_in  # noqa: F401 (fixtures)

pytestmark = MARKS


def _review_id(url: str) -> int:
    return int(re.search(r"/reviews/(\d+)", url).group(1))


def test_ten_reviews_with_the_keyboard_alone(demo, browser):  # noqa: F811
    from playwright.sync_api import expect

    page = signed_in(browser, demo)
    page.goto(f"{demo.base}/queue?status=drafted")
    page.wait_for_load_state("load")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/reviews/\d+"))
    page.wait_for_load_state("load")

    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    expect(page.locator("#keys-help")).to_contain_text("approve and go to the next")
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()

    handled: dict[int, str] = {}
    keys = 2  # j, Enter in the queue
    for _ in range(10):
        current = _review_id(page.url)
        if page.locator("#checks-ok").count() and page.locator("#approve-next").count():
            page.keyboard.press("a")
            keys += 1
            handled[current] = "approved"
        else:
            page.keyboard.press("x")
            expect(page.locator("#skip-reason")).to_be_focused()
            page.keyboard.type("needs a phone call, not a public reply")
            page.keyboard.press("Enter")
            keys += 3
            handled[current] = "skipped"
        page.wait_for_url(lambda url, left=current: "/reviews/" in url and _review_id(url) != left)
        page.wait_for_load_state("load")
        expect(page.locator("#message")).to_contain_text(f"Review #{current}:")
        assert "status=drafted" in page.locator("#back-link").get_attribute("href")

    assert len(handled) == 10
    assert "approved" in handled.values()
    for review_id, outcome in handled.items():
        row, _ = demo.review(review_id)
        expected = {"skipped"} if outcome == "skipped" else {"approved", "posting", "posted"}
        assert row.status in expected, (review_id, row.status)
    assert keys <= 2 + 10 * 3
    assert not page.errors, page.errors
