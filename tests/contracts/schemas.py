"""Validators built from the platforms' own schema files, kept beside these tests.

The Google discovery document refers to schemas by bare name and the App Store Connect OpenAPI
file by `#/components/schemas/...`; both become JSON Schema 2020-12 here. Neither source forbids
unknown properties, so every object that lists its properties is closed: a fixture field the
platform does not define (a typo, an invented field) then fails instead of passing silently.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = Path(__file__).parent
PLAY_DISCOVERY = HERE / "androidpublisher.v3.reviews.json"
APP_STORE_OPENAPI = HERE / "app_store_connect.customer_reviews.json"
GOOGLE_BUSINESS = HERE / "google_business_v4.reviews.schema.json"

FORMATS = FormatChecker()


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    """Google sends int64 as a JSON string of digits."""
    return not isinstance(value, str) or re.fullmatch(r"-?\d{1,19}", value) is not None


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -2**31 <= value < 2**31


@FORMATS.checks("uint32")
def _uint32(value: object) -> bool:
    return not isinstance(value, int) or 0 <= value < 2**32


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if isinstance(value, str):
        if "T" not in value.upper():
            raise ValueError("no time part")
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
        if datetime.fromisoformat(text).tzinfo is None:
            raise ValueError("no offset")
    return True


def _closed(node: Any) -> Any:
    """Forbid properties a schema object does not list (unless it already says otherwise)."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: (_closed_properties(value) if key == "properties" else _closed(value))
           for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _closed_properties(properties: dict[str, Any]) -> dict[str, Any]:
    return {name: _closed(schema) for name, schema in properties.items()}


def _by_name_refs(node: Any) -> Any:
    """Discovery `{"$ref": "Review"}` -> JSON Schema `{"$ref": "#/$defs/Review"}`."""
    if isinstance(node, list):
        return [_by_name_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: (f"#/$defs/{value}" if key == "$ref" and isinstance(value, str)
                  and not value.startswith("#") else _by_name_refs(value))
            for key, value in node.items()}


@cache
def play(name: str) -> Draft202012Validator:
    doc = json.loads(PLAY_DISCOVERY.read_text())
    defs = _closed(_by_name_refs(doc["schemas"]))
    return Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{name}"},
                                format_checker=FORMATS)


@cache
def app_store(name: str) -> Draft202012Validator:
    doc = json.loads(APP_STORE_OPENAPI.read_text())
    doc = {**doc, "components": {**doc["components"],
                                 "schemas": _closed(doc["components"]["schemas"])}}
    resource = Resource(contents=doc, specification=DRAFT202012)
    registry = Registry().with_resource("urn:asc", resource)
    return Draft202012Validator({"$ref": f"urn:asc#/components/schemas/{name}"},
                                registry=registry, format_checker=FORMATS)


@cache
def google_business(name: str) -> Draft202012Validator:
    doc = json.loads(GOOGLE_BUSINESS.read_text())
    return Draft202012Validator({**copy.deepcopy(doc), "$ref": f"#/$defs/{name}"},
                                format_checker=FORMATS)
