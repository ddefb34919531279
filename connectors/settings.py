"""Checking a source's settings against its connector's JSON Schema, without echoing secrets."""
from __future__ import annotations

from typing import Any

import jsonschema


def secret_fields(schema: dict[str, Any]) -> set[str]:
    return {name for name, spec in schema.get("properties", {}).items()
            if isinstance(spec, dict) and spec.get("secret")}


def validate_settings(schema: dict[str, Any], settings: dict[str, Any], label: str) -> None:
    """Raise ValueError naming the first bad field; a secret's value never enters the message."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(settings))
    if error is None:
        return
    path = ".".join(str(part) for part in error.absolute_path) or "settings"
    top = str(error.absolute_path[0]) if error.absolute_path else ""
    if top in secret_fields(schema):
        problem = f"is not valid ({error.validator} {error.validator_value!r})"
    else:
        problem = error.message
    raise ValueError(f"{label} settings: {path}: {problem}")
