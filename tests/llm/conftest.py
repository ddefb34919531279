"""The loopback model server and an LLM engine pointed at it; nothing here reaches a network."""
from __future__ import annotations

import pytest

from plugin.drafting.budget import MemoryLedger
from plugin.drafting.llm import LLMDrafter
from plugin.drafting.llm_client import LLMClient
from plugin.drafting.llm_settings import LLMSettings
from tests.llm.fake_openai import FakeOpenAI

API_KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def settings(fake) -> LLMSettings:
    return LLMSettings(model="test-model", base_url=fake.url, api_key=API_KEY, timeout=2.0,
                       max_attempts=3, examples=3)


class Sleeps(list):
    """Records the waits the retry policy asks for instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_drafter(settings, sleeps):
    def build(ledger=None, examples=None, **overrides) -> LLMDrafter:
        chosen = LLMSettings(**{**settings.__dict__, **overrides})
        return LLMDrafter(chosen, examples=examples, ledger=ledger or MemoryLedger(),
                          client=LLMClient(chosen, sleep=sleeps))
    return build


@pytest.fixture
def drafter(make_drafter) -> LLMDrafter:
    return make_drafter()
