"""Which settings the environment may change, read in one place.

Only the settings listed here are taken from `MAKERIGHT_*` variables. Flask's own switches
(LOGIN_DISABLED, WTF_CSRF_ENABLED, TESTING, DEBUG, ...) and the test hooks are never read from
the environment: a stray `MAKERIGHT_LOGIN_DISABLED=true` in a production environment must not
turn off signing in, and `MAKERIGHT_WTF_CSRF_ENABLED=false` must not turn off CSRF protection.
Code and tests that build an app pass those explicitly to the factory.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PREFIX = "MAKERIGHT_"
ENV_INSTANCE = "MAKERIGHT_INSTANCE"
# App settings an operator sets in the environment (each documented in the README).
APP_SETTINGS: tuple[str, ...] = (
    "SECRET_KEY", "DATABASE_URL", "POLICY_DIR", "PROXY_HOPS",
    "LOGIN_FREE_ATTEMPTS", "LOGIN_FREE_ATTEMPTS_PER_ADDRESS", "LOGIN_BASE_DELAY_SECONDS",
    "LOGIN_MAX_DELAY_SECONDS", "LOGIN_WINDOW_MINUTES", "QUEUE_PAGE_SIZE",
    "WEBHOOK_SECRETS", "WEBHOOK_MAX_BYTES", "WEBHOOK_WAIT_SECONDS", "GOOGLE_PUBSUB_TOKEN",
)

# Read as written: a secret or a path made of digits is still text.
TEXT_SETTINGS = frozenset({"SECRET_KEY", "DATABASE_URL", "POLICY_DIR", "WEBHOOK_SECRETS",
                           "GOOGLE_PUBSUB_TOKEN"})


def _value(key: str, raw: str) -> Any:
    """Numbers as JSON (the factory checks their range), text settings as written."""
    if key in TEXT_SETTINGS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def app_settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The app settings present in the environment, and only those in `APP_SETTINGS`."""
    environ = os.environ if environ is None else environ
    return {key: _value(key, environ[PREFIX + key]) for key in APP_SETTINGS
            if PREFIX + key in environ}


def instance_path() -> Path:
    """Where an installation keeps its database and local files (like Flask's instance folder).

    Here on the ground floor so the policy can find the instance's own copy without the store."""
    return Path(os.environ.get(ENV_INSTANCE) or Path.cwd() / "instance").resolve()
