"""The Chromium the browser tests drive: Debian's, never a downloaded build.

Each test process starts it once and every browser test opens its own contexts in it (a
context has its own cookies, storage and cache, as a fresh browser profile would); the
contexts a test opened are closed when it ends. Starting Chromium and Playwright's driver took
about two seconds a test, more than most of the tests themselves. A browser that died is
started again for the next test.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

#: For the modules of browser tests: the marker, and a skip where Chromium is not installed.
MARKS = [pytest.mark.browser,
         pytest.mark.skipif(not os.path.exists(CHROMIUM),
                            reason="needs Chromium: apt-get install -y chromium")]


@dataclass
class SharedChromium:
    """Playwright's driver and one Chromium, kept for the whole test process."""

    playwright: Any
    chromium: Any = None

    def connected(self) -> Any:
        if self.chromium is None or not self.chromium.is_connected():
            self.chromium = self.playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        return self.chromium


@pytest.fixture(scope="session")
def shared_chromium() -> Iterator[SharedChromium]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        shared = SharedChromium(playwright)
        yield shared
        if shared.chromium is not None and shared.chromium.is_connected():
            shared.chromium.close()


@pytest.fixture
def browser(shared_chromium: SharedChromium) -> Iterator[Any]:
    """The test process's Chromium; the contexts (and pages) this test opens close after it."""
    chromium = shared_chromium.connected()
    before = set(chromium.contexts)
    yield chromium
    if chromium.is_connected():
        for context in chromium.contexts:
            if context not in before:
                context.close()
