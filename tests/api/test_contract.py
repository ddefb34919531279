"""The published contract matches the code: OpenAPI routes, the manifest, embedding."""
from __future__ import annotations

import json
import re

from click.testing import CliRunner
from flask import Flask

import plugin
from connectors.registry import available
from plugin.api.manifest import REPOSITORY_FILE, build_manifest, render
from plugin.api.openapi import build_openapi
from plugin.commands.main import cli
from plugin.outbound.events import EVENTS

from .conftest import auth, encode, review_json, signed

METHODS = {"get", "post", "put", "patch", "delete"}


def routes(app, prefix: str = "") -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("makeright."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).removeprefix(prefix)
        found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def operations(document) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items()
            for method in item if method in METHODS}


def test_every_route_is_documented_and_every_operation_exists(app, client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert routes(app) == operations(document)
    assert set(document["webhooks"]) == set(EVENTS)


def test_every_operation_declares_its_scope_and_json_errors(client):
    document = client.get("/openapi.json").get_json()
    for path, method in operations(document):
        operation = document["paths"][path][method]
        if path.startswith("/api/v1"):
            (requirement,) = operation["security"]
            assert requirement["bearerAuth"][0] in {"reviews:read", "reviews:write",
                                                    "replies:approve", "replies:post"}
            assert "401" in operation["responses"] and "403" in operation["responses"]


def test_manifest_file_matches_the_code():
    assert REPOSITORY_FILE.read_text(encoding="utf-8") == render(build_manifest()), \
        "run `makeright manifest --write`"
    result = CliRunner().invoke(cli, ["manifest", "--check"])
    assert result.exit_code == 0, result.output


def test_manifest_names_version_connectors_and_events(client):
    served = client.get("/manifest.json").get_json()
    assert served["version"] == plugin.__version__ != "0.0.0"
    assert served["name"] == "makeright"
    assert set(served["connectors"]) == set(available())
    for name, cls in available().items():
        assert served["connectors"][name]["settings_schema"] == cls.settings_schema
    assert set(served["events"]) == set(EVENTS)
    assert served["endpoints"]["openapi"] == "/openapi.json"
    assert "prompts/policy.toml" in served["policy_files"]
    assert served["description"] and served["description_for_assistants"]
    assert json.loads(REPOSITORY_FILE.read_text())["version"] == served["version"]


def test_embedded_under_a_prefix_in_a_host_app(db_url, secret, policy_dir, make_token):
    host = Flask("host")
    host.config.update(SECRET_KEY="host-secret-" + "y" * 40, TESTING=True)

    @host.get("/")
    def home():
        return "host home"

    plugin.register(host, url_prefix="/reviews", config={
        "DATABASE_URL": db_url, "WEBHOOK_SECRETS": secret, "POLICY_DIR": policy_dir})
    client = host.test_client()
    assert client.get("/").data == b"host home"
    body = encode(review_json())
    accepted = client.post("/reviews/webhooks/reviews", data=body, headers=signed(secret, body))
    assert accepted.status_code == 202
    status_url = accepted.get_json()["status_url"]
    assert status_url.startswith("/reviews/api/v1/reviews/")
    token = make_token("reviews:read")
    assert client.get(status_url, headers=auth(token)).get_json()["review"]["external_id"] == \
        "r-1"
    manifest = client.get("/reviews/manifest.json").get_json()
    assert manifest["endpoints"]["api"] == "/reviews/api/v1"
    document = client.get("/reviews/openapi.json").get_json()
    assert document["servers"] == [{"url": "/reviews"}]
    assert routes(host, "/reviews") == operations(build_openapi())
    host.extensions["makeright.db"].dispose()
