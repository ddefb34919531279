"""Starter policies: each kind of business gets a folder that passes the check and drafts its
own kind of reviews with offers that make sense for it, and nothing of the café."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.bundled import KINDS
from plugin.commands.main import cli
from plugin.drafting import draft_review
from plugin.jsonl import read_reviews
from plugin.policy import check_policy, load_policy, policy_dir
from plugin.starters import write_starter

DATA = Path(__file__).resolve().parents[1] / "data" / "kinds"

# The offers a reply may make for each kind: an app user is never offered a table, a dish
# or a parcel; a patient is never offered money.
FITTING = {
    "app": {"priority_support", "subscription_check", "premium_month"},
    "restaurant": {"remake_dish", "takeout_refund", "dessert_on_us", "check_correction",
                   "goodwill_credit"},
    "retail": {"exchange_or_repair", "price_check", "hold_when_back", "store_credit"},
    "ecommerce": {"send_replacement", "shipping_refund", "return_and_refund", "charge_check"},
    "hotel": {"room_upgrade", "late_checkout", "folio_check", "night_refund"},
    "attraction": {"return_visit", "ticket_refund", "cafe_credit"},
    "clinic": {"priority_appointment", "billing_review"},
    "services": {"return_visit", "callout_refund", "invoice_check", "cleaning_visit"},
}
# Words that belong to another kind of business: a reply containing them is off.
OFF_KIND = {
    "app": ("table", "dish", "delivered", "replacement", "visit", "meal"),
    "clinic": ("refund", "voucher", "discount", "your treatment"),
    "services": ("table", "dish", "app team"),
}
CAFE = ("harbour lane", "maya", "tables and floor", "welcome you back", "see you next time",
        "next order", "cake")


def test_every_kind_has_reviews():
    assert sorted(KINDS) == sorted(FITTING)
    assert sorted(p.stem for p in DATA.glob("*.jsonl")) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_starter_drafts_its_own_reviews_with_fitting_offers(tmp_path, kind):
    folder = write_starter(tmp_path / kind, kind)
    assert check_policy(folder) == []
    policy = load_policy(folder)
    assert {o.id for o in policy.offers} == FITTING[kind]
    with (DATA / f"{kind}.jsonl").open("rb") as stream:
        reviews = [item for _, item in read_reviews(stream)]
    assert len(reviews) == 20 and all(hasattr(r, "rating") for r in reviews), reviews
    offered = 0
    for review in reviews:
        draft = draft_review(review, policy)
        assert draft.violations == [], (review.text, draft.text, draft.violations)
        lowered = draft.text.lower()
        assert not [w for w in CAFE if w in lowered], draft.text
        assert not [w for w in OFF_KIND.get(kind, ()) if w in lowered], draft.text
        # The brand's own sign-off in its default language; the language's own team sign-off
        # elsewhere, so no reply ends in another language.
        own = policy.templates[draft.language].strings.get("sign_off", "")
        signs = (policy.brand["sign_off"], own.format(brand=policy.brand["name"]))
        assert any(sign and sign in draft.text for sign in signs) \
            or draft.platform in policy.platforms, draft.text
        if draft.offer is None:
            continue
        offered += 1
        assert draft.offer.id in FITTING[kind]
        assert not draft.escalation_reasons
        # The offer is worded in the reply's own language, never another one's.
        assert draft.offer.words(policy.templates[draft.language]) in draft.text
    assert offered >= 10, f"only {offered} of 20 {kind} reviews got an offer"


def test_policy_init_writes_a_folder_and_never_overwrites(tmp_path):
    runner = CliRunner()
    target = tmp_path / "zoo"
    result = runner.invoke(cli, ["policy", "init", str(target), "--kind", "attraction"])
    assert result.exit_code == 0, result.output
    assert (target / "policy.toml").read_text("utf-8").startswith("# ──")
    assert "Riverside Zoo" in (target / "policy.toml").read_text("utf-8")
    check = runner.invoke(cli, ["policy", "check", str(target)])
    assert check.exit_code == 0 and "OK" in check.output, check.output
    again = runner.invoke(cli, ["policy", "init", str(target), "--kind", "hotel"])
    assert again.exit_code == 1 and "not empty" in again.output
    unknown = runner.invoke(cli, ["policy", "init", str(tmp_path / "x"), "--kind", "bakery"])
    assert unknown.exit_code == 2 and "bakery" in unknown.output


def test_init_gives_the_instance_an_editable_policy_that_every_command_uses(
        tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("MAKERIGHT_POLICY_DIR", raising=False)
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["init", "--kind", "services"])
    assert result.exit_code == 0, result.output
    copy = tmp_path / "instance" / "policy"
    assert policy_dir() == copy
    assert load_policy().brand["name"] == "Clearline Plumbing & Heating"
    policy_file = copy / "policy.toml"
    policy_file.write_text(policy_file.read_text("utf-8").replace(
        'name = "Clearline Plumbing & Heating"', 'name = "Clearline North"'), "utf-8")
    assert load_policy().brand["name"] == "Clearline North"
    second = runner.invoke(cli, ["init"])
    assert second.exit_code == 0 and "left as it is" in second.output
    assert "Clearline North" in policy_file.read_text("utf-8")
