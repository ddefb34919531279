"""The review and its draft in the reader's language: translated through the configured model
(the real openai SDK against the loopback server), cached per text and language, never for a
reply a person wrote, and only named, never faked, when no model is configured."""
from __future__ import annotations

import dataclasses
import json

import pytest

from plugin.app import create_app
from plugin.config import LLMSettings, Settings
from plugin.context import get_db
from plugin.drafting.translation import TranslationRow
from plugin.drafting.usage import LLMUsageRow
from tests.llm.fake_openai import FakeOpenAI, Step, answer, error

from .webtools import _template_database, copy_sqlite, dispose, login, make_config

GERMAN = "Torte kam zerdrückt an und der Fahrer war unfreundlich. Nie wieder!!"
ENGLISH = "The cake arrived squashed and the driver was rude. Never again!!"


def _target(request: dict) -> str:
    return request["messages"][0]["content"].split("(")[1].split(")")[0]


class Translating:
    """Translates the one German review it knows; anything else is a drafted reply."""

    def __call__(self, request: dict) -> Step:
        text = request["messages"][-1]["content"]
        target = _target(request)
        if text == GERMAN:
            return answer(ENGLISH if target == "en" else f"[{target}] {text}")
        return answer(f"[{target}] {text}")


@pytest.fixture
def fake():
    server = FakeOpenAI(default=Translating()).start()
    yield server
    server.stop()


@pytest.fixture
def llm_app(tmp_path, fake):
    copy_sqlite(_template_database(), tmp_path / "web.sqlite")
    settings = dataclasses.replace(Settings.from_env({}), llm=LLMSettings(
        model="test-model", base_url=fake.url, api_key="sk-test-0123456789abcdef",
        timeout=2.0, max_attempts=2))
    app = create_app(make_config(tmp_path), settings=settings)
    yield app
    dispose(app)


def _client(app, role="approver", language="en-GB,en;q=0.9"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert login(client, role).status_code == 302
    return client


def _seed(app, **fields) -> int:
    from tests.web.conftest import _seeder
    return _seeder(app)(**fields)


def _translations(app) -> list[TranslationRow]:
    with app.app_context(), get_db().session() as session:
        return list(session.query(TranslationRow))


def _calls(fake) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in fake.requests]


def test_a_review_in_another_language_is_shown_translated_and_cached(llm_app, fake):
    review_id = _seed(llm_app, text=GERMAN, rating=1, author="Jörg", language="de")
    client = _client(llm_app)
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    shown = html.split('id="review-translation"')[1].split("</div>")[0]
    assert 'lang="en"' in shown and "In English" in shown and ENGLISH in shown
    assert GERMAN.replace("!", "") in html.replace("!", "")  # the original is still there
    draft = html.split('id="draft-translation"')[1].split("</details>")[0]
    assert "[en] " in draft  # the German draft, through the model
    assert fake.requests[0].headers.get("authorization") == "Bearer sk-test-0123456789abcdef"
    assert GERMAN in _calls(fake)
    rows = _translations(llm_app)
    assert {r.target_language for r in rows} == {"en"} and len(rows) == 2
    with llm_app.app_context(), get_db().session() as session:
        assert session.query(LLMUsageRow).one().calls == 2  # counted in the daily budget

    before = len(fake.requests)
    again = _client(llm_app, role="viewer").get(f"/reviews/{review_id}").get_data(as_text=True)
    assert ENGLISH in again and len(fake.requests) == before  # from the cache


def test_the_chosen_language_wins_over_the_browser(llm_app, fake):
    review_id = _seed(llm_app, text=GERMAN, rating=1, language="de")
    client = _client(llm_app, language="de-DE,de;q=0.9")
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert 'id="review-translation"' not in html and not fake.requests  # the reader reads German

    response = client.post("/account/language", data={"language": "fr"})
    assert response.status_code == 302
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert f"[fr] {GERMAN}" in html and "In French" in html
    assert client.post("/account/language", data={"language": "klingon"}).status_code == 422


def test_a_persons_edit_is_shown_as_written(llm_app, fake, tmp_path):
    review_id = _seed(llm_app, text=GERMAN, rating=1, language="de")
    client = _client(llm_app, role="editor")
    with llm_app.app_context(), get_db().session() as session:
        from plugin.store.models import DraftRow, ReviewRow
        row = session.get(ReviewRow, review_id)
        version = session.get(DraftRow, row.current_draft_id).version
    edited = "Hallo, das tut uns sehr leid. Bitte melden Sie sich bei uns, wir ersetzen die Torte."
    response = client.post(f"/reviews/{review_id}/save",
                           data={"version": str(version), "text": edited})
    assert response.status_code == 302
    fake.requests.clear()
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert 'id="draft-as-written"' in html and 'id="draft-translation"' not in html
    assert edited not in _calls(fake)
    assert ENGLISH in html  # the review itself is still translated


def test_a_failing_model_says_so_and_stores_nothing(llm_app, fake):
    review_id = _seed(llm_app, text=GERMAN, rating=1, language="de")
    fake.script(error(400, "model not found"))
    html = _client(llm_app).get(f"/reviews/{review_id}").get_data(as_text=True)
    problem = html.split('id="translation-problem"')[1].split("</p>")[0]
    assert "model not found" in problem
    assert ENGLISH not in html and _translations(llm_app) == []


def test_without_a_model_the_language_is_named_and_nothing_is_translated(app, seed, as_role):
    review_id = seed(text="Pedido chegou frio e atrasado, decepcionante demais", rating=2,
                     language="pt")
    client = as_role("approver")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.8"
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    note = html.split('id="language-note"')[1].split("</p>")[0]
    assert "Written in Portuguese (pt)" in note and "not translated" in note
    assert 'id="review-translation"' not in html and 'id="draft-translation"' not in html
    assert json.dumps("machine translation") not in html


def test_both_wordings_of_an_edited_review_are_translated(llm_app, fake):
    from plugin import intake
    from plugin.context import get_policy
    from plugin.store.models import ReviewRow
    from plugin.store.reviews import to_review

    review_id = _seed(llm_app, text=GERMAN, rating=1, language="de")
    rewritten = "Nachtrag: Der Laden hat angerufen und das Geld erstattet. Danke trotzdem"
    with llm_app.app_context(), get_db().session() as session:
        row = session.get(ReviewRow, review_id)
        edited = dataclasses.replace(to_review(row), text=rewritten, rating=3)
        intake.take_in(session, [edited], get_policy(), intake.Door("sync:demo"))
    html = _client(llm_app).get(f"/reviews/{review_id}").get_data(as_text=True)
    before = html.split('id="edit-before-translation"')[1].split("</p>")[0]
    after = html.split('id="edit-after-translation"')[1].split("</p>")[0]
    assert ENGLISH in before and f"[en] {rewritten}" in after
    assert 'lang="en"' in before and 'lang="en"' in after
