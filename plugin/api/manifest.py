"""The plugin manifest: MakeRight's contract for hosts, integrators and AI assistants.

It is generated from code (version, events, registered connectors and their settings schemas,
the bundled policy files), served at /manifest.json, and written to the repository root by
`makeright manifest --write`; a test fails when the file and the code disagree.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, request

from connectors.registry import available

from .. import __version__
from ..outbound.events import EVENTS, envelope_schema
from ..policy import DEFAULT_DIR
from .openapi import build_openapi
from .tokens import SCOPES

REPOSITORY_FILE = Path(__file__).resolve().parents[2] / "manifest.json"

DESCRIPTION = ("Self-hosted review-response assistant: fetches bad reviews from Google Business "
               "Profile, Google Play and the App Store, drafts a sincere reply that apologises "
               "and offers to make it right within the company's written policy, and puts it "
               "in a queue where a person approves and posts it.")
DESCRIPTION_FOR_ASSISTANTS = (
    "Use MakeRight to submit customer reviews (POST /webhooks/reviews, signed, or POST "
    "/api/v1/reviews with a bearer token and an Idempotency-Key), read the drafted reply "
    "(GET /api/v1/reviews/{id}), edit it, and approve it (naming the draft_version you read) "
    "or post it only when the token has the replies:approve or replies:post scope; posting is "
    "queued (202) and the review's status shows the outcome. Never set overwrite unless the "
    "person you act for has read the public reply it replaces and asked for it. Offers and "
    "wording are bound by the company policy; "
    "never promise anything the draft does not contain. Escalated reviews (legal, injury, "
    "discrimination, data incidents, self-harm) need a person: do not approve them without a "
    "written override reason from that person.")


def policy_files() -> list[str]:
    root = DEFAULT_DIR
    return sorted(f"{root.name}/{path.relative_to(root).as_posix()}"
                  for path in root.rglob("*") if path.is_file())


def connectors_json() -> dict[str, Any]:
    return {name: {"platform": cls.platform, "answerable": cls.answerable,
                   "settings_schema": cls.settings_schema}
            for name, cls in available().items()}


def build_manifest(prefix: str = "") -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": "makeright",
        "version": __version__,
        "description": DESCRIPTION,
        "description_for_assistants": DESCRIPTION_FOR_ASSISTANTS,
        "endpoints": {
            "queue": f"{prefix}/",
            "api": f"{prefix}/api/v1",
            "openapi": f"{prefix}/openapi.json",
            "manifest": f"{prefix}/manifest.json",
            "webhook": f"{prefix}/webhooks/reviews",
            "google_pubsub": f"{prefix}/webhooks/google/pubsub",
        },
        "auth": {
            "api": {"type": "bearer", "scopes": SCOPES,
                    "create": "makeright token create NAME --scopes reviews:read,..."},
            "webhook": {"type": "standard-webhooks", "algorithm": "v1 (HMAC-SHA256)",
                        "tolerance_seconds": 300,
                        "secrets": "MAKERIGHT_WEBHOOK_SECRETS (comma-separated whsec_...) or "
                                   "makeright webhook inbound create"},
            "google_pubsub": {"type": "query-token", "parameter": "token",
                              "config": "MAKERIGHT_GOOGLE_PUBSUB_TOKEN"},
        },
        "events": {name: {"description": spec["description"],
                          "payload_schema": envelope_schema(name)}
                   for name, spec in EVENTS.items()},
        "connectors": connectors_json(),
        "policy_files": policy_files(),
    }


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


bp = Blueprint("meta", __name__)


def _mount_prefix() -> str:
    """Where the app is mounted (a host's url_prefix or a WSGI script root)."""
    rule = request.url_rule.rule if request.url_rule else request.path
    return request.script_root + rule.rsplit("/", 1)[0]


@bp.get("/manifest.json")
def manifest_json():
    return build_manifest(_mount_prefix())


@bp.get("/openapi.json")
def openapi_json():
    return build_openapi(_mount_prefix())
