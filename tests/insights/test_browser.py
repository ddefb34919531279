"""The dashboard in real Chromium: it renders without script, and the screenshot in docs/ is
taken from this run when MAKERIGHT_UPDATE_SCREENSHOTS=1."""
from __future__ import annotations

import threading
import os
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from plugin.app import create_app
from plugin.store import migrate
from plugin.store.db import Database

from ..constants import TEST_SECRET
from .seed import seed

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium: apt-get update && "
                       "apt-get install -y chromium"),
]


@pytest.fixture
def server(sqlite_url, policy):
    database = Database(sqlite_url)
    migrate.upgrade(database.engine)
    seed(database, policy)
    database.dispose()
    app = create_app({"DATABASE_URL": sqlite_url, "LOGIN_DISABLED": True, "SECRET_KEY": TEST_SECRET})
    if app.login_manager._user_callback is None and app.login_manager._request_callback is None:
        app.login_manager.request_loader(lambda _request: None)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    app.extensions["makeright.db"].dispose()


def test_dashboard_in_chromium(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
        failed: list[str] = []
        loaded: dict[str, int] = {}
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("response", lambda response: loaded.update({response.url: response.status}))
        page.goto(f"{server}/insights/?since=2026-11-01T12:00Z&until=2026-12-01T12:00Z")
        assert page.locator("#kpi-received").inner_text() == "19"
        assert page.locator("svg.chart").count() == 6
        bar = page.locator("svg.chart rect.r1").first.bounding_box()
        assert bar is not None and bar["width"] > 0
        assert failed == []
        assert [status for url, status in loaded.items() if url.endswith("insights.css")] == [200]
        shot = page.screenshot(full_page=True)
        assert len(shot) > 10_000
        if os.environ.get("MAKERIGHT_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            SCREENSHOT.write_bytes(shot)
        browser.close()
