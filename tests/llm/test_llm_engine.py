"""The LLM engine against the loopback server: each kind of answer, and what the rules make
of it."""
from __future__ import annotations

import json

import pytest

from plugin.drafting import draft_review
from plugin.drafts import DraftFailed
from plugin.guardrails import check
from tests.llm.fake_openai import answer, error

GOOD_REPLY = ("Hi Jane, I'm so sorry the cake arrived damaged and late. Please write to "
              "care@harbourlane.example and we will put it right. – Maya, Harbour Lane")


def reply(text: str = GOOD_REPLY, offer_id: str | None = "replace_item", **extra) -> dict:
    return {"categories": ["damaged"], "escalate": False, "escalation_reason": None,
            "offer_id": offer_id, "reply": text, "note": "Offered a replacement.", **extra}


def user_content(request) -> str:
    return next(m["content"] for m in request.body["messages"] if m["role"] == "user")


def test_valid_answer_becomes_a_clean_draft_with_the_policy_offer(fake, drafter, policy,
                                                                   make_review):
    fake.script(answer(reply()))
    review = make_review()
    draft = draft_review(review, policy, drafter)
    assert draft.engine == "llm" and draft.text == GOOD_REPLY
    assert draft.offer is policy.offer("replace_item")
    assert draft.violations == []
    assert draft.language == "en" and draft.review_language == "en"
    assert draft.prompt_tokens > 100 and draft.completion_tokens > 10
    assert "Model note: Offered a replacement." in draft.note
    assert len(fake.requests) == 1
    body = fake.requests[0].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert "tools" not in body and "functions" not in body and "tool_choice" not in body


def test_invalid_json_is_a_draft_failure(fake, drafter, policy, make_review):
    fake.script(answer('{"reply": "Sorry about that", "offer_id": '))
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "unparseable"
    assert failed.value.prompt_tokens > 0
    assert len(fake.requests) == 1


def test_offer_outside_the_enum_is_asked_again_then_accepted(fake, drafter, policy, make_review):
    fake.script(answer(reply(offer_id="free_year")), answer(reply()))
    draft = draft_review(make_review(), policy, drafter)
    assert draft.offer is policy.offer("replace_item") and draft.violations == []
    correction = fake.requests[1].body["messages"][-1]["content"]
    assert "free_year" in correction and "offer_id" in correction
    assert fake.requests[1].body["messages"][-2]["role"] == "assistant"
    assert "Redrafted once" in draft.note


def test_offer_outside_the_enum_twice_fails_without_a_draft(fake, drafter, policy, make_review):
    fake.script(answer(reply(offer_id="free_year")), answer(reply(offer_id="cash_500")))
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "schema_invalid" and "cash_500" in failed.value.detail
    assert len(fake.requests) == 2


def test_over_long_play_reply_is_asked_again_and_kept_with_its_violation(
        fake, drafter, policy, make_review):
    long_text = GOOD_REPLY + " We really value you. " * 12
    fake.script(answer(reply(long_text)), answer(reply(long_text + " Truly.")))
    review = make_review(platform="google_play")
    draft = draft_review(review, policy, drafter)
    assert len(fake.requests) == 2
    assert "too_long" in user_content_last(fake)
    assert [v.code for v in draft.violations] == ["too_long"]
    assert draft.text.endswith("Truly.")
    assert "a person must fix it" in draft.note
    assert draft.violations == check(draft, review, policy)


def user_content_last(fake) -> str:
    return fake.requests[-1].body["messages"][-1]["content"]


def test_over_long_reply_fixed_on_the_second_answer(fake, drafter, policy, make_review):
    fake.script(answer(reply(GOOD_REPLY * 3)), answer(reply()))
    draft = draft_review(make_review(platform="google_play"), policy, drafter)
    assert draft.violations == [] and draft.text == GOOD_REPLY


def test_echoed_phone_number_is_flagged_and_never_sent_to_the_model(fake, drafter, policy,
                                                                  make_review):
    review = make_review(text="Cake arrived crushed. Call me on +44 7700 900123 or "
                              "jane.doe@mail.example, order #884213.")
    echo = GOOD_REPLY.replace("Please write", "We will call you on +44 7700 900123, or write")
    fake.script(answer(reply(echo)), answer(reply(echo)))
    draft = draft_review(review, policy, drafter)
    codes = {v.code for v in draft.violations}
    assert {"phone", "pii_echo"} <= codes
    sent = json.dumps([r.body for r in fake.requests])
    assert "7700 900123" not in sent and "jane.doe@mail.example" not in sent
    assert "884213" not in sent
    assert "[phone]" in user_content(fake.requests[0])


