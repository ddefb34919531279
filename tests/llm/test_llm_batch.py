"""Batches: bounded concurrency, order kept, failures per review, the budget, no LLM configured."""
from __future__ import annotations

import logging
import time

from plugin.classify import classifier_for
from plugin.drafting import get_drafter
from plugin.drafting import llm as llm_module
from plugin.drafting.batch import draft_many
from plugin.drafting.budget import MemoryLedger
from plugin.drafting.llm import LLMDrafter
from plugin.drafting.llm_settings import LLMSettings
from tests.llm.fake_openai import answer, compliant, error


def test_batch_overlaps_waits_up_to_the_concurrency(fake, make_drafter, policy, make_review):
    fake.delay = 0.2
    drafter = make_drafter(concurrency=4)
    reviews = [make_review(external_id=f"r{i}") for i in range(8)]
    classifier_for(policy).classify(reviews[0])
    started = time.monotonic()
    results = draft_many(reviews, policy, drafter)
    elapsed = time.monotonic() - started
    assert [r.review.external_id for r in results] == [f"r{i}" for i in range(8)]
    assert all(r.draft and r.draft.engine == "llm" for r in results)
    # Serial takes 1.6 s; two waves of four take 0.4 s plus overhead on a busy, shared machine.
    assert 0.4 <= elapsed < 1.5
    starts = sorted(r.at for r in fake.requests)
    assert starts[3] - starts[0] < 0.15 and starts[4] - starts[0] >= 0.19


def test_a_failed_review_does_not_stop_the_batch(fake, make_drafter, policy, make_review):
    fake.script(compliant, answer("not json at all"), compliant)
    results = draft_many([make_review(external_id=str(i)) for i in range(3)], policy,
                         make_drafter(concurrency=1))
    assert [bool(r.draft) for r in results] == [True, False, True]
    assert results[1].failure.reason == "unparseable"


def test_budget_reached_falls_back_offline_visibly(fake, make_drafter, policy, make_review,
                                                   caplog):
    ledger = MemoryLedger()
    drafter = make_drafter(ledger=ledger, daily_token_budget=1)
    with caplog.at_level(logging.ERROR, "makeright.llm"):
        results = draft_many([make_review() for _ in range(3)], policy, drafter, concurrency=1)
    first, *rest = [r.draft for r in results]
    assert first.engine == "llm" and ledger.used_today() >= 1
    assert all(d.engine == "offline" and "budget" in d.note for d in rest)
    assert len(fake.requests) == 1
    assert sum("budget" in m for m in caplog.messages) <= 1


def test_failed_calls_count_against_the_budget(fake, make_drafter, policy, make_review):
    ledger = MemoryLedger()
    fake.script(answer("garbage"))
    results = draft_many([make_review()], policy, make_drafter(ledger=ledger))
    assert results[0].failure.prompt_tokens > 0
    assert ledger.used_today() == results[0].failure.prompt_tokens + \
        results[0].failure.completion_tokens


def test_no_llm_configured_says_so_once_and_drafts_offline(policy, make_review, caplog,
                                                          monkeypatch):
    for name in ("MAKERIGHT_LLM_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
                 "MAKERIGHT_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(llm_module, "_warned", set())
    drafter = get_drafter("llm")
    with caplog.at_level(logging.WARNING, "makeright.llm"):
        results = draft_many([make_review() for _ in range(3)], policy, drafter)
    assert all(r.draft.engine == "offline" for r in results)
    warnings = [m for m in caplog.messages if "No LLM configured" in m]
    assert len(warnings) == 1 and "MAKERIGHT_LLM_MODEL" in warnings[0]


def test_settings_from_the_environment():
    settings = LLMSettings.from_env({
        "MAKERIGHT_LLM_MODEL": "llama3.1", "OPENAI_BASE_URL": "http://ignored/v1",
        "MAKERIGHT_LLM_BASE_URL": "http://127.0.0.1:11434/v1", "MAKERIGHT_LLM_TIMEOUT": "12.5",
        "MAKERIGHT_LLM_CONCURRENCY": "4", "MAKERIGHT_LLM_DAILY_TOKENS": "5000",
        "MAKERIGHT_LLM_MAX_REVIEW_CHARS": "800", "MAKERIGHT_LLM_STRUCTURED_OUTPUT": "prompt"})
    assert settings.configured and not settings.is_openai
    assert settings.base_url == "http://127.0.0.1:11434/v1" and settings.client_key
    assert (settings.timeout, settings.concurrency, settings.daily_token_budget,
            settings.max_review_chars, settings.structured_output) == (12.5, 4, 5000, 800,
                                                                        "prompt")
    assert "sk-secret" not in repr(LLMSettings(api_key="sk-secret"))
    assert LLMSettings.from_env({"OPENAI_API_KEY": "k"}).missing == \
        "MAKERIGHT_LLM_MODEL is not set"


def test_local_servers_get_max_tokens_and_openai_gets_max_completion_tokens(fake, drafter,
                                                                           policy, make_review):
    from plugin.drafting import draft_review
    from plugin.drafting.llm_client import LLMClient

    draft_review(make_review(), policy, drafter)
    assert fake.requests[0].body["max_tokens"] == drafter.settings.max_output_tokens
    assert LLMClient(LLMSettings(model="m", api_key="k")).token_param == "max_completion_tokens"


def test_rate_limit_in_a_batch_is_retried_per_review(fake, make_drafter, policy, make_review,
                                                    sleeps):
    fake.script(error(429, "slow", {"Retry-After": "1"}))
    results = draft_many([make_review() for _ in range(3)], policy, make_drafter(concurrency=2))
    assert all(r.draft for r in results) and sleeps == [1.0] and len(fake.requests) == 4


def test_unconfigured_drafter_runs_batches_one_at_a_time():
    assert LLMDrafter(LLMSettings()).concurrency == 1
