"""Starting points for a policy: a starter folder per kind of business, and the instance's own
editable copy.

A starter holds only what is the business's own (offers, brand, contact, phrasing, lexicon
additions); the general phrasing and lexicons come from the bundled policy, so a starter stays
short enough to read in one sitting and keeps working when the bundled phrasing improves.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .bundled import KINDS, default_policy_dir, starter_dir
from .errors import MakeRightError


class StarterError(MakeRightError):
    """A starter that cannot be written; the message says why and what to do."""

    code = "invalid_starter"



def write_starter(target: Path, kind: str | None) -> Path:
    """Copy the starter for `kind` (or the bundled café policy for None) into `target`, which
    must not exist yet or be empty: an existing policy is never overwritten."""
    if kind is not None and kind not in KINDS:
        raise StarterError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StarterError(f"{target} already exists and is not empty; choose a new folder")
    source = starter_dir(kind) if kind else default_policy_dir()
    shutil.copytree(source, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target
