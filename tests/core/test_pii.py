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
