"""The dashboard in real Chromium: it renders without script, and the screenshot in docs/ is
taken from this run (written there with MAKERIGHT_UPDATE_SCREENSHOTS=1)."""
from __future__ import annotations

import pytest
from werkzeug.serving import make_server

from plugin.app import create_app
from plugin.store.db import Database
from tests import loopback
from tests.browser import MARKS
from tests.screenshots import screenshot_path

from ..constants import TEST_SECRET
from .seed import seed

pytestmark = MARKS


@pytest.fixture
def server(sqlite_url, policy):
    database = Database(sqlite_url)
    seed(database, policy)
    database.dispose()
    app = create_app({"DATABASE_URL": sqlite_url, "LOGIN_DISABLED": True,
                      "SECRET_KEY": TEST_SECRET})
    if app.login_manager._user_callback is None and app.login_manager._request_callback is None:
        app.login_manager.request_loader(lambda _request: None)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = loopback.serve(httpd)
    yield f"http://127.0.0.1:{httpd.server_port}"
    loopback.stop(httpd, thread)
    app.extensions["makeright.db"].dispose()


def test_dashboard_in_chromium(server, browser, tmp_path):
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
    shot = screenshot_path("dashboard.png", tmp_path)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
