import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.commands.main import cli
from plugin.policy import DEFAULT_DIR, check_policy, load_policy


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
                                               "self_harm"}


@pytest.mark.parametrize("old, new, expected", [
    ('cap = 6\n', 'cap = "six"\n', "policy.toml:offers.refund_delivery_fee.cap: must be a number"),
    ('cap = 6\n', '', "policy.toml:offers.refund_delivery_fee.cap: a money offer needs a positive cap"),
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
    ('[platforms.google_play]', '[platforms.myspace]', "policy.toml:platforms.myspace: unknown platform"),
    ('[auto_approve]', '[autopilot]', "policy.toml:autopilot: is not a policy section"),
])
def test_policy_problems_name_file_and_key(policy_copy, old, new, expected):
    edit(policy_copy / "policy.toml", old, new)
    problems = check_policy(policy_copy)
    assert any(p.startswith(expected) for p in problems), problems


def test_template_and_lexicon_problems(policy_copy):
    edit(policy_copy / "templates" / "en.toml", 'money = "€{amount}"', 'money = "€"')
    edit(policy_copy / "templates" / "en.toml", "ads = [", "adverts = [")
    (policy_copy / "lexicons" / "categories.toml").write_text(
        (policy_copy / "lexicons" / "categories.toml").read_text("utf-8") + '\n[oops]\nen = "x"\n',
        "utf-8")
    problems = check_policy(policy_copy)
    assert "templates/en.toml:money: must contain {amount}" in problems
    assert "templates/en.toml:problems.ads: is required (how to name this problem)" in problems
    assert "templates/en.toml:adverts: is not a template key" not in problems
    assert "lexicons/categories.toml:oops.en: must be a list of non-empty texts" in problems


def test_invalid_toml_and_missing_files(policy_copy):
    (policy_copy / "policy.toml").write_text("brand = [", "utf-8")
    (policy_copy / "system.md").unlink()
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
