"""The REST API: tokens and scopes, listing and reading, idempotent creation, and actions."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from plugin.api.idempotency import purge_expired
from plugin.api.models import IdempotencyKey
from plugin.api.tokens import revoke_token
from plugin.api.webhooks import draft_pending
from plugin.context import get_policy
from plugin.store.models import ReviewRow

from .conftest import auth, encode, review_json

API = "/api/v1/reviews"
ALL = ("reviews:read", "reviews:write", "replies:approve", "replies:post")


def create(client, token, data, key="k-1"):
    return client.post(API, data=encode(data), headers={**auth(token), "Idempotency-Key": key,
                                                        "Content-Type": "application/json"})


def reviews_in(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(ReviewRow))


def drafted(app, client, token, external_id="r-1", **fields) -> int:
    review_id = create(client, token, review_json(external_id, **fields),
                       key=external_id).get_json()["review"]["id"]
    with app.app_context():
        draft_pending(app.extensions["makeright.db"], get_policy(), ids=[review_id])
    return review_id


def test_missing_unknown_and_revoked_tokens_are_401(client, db, make_token):
    assert client.get(API).status_code == 401
    assert client.get(API, headers=auth("mrt_nope")).get_json()["error"]["code"] == "unauthorized"
    token = make_token("reviews:read")
    assert client.get(API, headers=auth(token)).status_code == 200
    with db.session() as session:
        assert revoke_token(session, 1)
    assert client.get(API, headers=auth(token)).status_code == 401


@pytest.mark.parametrize("method,path,scope", [
    ("get", API, "reviews:read"),
    ("post", API, "reviews:write"),
    ("get", f"{API}/1", "reviews:read"),
    ("post", f"{API}/1/drafts", "reviews:write"),
    ("put", f"{API}/1/draft", "reviews:write"),
    ("post", f"{API}/1/approve", "replies:approve"),
    ("post", f"{API}/1/post", "replies:post"),
    ("post", f"{API}/1/skip", "reviews:write"),
])
def test_every_operation_needs_its_scope(client, make_token, method, path, scope):
    others = make_token(*[item for item in ALL if item != scope])
    response = getattr(client, method)(path, headers=auth(others), json={})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "insufficient_scope"
    allowed = make_token(scope)
    assert getattr(client, method)(path, headers=auth(allowed), json={}).status_code != 403


def test_create_requires_an_idempotency_key(client, db, make_token):
    token = make_token("reviews:write")
    response = client.post(API, json=review_json(), headers=auth(token))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "idempotency_key_required"
    assert reviews_in(db) == 0


def test_same_key_same_body_replays_the_first_answer(client, db, make_token):
    token = make_token("reviews:write")
    first = create(client, token, review_json())
    again = create(client, token, review_json())
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert reviews_in(db) == 1


def test_same_key_other_body_is_422(client, db, make_token):
    token = make_token("reviews:write")
    create(client, token, review_json())
    response = create(client, token, review_json("r-2"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert reviews_in(db) == 1


def test_keys_are_scoped_per_token(client, db, make_token):
    first, second = make_token("reviews:write"), make_token("reviews:write")
    create(client, first, review_json("a"))
    response = create(client, second, review_json("b"))
    assert response.status_code == 201
    assert response.get_json()["review"]["external_id"] == "b"
    assert reviews_in(db) == 2


def test_concurrent_requests_with_one_key_make_one_review(app, db, make_token):
    token = make_token("reviews:write")
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        response = create(client, token, review_json("race"), key="race-key")
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert {status for status, _ in results} <= {201, 409}
    created = [body for status, body in results if status == 201]
    assert created and all(body == created[0] for body in created)
    assert reviews_in(db) == 1


def test_invalid_review_is_422_and_stores_no_key(client, db, make_token):
    token = make_token("reviews:write")
    response = create(client, token, review_json(rating=0))
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "rating"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_keys_expire_after_the_documented_window(client, db, make_token):
    token = make_token("reviews:write")
    create(client, token, review_json())
    with db.session() as session:
        assert purge_expired(session, datetime.now(UTC) + timedelta(hours=23)) == 0
        assert purge_expired(session, datetime.now(UTC) + timedelta(hours=25)) == 1


def test_list_filters_and_paginates(client, make_token):
    token = make_token("reviews:read", "reviews:write")
    for index in range(5):
        create(client, token, review_json(f"p-{index}", rating=1 + index % 2,
                                          platform="app_store" if index == 4 else "google_play"),
               key=f"key-{index}")
    page = client.get(f"{API}?limit=2", headers=auth(token)).get_json()
    assert [item["external_id"] for item in page["reviews"]] == ["p-4", "p-3"]
    rest = client.get(f"{API}?limit=2&cursor={page['next_cursor']}", headers=auth(token))
    assert [item["external_id"] for item in rest.get_json()["reviews"]] == ["p-2", "p-1"]
    by_rating = client.get(f"{API}?rating=2", headers=auth(token)).get_json()["reviews"]
    assert {item["external_id"] for item in by_rating} == {"p-1", "p-3"}
    by_platform = client.get(f"{API}?platform=app_store", headers=auth(token)).get_json()
    assert [item["external_id"] for item in by_platform["reviews"]] == ["p-4"]
    assert client.get(f"{API}?status=new&escalated=false&language=en",
                      headers=auth(token)).get_json()["next_cursor"] is None
    bad = client.get(f"{API}?rating=9", headers=auth(token))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "rating"
    assert client.get(f"{API}?cursor=garbage!", headers=auth(token)).status_code == 400


def test_read_one_with_drafts_and_history(app, client, make_token):
    token = make_token("reviews:read", "reviews:write")
    review_id = drafted(app, client, token)
    detail = client.get(f"{API}/{review_id}", headers=auth(token)).get_json()
    assert detail["draft"]["version"] == 1 and len(detail["drafts"]) == 1
    assert [entry["action"] for entry in detail["history"]][:2] == ["received", "transition"]
    assert client.get(f"{API}/999", headers=auth(token)).status_code == 404


def test_edit_approve_post_flow_with_the_queue_rules(app, client, make_token, poster, work):
    writer = make_token("reviews:read", "reviews:write")
    approver = make_token("replies:approve")
    sender = make_token("replies:post")
    review_id = drafted(app, client, writer)
    text = "Dana, we are sorry the app crashed on your order. Please write to us so we can fix it."
    edited = client.put(f"{API}/{review_id}/draft", json={"text": text, "base_version": 1},
                        headers=auth(writer))
    assert edited.status_code == 200 and edited.get_json()["draft"]["version"] == 2
    early = client.post(f"{API}/{review_id}/post", headers=auth(sender))
    assert early.status_code == 409 and poster.replies == {}
    approved = client.post(f"{API}/{review_id}/approve",
                           json={"draft_version": 2,
                                 "override_reason": "Checked by the support lead"},
                           headers=auth(approver))
    assert approved.status_code == 200
    assert approved.get_json()["review"]["status"] == "approved"
    assert approved.get_json()["review"]["approved_by"].startswith("token:")
    queued = client.post(f"{API}/{review_id}/post", headers=auth(sender))
    assert queued.status_code == 202
    body = queued.get_json()
    assert body["review"]["status"] == "approved" and poster.replies == {}
    assert body["review"]["post_requested_by"].startswith("token:")
    assert work()["post"] == 1
    after = client.get(body["status_url"], headers=auth(writer)).get_json()["review"]
    assert after["status"] == "posted" and after["public_reply"] == text
    # The read after the write showed the reply live, so it counts as public.
    assert (after["public_state"], after["public_reason"]) == ("published", None)
    assert list(poster.replies.values()) == [text]


def test_approval_names_the_version_read_and_a_stale_one_is_409(app, client, make_token,
                                                                poster, work):
    writer = make_token("reviews:read", "reviews:write")
    approver = make_token("replies:approve", "replies:post")
    review_id = drafted(app, client, writer)
    missing = client.post(f"{API}/{review_id}/approve", json={}, headers=auth(approver))
    assert missing.status_code == 422 and missing.get_json()["error"]["field"] == "draft_version"
    client.put(f"{API}/{review_id}/draft", json={"text": "Sorry Dana, write to us. Sam"},
               headers=auth(writer))
    stale = client.post(f"{API}/{review_id}/approve",
                        json={"draft_version": 1, "text": "Dana, we are sorry.", "post": True},
                        headers=auth(approver))
    error = stale.get_json()["error"]
    assert stale.status_code == 409 and error["code"] == "draft_changed"
    assert "version 1" in error["message"] and "version 2 by token:" in error["message"]
    detail = client.get(f"{API}/{review_id}", headers=auth(writer)).get_json()
    assert detail["review"]["status"] == "drafted" and len(detail["drafts"]) == 2
    work()
    assert poster.replies == {}
    conflict = client.put(f"{API}/{review_id}/draft",
                          json={"text": "Another edit", "base_version": 1},
                          headers=auth(writer))
    assert conflict.status_code == 409 and conflict.get_json()["error"]["code"] == \
        "draft_changed"


def test_text_and_approval_in_one_step_or_neither(app, client, make_token, poster, work):
    writer = make_token("reviews:read", "reviews:write")
    approver = make_token("replies:approve", "replies:post")
    review_id = drafted(app, client, writer)
    risky = "Dana, here is 500 EUR back, call me on +44 20 7946 0000."
    refused = client.post(f"{API}/{review_id}/approve",
                          json={"draft_version": 1, "text": risky}, headers=auth(approver))
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "needs_override"
    detail = client.get(f"{API}/{review_id}", headers=auth(writer)).get_json()
    assert len(detail["drafts"]) == 1 and detail["review"]["status"] == "drafted"
    text = "Dana, we are sorry the app crashed. Please write to us and we will fix it."
    done = client.post(f"{API}/{review_id}/approve",
                       json={"draft_version": 1, "text": text, "post": True},
                       headers=auth(approver))
    assert done.status_code == 202 and done.get_json()["status_url"].endswith(f"/{review_id}")
    work()
    assert list(poster.replies.values()) == [text]


def test_approve_and_post_needs_the_post_scope(app, client, make_token, poster):
    writer = make_token("reviews:write")
    approver = make_token("replies:approve")
    review_id = drafted(app, client, writer)
    response = client.post(f"{API}/{review_id}/approve",
                           json={"draft_version": 1, "post": True}, headers=auth(approver))
    assert response.status_code == 403 and response.get_json()["error"]["field"] == "post"


def test_replacing_someone_elses_reply_needs_overwrite_and_a_reason(app, client, make_token,
                                                                    poster, work, db):
    writer = make_token("reviews:read", "reviews:write")
    approver = make_token("replies:approve", "replies:post")
    review_id = drafted(app, client, writer)
    external_id = "r-1"
    poster.replies[external_id] = "We sent you a voucher by email. - Support"
    nothing = client.post(f"{API}/{review_id}/approve",
                          json={"draft_version": 1, "post": True, "overwrite": True,
                                "overwrite_reason": "ours is better"}, headers=auth(approver))
    assert nothing.status_code == 409 and nothing.get_json()["error"]["code"] == \
        "no_public_reply"
    queued = client.post(f"{API}/{review_id}/approve", json={"draft_version": 1, "post": True},
                         headers=auth(approver))
    assert queued.status_code == 202
    work()
    held = client.get(f"{API}/{review_id}", headers=auth(writer)).get_json()["review"]
    assert held["status"] == "needs_attention"
    assert held["public_reply"] == "We sent you a voucher by email. - Support"
    again = client.post(f"{API}/{review_id}/approve", json={"draft_version": 1},
                        headers=auth(approver))
    assert again.status_code == 200
    no_reason = client.post(f"{API}/{review_id}/post", json={"overwrite": True},
                            headers=auth(approver))
    assert no_reason.status_code == 422 and no_reason.get_json()["error"]["field"] == \
        "overwrite_reason"
    replaced = client.post(f"{API}/{review_id}/post",
                           json={"overwrite": True, "overwrite_reason": "The voucher expired"},
                           headers=auth(approver))
    assert replaced.status_code == 202
    work()
    final = client.get(f"{API}/{review_id}", headers=auth(writer)).get_json()
    assert final["review"]["status"] == "posted"
    assert poster.replies[external_id] == final["draft"]["text"]
    actions = {entry["action"]: entry for entry in final["history"]}
    assert "The voucher expired" in actions["overwrite_confirmed"]["reason"]
    assert "voucher by email" in actions["reply_replaced"]["reason"]


def test_approval_needing_an_override_says_so(app, client, make_token):
    writer = make_token("reviews:write")
    approver = make_token("replies:approve")
    review_id = drafted(app, client, writer, "legal",
                        text="I will sue you, my lawyer is calling tomorrow. Food poisoning!")
    response = client.post(f"{API}/{review_id}/approve", json={"draft_version": 1},
                           headers=auth(approver))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "needs_override"


def test_request_draft_and_skip(app, client, make_token):
    writer = make_token("reviews:write")
    review_id = drafted(app, client, writer)
    redraft = client.post(f"{API}/{review_id}/drafts", json={"instruction": "shorter"},
                          headers=auth(writer))
    assert redraft.status_code == 201 and redraft.get_json()["draft"]["version"] == 2
    assert client.post(f"{API}/{review_id}/skip", json={}, headers=auth(writer)).status_code \
        == 422
    skipped = client.post(f"{API}/{review_id}/skip", json={"reason": "spam"},
                          headers=auth(writer))
    assert skipped.status_code == 200 and skipped.get_json()["review"]["status"] == "skipped"
    again = client.post(f"{API}/{review_id}/skip", json={"reason": "spam"}, headers=auth(writer))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_state"


def test_a_redraft_through_a_model_is_stored_on_sqlite(db_url, policy_dir, monkeypatch):
    """With a model configured, the API's redraft calls it (real openai SDK, loopback server)
    before the transaction that stores the draft: inside it, on SQLite, the drafter's token
    count waited on the request's own write lock until the busy timeout and the call failed."""
    import dataclasses

    from plugin.app import create_app
    from plugin.config import LLMSettings, Settings
    from plugin.store.models import DraftRow
    from tests.llm.fake_openai import FakeOpenAI

    from .conftest import SECRET_KEY

    monkeypatch.setenv("MAKERIGHT_POLICY_DIR", policy_dir)
    fake = FakeOpenAI().start()
    settings = dataclasses.replace(Settings.from_env({}), llm=LLMSettings(
        model="test-model", base_url=fake.url, api_key="sk-test-0123456789abcdef", timeout=2.0,
        max_attempts=2))
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": SECRET_KEY,
                      "POLICY_DIR": policy_dir}, settings=settings)
    db = app.extensions["makeright.db"]
    try:
        from plugin.api.tokens import create_token

        with db.session() as session:
            _, writer = create_token(session, "model-writer", ["reviews:write"])
        client = app.test_client()
        review_id = drafted(app, client, writer, "kalt",
                            text="pizza kam kalt an, 50 min gewartet. nie wieder", rating=1,
                            language="de")
        asked = len(fake.requests)
        response = client.post(f"{API}/{review_id}/drafts", json={"instruction": "kürzer bitte"},
                               headers=auth(writer))
        assert response.status_code == 201, response.get_json()
        assert len(fake.requests) > asked
        assert "kürzer bitte" in "\n".join(m["content"]
                                            for m in fake.requests[-1].body["messages"])
        with db.session() as session:
            draft = session.get(DraftRow, session.get(ReviewRow, review_id).current_draft_id)
            assert draft.engine == "llm" and draft.instruction == "kürzer bitte"
    finally:
        db.dispose()
        fake.stop()
