"""Settings of the LLM engine, where the drafting code looks for them.

They are read and checked with every other setting in plugin.config (`Settings.llm`); this
module names them for the engine's own modules.
"""
from __future__ import annotations

from ..config import LOCAL_KEY, STRUCTURED_MODES, LLMSettings

__all__ = ["LOCAL_KEY", "STRUCTURED_MODES", "LLMSettings"]
