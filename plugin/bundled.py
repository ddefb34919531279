"""Where the policy folders that ship with MakeRight live, installed or in a checkout.

A wheel carries the repository's `prompts/` as `plugin/prompts/` (see setup.py) and the starter
policies as `plugin/starter_policies/<kind>/`; a checkout or an editable install reads
`prompts/` beside the package. Nothing else may guess these paths.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
STARTERS_DIR = _PACKAGE / "starter_policies"
KINDS = ("app", "restaurant", "retail", "ecommerce", "hotel", "attraction", "clinic", "services")


def default_policy_dir() -> Path:
    """The bundled policy (the café demo), which also holds the generic language files and
    lexicons every other policy builds on."""
    installed = _PACKAGE / "prompts"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "prompts"


def starter_dir(kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    return STARTERS_DIR / kind
