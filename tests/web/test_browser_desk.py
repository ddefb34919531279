"""The review desk's newer pages in a real Chromium against the demo: a review edited after our
reply, drafting its follow-up; a German review read in the language a person chose; and a source
added with an uploaded key file, tested, switched off and removed."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from plugin import intake
from plugin.context import get_db, get_policy
from plugin.sources.models import SourceRow
from plugin.store.models import DraftRow, ReviewRow
from plugin.store.reviews import to_review
from tests.browser import MARKS
from tests.connectors.support import ec_pem
from tests.sources.fake_platforms import FakePlatforms, Served

from .test_browser import OUTCOME_MS, demo, signed_in  # noqa: F401 (fixtures)
from .test_layout import translating  # noqa: F401 (fixture)

pytestmark = MARKS


def _customer_edits(demo, review_id: int, text: str, rating: int) -> None:  # noqa: F811
    """The platform sends the review again, rewritten, as the next sync would."""
    with demo.app.app_context(), get_db().session() as session:
        row = session.get(ReviewRow, review_id)
        edited = replace(to_review(row), text=text, rating=rating, updated_at=datetime.now(UTC))
        assert intake.take_in(session, [edited], get_policy(),
                              intake.Door("sync:demo"))[0].outcome == "updated"


def test_a_review_edited_after_our_reply_gets_a_follow_up(demo, browser):  # noqa: F811
    from playwright.sync_api import expect

    review_id = demo.find("demo-gbp-002")
    page = signed_in(browser, demo, "bea")
    page.goto(f"{demo.base}/reviews/{review_id}")
    page.click("#editor button[formaction$='/approve'][value='1']")
    expect(page.locator("#message")).to_contain_text("Posted", timeout=OUTCOME_MS)
    posted = demo.replies()[-1]["text"]

    _customer_edits(demo, review_id, "edit: the manager rang me n refunded, fair enough. "
                                      "still think the cake was bad tho", 3)
    page.reload()
    expect(page.locator("#status")).to_have_text("Needs attention")
    expect(page.locator("#edit-after")).to_contain_text("refunded, fair enough")
    expect(page.locator("#edit-after")).to_contain_text("+")
    expect(page.locator("#edit-reply")).to_contain_text(posted.splitlines()[0])

    page.click("#follow-up")
    expect(page.locator("#message")).to_contain_text("follow-up draft")
    expect(page.locator("#public-reply")).to_contain_text(posted.splitlines()[0])
    row, draft = demo.review(review_id)
    assert draft.instruction.startswith("Follow-up") and row.platform_reply == posted
    with demo.app.app_context(), get_db().session() as session:
        assert session.query(DraftRow).filter_by(review_id=review_id).count() == 2
    assert not page.errors, page.errors


def test_a_person_chooses_the_language_reviews_are_shown_in(demo, browser,  # noqa: F811
                                                            translating):
    from playwright.sync_api import expect

    with demo.app.app_context(), get_db().session() as session:
        german = session.query(ReviewRow.id).filter_by(language="de").order_by(
            ReviewRow.id).limit(1).scalar()
    page = signed_in(browser, demo, "bea")
    page.goto(f"{demo.base}/reviews/{german}")
    expect(page.locator("#review-translation")).to_contain_text("In English")
    expect(page.locator("#review-translation")).to_have_attribute("lang", "en")

    page.goto(f"{demo.base}/account/password")
    page.select_option("#reading-language", "fr")
    page.click("#language-form button[type=submit]")
    expect(page.locator("#language-form")).to_be_visible()
    page.goto(f"{demo.base}/reviews/{german}")
    expect(page.locator("#review-translation")).to_contain_text("In French")
    expect(page.locator("#review-translation")).to_contain_text("(fr) ")
    assert any("(fr)" in r.body["messages"][0]["content"] for r in translating.requests)
    assert not page.errors, page.errors


def test_an_admin_adds_a_source_with_a_key_file_tests_and_removes_it(demo, browser,  # noqa: F811
                                                                     tmp_path):
    from playwright.sync_api import expect

    platforms = FakePlatforms(refresh_token="unused")
    served = Served(platforms)
    try:
        key = tmp_path / "AuthKey_2X9R4HXF34.p8"
        key.write_text(ec_pem())
        page = signed_in(browser, demo, "admin")
        page.goto(f"{demo.base}/settings/sources")
        page.select_option("#kind-pick", "app_store")
        page.click("#kind-form button")
        page.fill("#source-name", "budget-ios")
        page.fill("#set-app_id", platforms.app_id)
        page.fill("#set-issuer_id", "69a6de70-03db-47e3-e053-5b8c7c11a4d1")
        page.fill("#set-key_id", "2X9R4HXF34")
        page.fill("#set-base_url", platforms.base_url)
        page.set_input_files("#file-private_key", str(key))
        page.click("#source-form button[type=submit]")
        expect(page.locator("#saved")).to_contain_text("added budget-ios")
        expect(page.locator("#source-budget-ios")).to_contain_text("private_key=***")
        assert "BEGIN" not in page.content()

        page.locator("#source-budget-ios button", has_text="Test").click()
        expect(page.locator("#tested")).to_contain_text("works")
        page.locator("#source-budget-ios button", has_text="Disable").click()
        expect(page.locator("#source-budget-ios h3")).to_contain_text("disabled")
        page.locator("#source-budget-ios summary").click()
        page.locator("#source-budget-ios button", has_text=re.compile("^Remove")).click()
        expect(page.locator("#saved")).to_contain_text("removed budget-ios")
        with demo.app.app_context(), get_db().session() as session:
            assert session.query(SourceRow).filter_by(name="budget-ios").count() == 0
        assert not page.errors, page.errors
    finally:
        served.close()
