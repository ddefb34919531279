"""The four connectors are found through their entry points and describe their settings, and
the platforms and their facts are read off them."""
from __future__ import annotations

import ast
from pathlib import Path

import jsonschema
import pytest

from connectors import registry
from connectors.app_store import AppStoreConnector
from connectors.app_store_feed import AppStoreFeedConnector
from connectors.base import Review, ReviewError
from connectors.google_business import GoogleBusinessConnector
from connectors.google_play import GooglePlayConnector

EXPECTED = {
    "google_business": (GoogleBusinessConnector, {"client_secret", "refresh_token"}),
    "google_play": (GooglePlayConnector, {"service_account_json"}),
    "app_store": (AppStoreConnector, {"private_key"}),
    "app_store_feed": (AppStoreFeedConnector, set()),
}


def test_entry_points_name_the_four_connectors():
    found = registry.available()
    assert {name: found[name] for name in EXPECTED} == {
        name: cls for name, (cls, _) in EXPECTED.items()}


@pytest.mark.parametrize("name", EXPECTED)
def test_settings_schema_is_valid_and_marks_secrets(name):
    cls, secrets = EXPECTED[name]
    jsonschema.Draft202012Validator.check_schema(cls.settings_schema)
    properties = cls.settings_schema["properties"]
    assert {key for key, spec in properties.items() if spec.get("secret")} == secrets
    assert "base_url" in properties
    if cls in (GoogleBusinessConnector, GooglePlayConnector):
        assert "token_url" in properties


def test_connectors_never_import_plugin():
    package = Path(__file__).parents[2] / "connectors"
    imported = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    assert imported and "plugin" not in imported


def test_platforms_and_their_facts_come_from_the_installed_connectors():
    names = registry.platform_names()
    assert {"google_business", "google_play", "app_store"} <= set(names) and names[-1] == "other"
    assert registry.label("google_business") == "Google Business"
    assert registry.reply_limit("google_business") == (4096, "bytes")
    assert registry.reply_limit("google_play") == (350, "chars")
    # Two connectors of one platform describe it alike.
    assert registry.Platform.of(AppStoreConnector) == registry.Platform.of(AppStoreFeedConnector)
    # A platform no connector registers still has a label and the limit of "other".
    assert registry.label("myspace") == "myspace"
    assert registry.reply_limit("myspace") == registry.reply_limit("other")


def test_an_unregistered_platform_is_refused_naming_the_field_and_the_registered_ones():
    with pytest.raises(ReviewError) as caught:
        Review.from_json({"platform": "myspace", "external_id": "1", "rating": 5,
                          "created_at": "2026-11-01T09:30:00Z"})
    assert caught.value.field == "platform"
    assert caught.value.problem == f"must be one of {', '.join(registry.platform_names())}"
