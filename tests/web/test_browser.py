"""The queue in a real Chromium, against the demo instance with its worker running beside the
web server, as `makeright demo` runs it: what a person sees on screen is exactly what the
platform receives, once, and nothing public is replaced without the explicit control.

Uses Debian's Chromium (never a downloaded browser build). The screenshots in docs/screenshots/
come from test_layout.py.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from plugin.accounts import add_user
from plugin.app import create_app
from plugin.context import get_db
from plugin.pipeline.config import PipelineSettings
from plugin.pipeline.worker import start_background_worker
from plugin.policy import load_policy
from plugin.runtime import connector_resolver
from plugin.store.models import DraftRow, ReviewRow
from tests import loopback
from tests.browser import MARKS

from .webtools import DEMO_PASSWORD

PASSWORD = DEMO_PASSWORD
#: How long the page may take to show a post's outcome on a busy machine.
OUTCOME_MS = 30_000

pytestmark = MARKS


class Demo:
    """The running demo: its address, instance folder and database."""

    def __init__(self, base: str, instance: Path, app):
        self.base, self.instance, self.app = base, instance, app

    def replies(self) -> list[dict]:
        path = self.instance / "demo_replies.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def review(self, review_id: int) -> tuple[ReviewRow, DraftRow]:
        with self.app.app_context(), get_db().session() as session:
            row = session.get(ReviewRow, review_id)
            return row, session.get(DraftRow, row.current_draft_id)

    def find(self, external_id: str) -> int:
        with self.app.app_context(), get_db().session() as session:
            return session.query(ReviewRow.id).filter_by(external_id=external_id).scalar()


@pytest.fixture
def demo(demo_instance, tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    shutil.copytree(demo_instance, instance)  # owner-only, as the demo made them
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(instance))
    monkeypatch.setenv("MAKERIGHT_DEMO_PASSWORD", PASSWORD)
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    from plugin.demo import secret_key_file
    app = create_app({"SECRET_KEY": secret_key_file(instance), "MODE": "demo",
                      "DATABASE_URL": f"sqlite:///{instance / 'makeright.sqlite'}",
                      "INSTANCE_PATH": str(instance)})
    database = app.extensions["makeright.db"]
    with database.session() as session:
        add_user(session, "bea", "approver", PASSWORD)
    worker = start_background_worker(database, load_policy(),
                                     resolve=connector_resolver(database, instance),
                                     settings=PipelineSettings(idle_seconds=0.05))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = loopback.serve(httpd)
    yield Demo(f"http://127.0.0.1:{httpd.server_port}", instance, app)
    loopback.stop(httpd, thread)
    assert worker.stop(timeout=30)
    database.dispose()


def signed_in(browser, demo: Demo, name: str = "admin"):
    """A page signed in as `name`, recording console errors (a CSP violation is one).

    A refusal page's own status (409, 422) is logged by Chromium as an error too; it is the
    answer under test, not a fault of the page, so it is left out.
    """
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource: the server "
                                                            "responded with a status of 4")
            else None)
    page.goto(f"{demo.base}/queue")
    assert "/login" in page.url
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Review queue")
    return page


def test_edit_then_approve_and_post_sends_the_edited_text(demo, browser, tmp_path):
    from playwright.sync_api import expect

    page = signed_in(browser, demo)
    page.wait_for_load_state("load")  # the deferred script has attached its key handlers
    page.keyboard.press("j")
    expect(page.locator("[data-row] a.open").first).to_be_focused()

    # A menu applies as soon as it changes.
    page.select_option("#filter-rating", "1")
    page.wait_for_url(re.compile(r"rating=1"))
    page.wait_for_load_state("load")
    page.select_option("select[name=escalated]", "no")
    page.wait_for_url(re.compile(r"rating=1.*escalated=no|escalated=no.*rating=1"))
    stars = page.locator("[data-row] .stars").all_inner_texts()
    assert stars and all(s == "★☆☆☆☆" for s in stars)
    page.locator("[data-row] a.open").first.click()
    expect(page.locator("#reply-text")).to_be_visible()
    review_id = int(re.search(r"/reviews/(\d+)", page.url).group(1))

    before = int(page.locator("#counter-used").inner_text())
    text = page.input_value("#reply-text").rstrip() + "\nSee you soon — Maya."
    page.fill("#reply-text", text)
    after = int(page.locator("#counter-used").inner_text())
    assert after != before
    limit_unit = page.locator("#reply-text").get_attribute("data-unit")
    assert after == (len(text.encode()) if limit_unit == "bytes" else len(text))

    # Straight to "Approve and post", without "Save and check": the edit travels with it.
    page.click("#editor button[formaction$='/approve'][value='1']")
    expect(page.locator("#message")).to_contain_text("Posted", timeout=OUTCOME_MS)
    expect(page.locator("#status")).to_have_text("Posted")
    expect(page.locator("#events")).to_contain_text("Posting → Posted")
    expect(page.locator("#events")).to_contain_text("post requested")
    expect(page.locator("#public-reply")).to_contain_text("See you soon — Maya.")
    assert not page.errors, page.errors

    replies = demo.replies()
    assert len(replies) == 1 and replies[0]["text"] == text
    assert re.match(r"demo-(gbp|gp|asc)-\d{3}$", replies[0]["external_id"])
    row, draft = demo.review(review_id)
    assert draft.version == 2 and draft.text == text and row.platform_reply == text


def test_a_conflicting_edit_by_someone_else_is_refused_and_nothing_is_posted(demo, browser):
    from playwright.sync_api import expect

    review_id = demo.find("demo-gbp-002")
    ann = signed_in(browser, demo, "admin")
    bea = signed_in(browser, demo, "bea")
    for page in (ann, bea):
        page.goto(f"{demo.base}/reviews/{review_id}")
    bea.fill("#reply-text", "Sorry about the order. Please email us so we can fix it. — Bea")
    bea.click("#editor button[accesskey='s']")
    expect(bea.locator("#message")).to_contain_text("Draft saved")

    mine = "We are so sorry about this. A replacement is on its way today. — Ann"
    ann.fill("#reply-text", mine)
    ann.click("#editor button[formaction$='/approve'][value='1']")
    expect(ann.locator("#error")).to_contain_text("changed while you were looking at version 1")
    expect(ann.locator("#error")).to_contain_text("version 2 by bea")
    assert ann.input_value("#reply-text") == mine  # nothing typed is lost
    expect(ann.locator("#status")).to_have_text("Drafted")
    row, draft = demo.review(review_id)
    assert row.status == "drafted" and draft.created_by == "bea"
    assert row.post_requested_by is None and demo.replies() == []
    assert not ann.errors and not bea.errors


def test_bulk_approve_and_post_publishes_nothing_until_confirmed(demo, browser):
    from playwright.sync_api import expect

    page = signed_in(browser, demo)
    page.goto(f"{demo.base}/queue?status=drafted&offer=no")
    picks = page.locator("input.pick")
    chosen = [int(picks.nth(i).get_attribute("value")) for i in range(4)]
    for i in range(4):
        picks.nth(i).check()
    expect(page.locator("#selected-count")).to_have_text("4 selected")
    page.click("#bulk button[value=approve_post]")

    expect(page.locator("h1")).to_contain_text("check before publishing")
    listed = [int(item.get_attribute("data-review"))
              for item in page.locator("#publish-list > li").all()]
    assert listed and set(listed) <= set(chosen)
    expect(page.locator("#publish-count")).to_have_text(str(len(listed)))
    shown = page.locator("#publish-list .reply-text").all_inner_texts()
    for review_id, text in zip(listed, shown, strict=True):
        row, draft = demo.review(review_id)
        assert text == draft.text.strip() and row.status == "drafted"  # in full; not yet
    left_out = sorted(set(chosen) - set(listed))
    for review_id in left_out:
        expect(page.locator("#left-behind")).to_contain_text(f"#{review_id}")
    assert demo.replies() == []

    page.click("#confirm")
    expect(page.locator("#bulk-follow")).to_contain_text("Every reply has an outcome",
                                                         timeout=OUTCOME_MS)
    texts = {demo.review(review_id)[1].text for review_id in listed}
    replies = demo.replies()
    assert len(replies) == len(listed) and {r["text"] for r in replies} == texts
    for review_id in listed:
        assert demo.review(review_id)[0].status == "posted"
    for review_id in left_out:
        assert demo.review(review_id)[0].status != "posted"
    assert page.locator("#done [data-pill]").all_inner_texts() == ["Posted"] * len(listed)
    assert not page.errors, page.errors


def test_someone_elses_reply_is_replaced_only_with_the_explicit_control(demo, browser):
    from playwright.sync_api import expect

    review_id = demo.find("demo-gbp-005")  # Marcus, already answered on the platform
    theirs = demo.review(review_id)[0].platform_reply
    assert theirs
    page = signed_in(browser, demo)
    page.goto(f"{demo.base}/queue?status=drafted")
    flagged = page.locator(f"[data-row]:has(input[value='{review_id}']) .flag-replied")
    expect(flagged).to_have_text("Public reply")

    page.goto(f"{demo.base}/reviews/{review_id}")
    expect(page.locator("#existing-reply")).to_have_text(theirs)
    page.click("#editor button[formaction$='/approve'][value='1']")
    expect(page.locator("#message")).to_contain_text("Not posted", timeout=OUTCOME_MS)
    expect(page.locator(".status-reason")).to_contain_text("Someone else has replied")
    assert demo.replies() == []

    page.check("#replace-box")
    page.click("#editor button[formaction$='/approve'][value='1']")
    expect(page.locator("#error")).to_contain_text("needs a written reason")
    assert demo.replies() == []

    page.fill("#replace-reason", "Their note does not offer anything; ours does")
    page.click("#editor button[formaction$='/approve'][value='1']")
    expect(page.locator("#message")).to_contain_text("Posted", timeout=OUTCOME_MS)
    expect(page.locator("#events")).to_contain_text("overwrite confirmed")
    expect(page.locator("#events")).to_contain_text("reply replaced")
    ours = demo.review(review_id)[1].text
    assert [r["text"] for r in demo.replies()] == [ours]
    assert not page.errors, page.errors
