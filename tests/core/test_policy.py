import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.commands.main import cli
from plugin.policy import DEFAULT_DIR, check_policy, load_policy

# The line of the shipped café policy that lists the languages it answers in.
CAFE_LANGUAGES = 'languages = ["en", "es", "de", "fr", "pt", "it", "nl", "id", "tr", "ja", "ar"]'


@pytest.fixture
def policy_copy(tmp_path) -> Path:
    target = tmp_path / "prompts"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_bundled_policy_is_valid():
    assert check_policy() == []
    policy = load_policy()
    assert {"en", "es", "de", "fr", "pt"} <= set(policy.templates)
    assert set(policy.escalation_triggers) == {"legal", "injury", "discrimination", "security",
                                               "self_harm", "harassment", "sexual", "scam"}


@pytest.mark.parametrize("old, new, expected", [
    ('cap = 6\n', 'cap = "six"\n', "policy.toml:offers.refund_delivery_fee.cap: must be a number"),
    ('cap = 6\n', '',
     "policy.toml:offers.refund_delivery_fee.cap: a money offer needs a positive cap"),
    ('kind = "item"', 'kind = "gift"', "policy.toml:offers.replace_item.kind: must be one of"),
    ('ratings = [1, 2, 3]\ncategories = ["damaged"', 'ratings = [0]\ncategories = ["damaged"',
     "policy.toml:offers.replace_item.ratings:"),
    ('categories = ["delivery"]', 'categories = ["teleport"]',
     "policy.toml:offers.refund_delivery_fee.categories: 'teleport' is not a category"),
    ('sign_off = "Maya, Harbour Lane"\n', '', "policy.toml:brand.sign_off: is required"),
    ('response_target_hours = 48', 'response_target_hours = "soon"',
     "policy.toml:brand.response_target_hours: must be a whole number"),
    ('gives.en = "a refund of the delivery fee (up to {amount})"',
     'gives.en = "a refund of the delivery fee"',
     "policy.toml:offers.refund_delivery_fee.gives.en: must contain {amount}"),
    ('triggers = ["legal",', 'triggers = ["weather", "legal",',
     "policy.toml:escalation.triggers: 'weather' has no words"),
    ('[platforms.google_play]', '[platforms.myspace]',
     "policy.toml:platforms.myspace: unknown platform"),
    ('[auto_approve]', '[autopilot]', "policy.toml:autopilot: is not a policy section"),
])
def test_policy_problems_name_file_and_key(policy_copy, old, new, expected):
    edit(policy_copy / "policy.toml", old, new)
    problems = check_policy(policy_copy)
    assert any(p.startswith(expected) for p in problems), problems


def test_template_and_lexicon_problems(policy_copy):
    edit(policy_copy / "templates" / "en.toml", "ads = [", "adverts = [")
    edit(policy_copy / "templates" / "en.toml", 'and = "and"', 'and = ["and"]')
    (policy_copy / "lexicons" / "categories.toml").write_text(
        (policy_copy / "lexicons" / "categories.toml").read_text("utf-8") + '\n[oops]\nen = "x"\n',
        "utf-8")
    problems = check_policy(policy_copy)
    assert "templates/en.toml:and: must be a text" in problems
    assert "templates/en.toml:adverts: is not a template key" not in problems
    assert "lexicons/categories.toml:oops.en: must be a list of non-empty texts" in problems


def add_category(folder: Path, name: str, words: str) -> None:
    lexicon = folder / "lexicons" / "categories.toml"
    lexicon.parent.mkdir(exist_ok=True)
    existing = lexicon.read_text("utf-8") if lexicon.exists() else ""
    lexicon.write_text(f"{existing}\n[{name}]\nen = [{words}]\n", "utf-8")


