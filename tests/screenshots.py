"""Where the browser tests put their screenshots.

A test run never writes into the repository: screenshots go to the test's own folder, where
the test checks them. `MAKERIGHT_UPDATE_SCREENSHOTS=1` sends them to docs/screenshots/ instead,
to refresh the pictures the README shows.
"""
from __future__ import annotations

import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
UPDATE = "MAKERIGHT_UPDATE_SCREENSHOTS"


def screenshot_path(name: str, scratch: Path) -> Path:
    folder = DOCS if os.environ.get(UPDATE) == "1" else scratch / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
