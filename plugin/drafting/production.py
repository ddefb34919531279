"""The engine a running installation drafts with: the LLM when one is configured, else offline.

The web queue's regenerate, the API, `makeright draft --engine llm` and the workers all take
their engine from here, so they agree on the model, the token budget and the house examples.
"""
from __future__ import annotations

from ..store.db import Database
from . import Drafter, get_drafter
from .house_examples import StoreExamples
from .llm import LLMDrafter
from .llm_settings import LLMSettings
from .translation import Translator
from .usage import DatabaseLedger


def production_drafter(db: Database, settings: LLMSettings | None = None) -> Drafter:
    """LLM drafting, counted in `db` and learning from its approved replies, when configured.

    Without a model the LLM engine itself says so once and drafts offline; the offline engine is
    returned directly so nothing pretends to be an LLM draft.
    """
    settings = settings or LLMSettings.from_env()
    if not settings.configured:
        return get_drafter("offline")
    return LLMDrafter(settings, examples=StoreExamples(db), ledger=DatabaseLedger(db))


def production_translator(db: Database, settings: LLMSettings | None = None) -> Translator | None:
    """Translation for readers through the configured model, counted in `db`; None without
    a model, so no page ever shows a translation that was not made."""
    settings = settings or LLMSettings.from_env()
    if not settings.configured:
        return None
    return Translator(settings, db, DatabaseLedger(db))
