"""The queue in a real Chromium: sign in, filter, edit with the live counter, approve and post.

Uses Debian's Chromium (never a downloaded browser build). Writes the screenshots kept in
docs/screenshots/.
"""
from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from plugin.app import create_app, get_db
from plugin.cli import cli

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "browser test password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="needs Chromium: apt-get install -y chromium"),
]


@pytest.fixture
def server(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(instance))
    monkeypatch.setenv("MAKERIGHT_DEMO_PASSWORD", PASSWORD)
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    loaded = CliRunner().invoke(cli, ["demo", "--no-serve"])
    assert loaded.exit_code == 0, loaded.output
    from plugin.demo import secret_key_file
    app = create_app({"SECRET_KEY": secret_key_file(instance), "MODE": "demo",
                      "DATABASE_URL": f"sqlite:///{instance / 'makeright.sqlite'}",
                      "INSTANCE_PATH": str(instance)})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", instance
    httpd.shutdown()
    thread.join(5)
    with app.app_context():
        get_db().dispose()


def test_filter_edit_approve_and_post(server):
    from playwright.sync_api import expect, sync_playwright

    base, instance = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/queue")
        assert "/login" in page.url
        page.fill("#name", "admin")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Review queue")
        page.wait_for_load_state("load")  # the deferred script has attached its key handlers
        page.keyboard.press("j")
        expect(page.locator("[data-row] a.open").first).to_be_focused()
        page.screenshot(path=str(SHOTS / "queue.png"), full_page=False)

        page.select_option("#filter-rating", "1")
        page.select_option("select[name=escalated]", "no")
        page.click("#filters button[type=submit]")
        assert "rating=1" in page.url
        stars = page.locator("[data-row] .stars").all_inner_texts()
        assert stars and all(s == "★☆☆☆☆" for s in stars)
        page.locator("[data-row] a.open").first.click()
        expect(page.locator("#reply-text")).to_be_visible()

        before = int(page.locator("#counter-used").inner_text())
        text = page.input_value("#reply-text").rstrip() + "\nSee you soon — Maya."
        page.fill("#reply-text", text)
        after = int(page.locator("#counter-used").inner_text())
        assert after != before
        limit_unit = page.locator("#reply-text").get_attribute("data-unit")
        expected = len(text.encode()) if limit_unit == "bytes" else len(text)
        assert after == expected
        page.screenshot(path=str(SHOTS / "review.png"), full_page=True)

        page.click("#editor button[type=submit]")
        expect(page.locator(".alert-ok")).to_contain_text("Draft saved")
        page.click("#approve-form button[value='1']")
        expect(page.locator(".alert-ok")).to_contain_text("Posted")
        expect(page.locator("#status")).to_have_text("Posted")
        expect(page.locator("#events")).to_contain_text("Posting → Posted")
        expect(page.locator("#public-reply")).to_contain_text("See you soon — Maya.")
        assert not errors, errors
        browser.close()

    replies = [json.loads(line) for line in
               (instance / "demo_replies.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(replies) == 1 and replies[0]["text"] == text
    assert re.match(r"demo-(gbp|gp|asc)-\d{3}$", replies[0]["external_id"])