def test_refusal_is_a_draft_failure(fake, drafter, policy, make_review):
    fake.script(answer(None, refusal="I can't help with that."))
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "refusal" and "can't help" in failed.value.detail


def test_truncated_answer_is_a_draft_failure(fake, drafter, policy, make_review):
    fake.script(answer('{"categories": [], "escalate": false, "reply": "Sorry',
                       finish_reason="length"))
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "truncated"


def test_escalation_by_the_classifier_allows_no_offer(fake, drafter, policy, make_review):
    review = make_review(text="I got food poisoning from your cake and my lawyer will call.")
    fake.script(answer(reply("I'm so sorry to hear you were unwell. Please write to "
                             "care@harbourlane.example so a manager can look into this. "
                             "– Maya, Harbour Lane", offer_id=None, escalate=False)))
    draft = draft_review(review, policy, drafter)
    schema = fake.requests[0].body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["offer_id"] == {"type": "null"}
    assert draft.offer is None and draft.escalate
    assert set(draft.escalation_reasons) >= {"injury", "legal"}


def test_escalation_by_the_model_drops_its_offer(fake, drafter, policy, make_review):
    fake.script(answer(reply(escalate=True, escalation_reason="Customer mentions a chargeback")))
    draft = draft_review(make_review(), policy, drafter)
    assert draft.offer is None
    assert draft.escalation_reasons == ["flagged_by_model"]
    assert "chargeback" in draft.note and "dropped" in draft.note
    assert draft.violations == []


def test_money_beyond_the_offer_is_asked_again_then_kept_flagged(fake, drafter, policy,
                                                                make_review):
    greedy = GOOD_REPLY.replace("we will put it right", "we will refund you €500")
    fake.script(answer(reply(greedy, offer_id=None)), answer(reply(greedy, offer_id=None)))
    draft = draft_review(make_review(), policy, drafter)
    codes = {v.code for v in draft.violations}
    assert "amount_not_offered" in codes and "unlisted_promise" in codes
    correction = user_content_last(fake)
    assert "amount_not_offered" in correction and "500" in correction


def test_server_without_json_schema_gets_the_schema_in_the_prompt(fake, drafter, policy,
                                                                 make_review):
    fenced = "Here you go:\n```json\n" + json.dumps(reply()) + "\n```"
    fake.script(error(400, "Unknown parameter: response_format.json_schema"), answer(fenced),
                answer(json.dumps(reply())))
    first = draft_review(make_review(), policy, drafter)
    second = draft_review(make_review(), policy, drafter)
    assert first.text == GOOD_REPLY and second.text == GOOD_REPLY
    assert first.offer is policy.offer("replace_item")
    assert [("response_format" in r.body) for r in fake.requests] == [True, False, False]
    assert "valid against this JSON schema" in user_content(fake.requests[1])
    assert drafter.schema_in_prompt


def test_prompt_mode_setting_never_sends_response_format(fake, make_drafter, policy,
                                                         make_review):
    drafter = make_drafter(structured_output="prompt")
    fake.script(answer("Sure! " + json.dumps(reply()) + " Hope this helps."))
    draft = draft_review(make_review(), policy, drafter)
    assert draft.text == GOOD_REPLY
    assert "response_format" not in fake.requests[0].body


def test_other_bad_request_fails_without_retry(fake, drafter, policy, make_review):
    fake.script(error(400, "model 'test-model' not found"))
    with pytest.raises(DraftFailed) as failed:
        draft_review(make_review(), policy, drafter)
    assert failed.value.reason == "bad_request" and "not found" in failed.value.detail
    assert len(fake.requests) == 1


def test_no_secret_reaches_the_prompt(fake, drafter, policy, make_review):
    from tests.llm.conftest import API_KEY

    fake.script(answer(reply()))
    draft_review(make_review(), policy, drafter)
    recorded = fake.requests[0]
    assert API_KEY not in json.dumps(recorded.body)
    assert recorded.headers["authorization"] == f"Bearer {API_KEY}"
