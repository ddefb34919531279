"""A brand whose policy folder breaks after its source was set up: a refusal raised deep inside
(`PolicyError`, while a review's policy is looked up), reachable from every surface."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy.orm import Session

from plugin.policy import DEFAULT_DIR
from plugin.sources.models import SourceRow

SOURCE = "brand-b"
BROKEN_TOML = "[brand\nname ="


def follow_copy(session: Session, folder: Path) -> Path:
    """A source named SOURCE following a fresh copy of the bundled policy in `folder`."""
    shutil.copytree(DEFAULT_DIR, folder)
    session.add(SourceRow(name=SOURCE, kind="demo", settings={}, policy=str(folder.resolve())))
    return folder


def break_policy(folder: Path) -> None:
    """Corrupt the policy file, dated later so the policy cache sees the change."""
    path = folder / "policy.toml"
    stamp = path.stat().st_mtime + 60
    path.write_text(BROKEN_TOML, "utf-8")
    os.utime(path, (stamp, stamp))
