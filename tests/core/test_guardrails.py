"""Every guardrail, each with a draft that must fail it and one that must pass."""
import pytest

from plugin.classify import classifier_for
from plugin.drafts import Draft
from plugin.guardrails import check

CONTACT = "Please email us at care@harbourlane.example."


def codes(policy, review, text, offer_id=None, platform=None, escalate=()):
    draft = Draft(text=text, engine="human", language="en",
                  platform=platform or review.platform, offer=policy.offer(offer_id),
                  escalation_reasons=list(escalate))
    return {v.code for v in check(draft, review, policy)}


@pytest.fixture
def delivery_review(make_review):
    return make_review(text="My delivery arrived two hours late.", rating=2)


def test_clean_reply_passes(policy, delivery_review):
    text = f"Hi Jane, I'm sorry about the late delivery. {CONTACT} – Maya"
    assert codes(policy, delivery_review, text) == set()


@pytest.mark.parametrize("platform, limit_text", [
    ("google_play", "x" * 351), ("app_store", "x" * 5971), ("google_business", "é" * 2049)])
def test_too_long(policy, make_review, platform, limit_text):
    review = make_review(platform=platform)
    assert "too_long" in codes(policy, review, limit_text)
    assert "too_long" not in codes(policy, review, limit_text[: len(limit_text) // 2])


def test_google_business_counts_bytes(policy, make_review):
    review = make_review(platform="google_business")
    assert "too_long" in codes(policy, review, "é" * 2049)
    assert "too_long" not in codes(policy, review, "e" * 4096)


def test_offer_outside_allowed_set(policy, delivery_review, make_review):
    # replace_item is for damaged/wrong/quality problems, not a late delivery.
    assert "offer_not_allowed" in codes(policy, delivery_review, "Sorry.", "replace_item")
    assert "offer_not_allowed" not in codes(policy, delivery_review, "Sorry.",
                                            "refund_delivery_fee")
    praise = make_review(rating=5, text="Lovely delivery, thanks")
    assert "offer_not_allowed" in codes(policy, praise, "Thanks!", "refund_delivery_fee")


def test_money_over_cap_or_not_offered(policy, delivery_review):
    over = "We'd like to refund the delivery fee (up to €60)."
    assert "offer_over_cap" in codes(policy, delivery_review, over, "refund_delivery_fee")
    within = "We'd like to offer a refund of the delivery fee (up to €6)."
    assert codes(policy, delivery_review, within, "refund_delivery_fee") == set()
    assert "amount_not_offered" in codes(policy, delivery_review, "Here is 10 EUR for you.")
    assert "offer_over_cap" in codes(policy, delivery_review, "A refund of $6 for the delivery.",
                                     "refund_delivery_fee")


def test_percentages(policy, make_review):
    review = make_review(text="We waited an hour and the staff were rude.", rating=1)
    assert "offer_over_cap" in codes(policy, review, "Enjoy 50% off your next order.",
                                     "next_visit_discount")
    assert codes(policy, review, "Enjoy 20% off your next order.", "next_visit_discount") == set()
    assert "amount_not_offered" in codes(policy, review, "We are 100 percent sorry.")


def test_promise_words_need_the_offer(policy, delivery_review):
    assert "unlisted_promise" in codes(policy, delivery_review, "We will send you a voucher.")
    assert "unlisted_promise" in codes(policy, delivery_review, "Te damos un reembolso.")
    assert "unlisted_promise" in codes(policy, delivery_review, "Ein Kulanzgutschein für Sie.")
    assert "unlisted_promise" in codes(policy, delivery_review, "Enjoy a free year of cakes!")
    # The chosen offer refunds the delivery fee, not the whole order.
    assert "unlisted_promise" in codes(policy, delivery_review, "You get a full refund of your "
                                       "order.", "refund_delivery_fee")
    assert "unlisted_promise" not in codes(policy, delivery_review, "Feel free to email us.")
    assert "unlisted_promise" not in codes(policy, delivery_review,
                                           "We'll refund the delivery fee.",
                                           "refund_delivery_fee")


def test_banned_phrases(policy, delivery_review):
    assert "banned_phrase" in codes(policy, delivery_review, "Honestly, get used to it.")
    assert "banned_phrase" in codes(policy, delivery_review, "Please DELETE YOUR REVIEW.")
    assert "banned_phrase" not in codes(policy, delivery_review, "We are sorry.")


def test_emails_phones_and_links(policy, delivery_review):
    assert "email" in codes(policy, delivery_review, "Write to boss@gmail.com")
    assert "email" not in codes(policy, delivery_review, CONTACT)
    assert "phone" in codes(policy, delivery_review, "Call +44 20 7946 0958 today.")
    assert "phone" not in codes(policy, delivery_review, "We open at 9 and close at 17.")
    assert "link" in codes(policy, delivery_review, "See https://evil.example.com/x")
    assert "link" in codes(policy, delivery_review, "Visit bit.ly/abc")
    assert "link" in codes(policy, delivery_review, "![x](https://evil.test/?q=secret)")
    assert "link" not in codes(policy, delivery_review,
                               "See https://www.harbourlane.example/help.")


def test_personal_data_echoed_from_the_review(policy, make_review):
    review = make_review(text="Order #48213 never came. Reach me at jo@mail.test or 0612345678.")
    assert "pii_echo" in codes(policy, review, "Sorry about order 48213.")
    assert "pii_echo" in codes(policy, review, "We'll write to JO@mail.test.")
    assert "pii_echo" in codes(policy, review, "We'll call 06 12 34 56 78.")
    assert "pii_echo" not in codes(policy, review, f"Sorry your order never came. {CONTACT}")
    wrote_to_us = make_review(text="I wrote to care@harbourlane.example three times.")
    assert "pii_echo" not in codes(policy, wrote_to_us, f"Sorry we did not answer. {CONTACT}")


def test_markup(policy, delivery_review):
    for text in ("<b>Sorry</b>", "Sorry &amp; thanks", "<script>x()</script>",
                 "[click](http://harbourlane.example)", "**Sorry**", "javascript:alert(1)"):
        assert "markup" in codes(policy, delivery_review, text), text
    assert "markup" not in codes(policy, delivery_review, "Sorry, 5 < 6 & that's it.")


def test_invisible_characters(policy, delivery_review):
    assert "invisible_chars" in codes(policy, delivery_review, "Sorry\u200b about that.")
    assert "invisible_chars" in codes(policy, delivery_review, "Sorry\U000e0041 about that.")
    assert "invisible_chars" not in codes(policy, delivery_review, "Sorry about that.\n\nMaya")


def test_offer_on_escalated_review(policy, make_review):
    review = make_review(text="The delivery was late and I got food poisoning. My lawyer "
                              "will call.", rating=1)
    assert classifier_for(policy).classify(review).escalate
    assert "offer_on_escalation" in codes(policy, review, "Sorry.", "refund_delivery_fee")
    assert "offer_on_escalation" not in codes(policy, review, f"We take this seriously. {CONTACT}")


def test_empty(policy, delivery_review):
    assert codes(policy, delivery_review, "   ") == {"empty"}


HOSTILE_RUNS = ["0", "a", "a.", "1.1", "-", "A1", "a-", "www.", "#1", "A-1", "# 1"]


def test_hostile_runs_are_checked_in_linear_time(policy, make_review):
    """A 20,000-character run that once kept the money, percent and e-mail patterns
    backtracking for minutes (and held the database's write lock meanwhile).

    Run in a child process with a generous deadline: a linear scan takes milliseconds even on
    a busy machine, a quadratic one takes minutes.
    """
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        from plugin.guardrails import EMAIL_RE, check
        from plugin.drafting.llm_prompt import mask_personal
        from plugin.guardrails import _PERCENT_BEFORE_RE, _PERCENT_RE, _rules
        from plugin.pii import ORDER_RE, PHONE_RE
        from plugin.policy import load_policy
        rules = _rules(load_policy())
        for run in {HOSTILE_RUNS!r}:
            text = (run * 20000)[:20000]
            for pattern in (EMAIL_RE, rules.money_after, rules.money_before, _PERCENT_RE,
                            _PERCENT_BEFORE_RE, PHONE_RE, ORDER_RE):
                list(pattern.finditer(text))
            mask_personal(text)
        print("done")
    """)
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120)
    assert finished.stdout.strip() == "done", finished.stderr
    review = make_review(text="0" * 20000)
    assert "too_long" in codes(policy, review, "0" * 20000)


@pytest.mark.parametrize("text", ["We refund 1.000,50 € today.", "Take 15 % off next time.",
                                  "A refund of $1,250.99 is on its way.", "Half: 50%."])
def test_amounts_with_separators_are_still_found(policy, delivery_review, text):
    assert "amount_not_offered" in codes(policy, delivery_review, text)


@pytest.mark.parametrize("text, code", [
    ("Write to xcare@harbourlane.example and we'll sort it.", "email"),
    ("Write to care@harbourlane.example.com and we'll sort it.", "email"),
    ("Write to care@harbourlane.examples, or to care@harbourlane.example.", "email"),
    ("Write to care@harbourlane.example or to ana.g@gmail.com.", "email"),
    ("Mail care@harbourlane.example or visit harbour-deals.shop for more.", "link"),
    ("Mail care@harbourlane.example, see https://bit.ly/x2 too.", "link"),
    ("Mail CARE@HARBOURLANE.EXAMPLE, or WWW.harbour-deals.shop.", "link"),
    ("Te regalamos un 20 por ciento en tu próximo pedido.", "amount_not_offered"),
    ("Als Dank 15 Prozent Rabatt auf die nächste Bestellung.", "amount_not_offered"),
    ("Bir sonraki siparişinizde %20 indirim.", "amount_not_offered"),
    ("We will send you 5 pounds for the trouble.", "amount_not_offered"),
    ("Here's **10 off** for you.", "markup"),
    ("Click <a href='x'>here</a>.", "markup"),
])
def test_what_a_reply_may_not_say_is_found_beside_the_policys_own_address(
        policy, delivery_review, text, code):
    """Replies mostly hold the policy's own address and no other; what stands beside it or
    stretches it into another address is still found."""
    assert code in codes(policy, delivery_review, text)


def test_the_policys_own_address_alone_passes_wherever_it_stands(policy, delivery_review):
    for text in ("care@harbourlane.example", "(care@harbourlane.example)",
                 "Mail care@harbourlane.example. Or call.", "«care@harbourlane.example»"):
        assert codes(policy, delivery_review, text) == set(), text


def test_personal_data_in_other_digits_is_not_repeated(policy, make_review):
    review = make_review(text="اتصلوا بي على ٠٥٥٥١٢٣٤٥٦ الطلب لم يصل", rating=1)
    reply = "نعتذر. سنتصل بك على ٠٥٥٥١٢٣٤٥٦ قريبا."
    assert "pii_echo" in codes(policy, review, reply)
    short = make_review(text="Order #12 late, table 4", rating=2)
    assert "pii_echo" not in codes(policy, short, "Sorry about table 4 and order 12.")