def test_missing_wording_is_named_for_each_language_the_policy_answers_in(policy_copy):
    add_category(policy_copy, "animals", '"enclosure was empty"')
    edit(policy_copy / "policy.toml", 'gives.fr = "une vérification',
         'gives.xx = "une vérification')
    problems = check_policy(policy_copy)
    for lang in ("en", "es", "de", "fr", "pt"):
        assert f"templates/{lang}.toml:problems.animals: missing for {lang}" in problems
    assert "policy.toml:offers.correct_charge.gives: missing for fr" in problems

    # Answering only in English and Spanish: nothing is asked of the other languages.
    edit(policy_copy / "policy.toml", CAFE_LANGUAGES,
         'languages = ["en", "es"]')
    problems = check_policy(policy_copy)
    assert sorted(problems) == ["templates/en.toml:problems.animals: missing for en",
                                "templates/es.toml:problems.animals: missing for es"]
    edit(policy_copy / "policy.toml", "problems.cleanliness = [\"the",
         'problems.animals = ["the empty enclosure"]\nproblems.cleanliness = ["the')
    edit(policy_copy / "policy.toml", "problems.cleanliness = [\"el",
         'problems.animals = ["el recinto vacío"]\nproblems.cleanliness = ["el')
    assert check_policy(policy_copy) == []
    policy = load_policy(policy_copy)
    assert set(policy.templates) == {"en", "es"}
    assert policy.templates["es"].problems["animals"] == ("el recinto vacío",)


def test_a_language_without_any_phrasing_is_named(policy_copy):
    edit(policy_copy / "policy.toml", CAFE_LANGUAGES,
         'languages = ["en", "sw"]')
    problems = check_policy(policy_copy)
    assert "templates/sw.toml:-: missing for sw" in problems
    assert "policy.toml:offers.replace_item.gives: missing for sw" in problems


def test_invalid_toml_and_missing_files(policy_copy):
    (policy_copy / "policy.toml").write_text("brand = [", "utf-8")
    (policy_copy / "system.md").write_text("", "utf-8")
    problems = check_policy(policy_copy)
    assert any(p.startswith("policy.toml:-: not valid TOML") for p in problems)
    assert "system.md:-: file is missing or empty" in problems


def test_cli_reports_every_problem(policy_copy):
    edit(policy_copy / "policy.toml", 'kind = "item"', 'kind = "gift"')
    edit(policy_copy / "policy.toml", 'cap = 15', 'cap = -1')
    result = CliRunner().invoke(cli, ["policy", "check", str(policy_copy)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert any(line.startswith("policy.toml:offers.replace_item.kind:") for line in lines)
    assert any(line.startswith("policy.toml:offers.goodwill_voucher.cap:") for line in lines)
    ok = CliRunner().invoke(cli, ["policy", "check"])
    assert ok.exit_code == 0 and "OK" in ok.output


def test_allowed_offers(policy):
    ids = lambda offers: [o.id for o in offers]  # noqa: E731
    assert ids(policy.allowed_offers(1, ["delivery"], False)) == ["refund_delivery_fee",
                                                                   "goodwill_voucher"]
    assert ids(policy.allowed_offers(3, ["delivery"], False)) == ["refund_delivery_fee"]
    assert policy.allowed_offers(5, ["delivery"], False) == []
    assert policy.allowed_offers(1, ["delivery"], True) == []


def test_money_is_written_in_the_offers_currency_and_the_replys_number_format(policy_copy):
    from dataclasses import replace

    from plugin.drafting import draft_review
    from plugin.guardrails import check
    from tests.conftest import _make_review as make_review

    edit(policy_copy / "policy.toml", 'cap = 6\ncurrency = "EUR"', 'cap = 50\ncurrency = "INR"')
    policy = load_policy(policy_copy)
    written = {}
    for lang, text in (("en", "The delivery was late, 2 hours late!!"),
                       ("de", "Die Lieferung kam zu spät, zwei Stunden zu spät"),
                       ("fr", "livraison en retard encore une fois"),
                       ("es", "el pedido llegó tarde otra vez")):
        review = make_review(text=text, rating=1, platform="google_business")
        draft = draft_review(review, policy)
        assert draft.offer and draft.offer.id == "refund_delivery_fee", (lang, draft.text)
        assert draft.language == lang and draft.violations == [], draft.violations
        assert "€" not in draft.text
        written[lang] = draft.offer.amount_text(policy.templates[lang])
        # The same amount over the cap is caught whatever the language writes it as.
        over = replace(draft, text=draft.text.replace(written[lang],
                                                      written[lang].replace("50", "80")))
        assert [v.code for v in check(over, review, policy)] == ["offer_over_cap"], lang
    assert written == {"en": "₹50", "de": "50 ₹", "fr": "50 ₹", "es": "50 INR"}
    voucher = policy.offer("next_visit_discount")
    assert voucher.amount_text(policy.templates["fr"]) == "20 %"
    assert voucher.amount_text(policy.templates["en"]) == "20%"
