"""`makeright draft --engine llm` and `makeright eval` against the loopback server."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from plugin.commands.main import cli
from plugin.drafting import get_drafter
from plugin.drafting.usage import DatabaseLedger
from plugin.evaluation import evaluate, render
from plugin.store.db import Database
from tests.llm.fake_openai import answer, compliant

ROWS = [
    {"platform": "google_play", "external_id": "p1", "author": "Jane", "rating": 1,
     "text": "The app crashes every time I log in.", "created_at": "2026-11-01T10:00:00Z"},
    {"platform": "google_business", "external_id": "g1", "author": "Bob", "rating": 2,
     "text": "Delivery was late and the bread was cold.", "created_at": "2026-11-01T10:00:00Z"},
    {"platform": "google_business", "external_id": "g2", "author": "Ana", "rating": 1,
     "text": "El pedido llegó tarde y la tarta estaba aplastada.",
     "created_at": "2026-11-01T10:00:00Z"},
]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def llm_env(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_LLM_MODEL", "test-model")
    monkeypatch.setenv("MAKERIGHT_LLM_BASE_URL", fake.url)
    monkeypatch.setenv("MAKERIGHT_LLM_CONCURRENCY", "2")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    return tmp_path / "instance"


def test_draft_with_llm_prints_drafts_and_failures_in_order(fake, llm_env, corpus):
    fake.script(compliant, answer("I'd rather not answer in JSON."), compliant)
    result = CliRunner().invoke(cli, ["draft", str(corpus), "--engine", "llm",
                                      "--concurrency", "1"])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["external_id"] for line in lines] == ["p1", "g1", "g2"]
    assert lines[0]["engine"] == "llm" and lines[2]["engine"] == "llm"
    assert lines[1]["error"]["reason"] == "unparseable"
    assert result.exit_code == 1
    database = Database(f"sqlite:///{llm_env / 'makeright.sqlite'}")
    spent = DatabaseLedger(database).used_today()
    database.dispose()
    assert spent > 0


def test_eval_prints_the_table(fake, llm_env, corpus):
    result = CliRunner().invoke(cli, ["eval", str(corpus), "--engine", "llm"])
    assert result.exit_code == 0, result.output
    for words in ("drafts", "violations", "escalations", "language matches review",
                  "mean characters", "near-duplicate pairs", "prompt tokens", "Offers by id"):
        assert words in result.output


def test_evaluation_counts(fake, make_drafter, policy, make_review):
    reviews = [make_review(external_id=str(i), text=t) for i, t in enumerate([
        "The delivery was late.", "The delivery was very late.",
        "El personal fue muy grosero conmigo y la tarta estaba mala.",
        "My lawyer will hear about this food poisoning."])]
    fake.script(compliant, compliant, answer({
        "categories": [], "escalate": False, "escalation_reason": None, "offer_id": None,
        "reply": "We will refund you €80 for this. – Maya", "note": ""}), answer({
        "categories": [], "escalate": False, "escalation_reason": None, "offer_id": None,
        "reply": "We will refund you €80 for this. – Maya", "note": ""}), compliant)
    result = evaluate(reviews, policy, make_drafter(), concurrency=1)
    assert (result.reviews, result.drafts, result.with_violations) == (4, 4, 1)
    assert result.violations["amount_not_offered"] == 1
    assert result.escalations == 1
    assert result.offers["refund_delivery_fee"] == 2
    assert result.language_checked == 4 and result.language_matches == 3
    assert len(result.near_duplicates) >= 1
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    offline = evaluate(reviews, policy, get_drafter("offline"))
    assert offline.drafts == 4 and offline.prompt_tokens == 0


def test_render_shows_counts(capsys, fake, make_drafter, policy, make_review):
    from rich.console import Console

    result = evaluate([make_review()], policy, make_drafter())
    console = Console(record=True, width=100)
    render(result, console)
    text = console.export_text()
    assert "drafts" in text and "Offers by id" in text and "replace_item" in text
