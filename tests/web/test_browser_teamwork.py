"""Teamwork in a real Chromium against the demo: take a review, put a snippet into its reply at
the cursor, save it through the checks, and find the review under "Mine"."""
from __future__ import annotations

from plugin.context import get_db
from plugin.store import teamwork
from plugin.store.teamwork import SnippetInput
from tests.browser import MARKS

from .test_browser import demo, signed_in  # noqa: F401 (fixtures)

pytestmark = MARKS

SNIPPET = "Our store manager will call you personally within a day."


def test_assign_to_myself_insert_a_snippet_and_find_it_under_mine(demo, browser):  # noqa: F811
    from playwright.sync_api import expect

    review_id = demo.find("demo-gbp-002")
    _, draft = demo.review(review_id)
    with demo.app.app_context(), get_db().session() as session:
        teamwork.save_snippet(session, SnippetInput.read(draft.language, "Manager calls",
                                                         SNIPPET), actor="admin")
    page = signed_in(browser, demo, "bea")
    page.goto(f"{demo.base}/reviews/{review_id}")
    page.click("#assign-me")
    expect(page.locator("#message")).to_contain_text("Assigned")
    expect(page.locator("#assignee")).to_contain_text("Assigned to bea")

    before = page.input_value("#reply-text")
    counted = int(page.locator("#counter-used").inner_text())
    first_line_end = before.index("\n") if "\n" in before else len(before)
    page.locator("#reply-text").evaluate(
        "(area, at) => { area.focus(); area.setSelectionRange(at, at); }", first_line_end)
    page.select_option("#snippet", label="Manager calls")
    page.click("#insert-snippet")
    expected = before[:first_line_end] + SNIPPET + before[first_line_end:]
    expect(page.locator("#reply-text")).to_have_value(expected)
    assert "ok=assigned" in page.url  # inserted in place: no round trip to the server
    assert int(page.locator("#counter-used").inner_text()) == counted + len(SNIPPET)

    page.click("#editor button[accesskey='s']")
    expect(page.locator("#message")).to_contain_text("Draft saved")
    _, saved = demo.review(review_id)
    assert SNIPPET in saved.text and saved.created_by == "bea"

    page.goto(f"{demo.base}/queue")
    page.click("#view-mine")
    expect(page.locator("#view-mine")).to_have_attribute("aria-current", "page")
    rows = page.locator("[data-row] a.open")
    expect(rows).to_have_count(1)
    assert f"/reviews/{review_id}?" in rows.first.get_attribute("href")
    expect(page.locator("[data-row] .flag-assignee")).to_have_text("→ bea")
    assert not page.errors, page.errors
