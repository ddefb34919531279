"""The prompt masker and the guardrails share one idea of the customer's personal data: what the
model is not shown is exactly what a public reply may not repeat."""
import pytest

from plugin.drafting.llm_prompt import mask_personal
from tests.core.test_guardrails import CONTACT, codes

ORDER_NUMBERS = ["#48213", "# 48213", "AB-77120", "PO5531", "5531234", "#A-2024"]
NOT_ORDER_NUMBERS = ["2024", "45", "€12.50", "1,250"]


@pytest.mark.parametrize("number", ORDER_NUMBERS)
def test_an_order_number_is_masked_and_may_not_be_repeated(policy, make_review, number):
    text = f"pedido {number} nunca llegó, fatal!!"
    masked = mask_personal(text)
    assert number not in masked and number.lstrip("#").strip() not in masked
    assert "[order number]" in masked or "[phone]" in masked
    review = make_review(text=text)
    repeated = number.lstrip("#").strip()
    assert "pii_echo" in codes(policy, review, f"Sorry about order {repeated}. {CONTACT}")


@pytest.mark.parametrize("value", NOT_ORDER_NUMBERS)
def test_years_short_numbers_and_prices_are_neither_masked_nor_refused(policy, make_review,
                                                                        value):
    text = f"waited since {value} lol, never again"
    assert mask_personal(text) == text
    review = make_review(text=text)
    assert "pii_echo" not in codes(policy, review, f"Sorry about the wait since {value}. "
                                                   f"{CONTACT}")


REALISTIC = ("Ordered on 3 March 2024, order #A-12345, then a second one (order 998877) for "
             "€12.50. Nobody answered at +49 30 1234567, (555) 123-4567 or 0176/1234567 or "
             "030-555 12 34. Write to jane.doe+shop@example.co.uk. Refund to my IBAN "
             "DE89 3704 0044 0532 0130 00, or my UK account GB29NWBK60161331926819.")
# Each as the review wrote it, and how a careless reply might repeat it.
PERSONAL = [("#A-12345", "A-12345"), ("998877", "998877"), ("+49 30 1234567", "+49 (30) 123 4567"),
            ("(555) 123-4567", "555-123-4567"), ("0176/1234567", "0176 1234567"),
            ("030-555 12 34", "0305551234"), ("jane.doe+shop@example.co.uk",
                                              "Jane.Doe+shop@example.co.uk"),
            ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
            ("GB29NWBK60161331926819", "GB29 NWBK 6016 1331 9268 19")]


@pytest.mark.parametrize(("written", "repeated"), PERSONAL)
def test_what_the_prompt_hides_is_what_a_reply_may_not_repeat(policy, make_review, written,
                                                              repeated):
    masked = mask_personal(REALISTIC)
    assert written not in masked
    review = make_review(text=REALISTIC)
    assert "pii_echo" in codes(policy, review, f"About {repeated}: sorry. {CONTACT}")


def test_realistic_text_is_masked_whole_and_the_rest_is_left(policy, make_review):
    masked = mask_personal(REALISTIC)
    assert masked.count("[order number]") == 2
    assert masked.count("[phone]") == 4
    assert masked.count("[email]") == 1
    assert masked.count("[bank account]") == 2
    # Neither side reads a year, a date or a price as personal data.
    assert "3 March 2024" in masked and "€12.50" in masked
    review = make_review(text=REALISTIC)
    assert "pii_echo" not in codes(policy, review, f"Sorry about March 2024 and the €12.50. "
                                                   f"{CONTACT}")


@pytest.mark.parametrize("piece", ["3704", "0044", "0532", "0130", "0176"])
def test_a_group_inside_a_phone_or_iban_is_not_an_order_number_of_its_own(policy, make_review,
                                                                           piece):
    """The masker reads "DE89 3704 0044 ..." as one bank account, so the guardrails do too: a
    reply that happens to contain one of its groups repeats nothing."""
    assert piece in REALISTIC and piece not in mask_personal(REALISTIC)
    review = make_review(text=REALISTIC)
    assert "pii_echo" not in codes(policy, review, f"We open at {piece[:2]}:{piece[2:]}. "
                                                   f"{CONTACT}")
