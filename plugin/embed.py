"""Mounting MakeRight inside another Flask application.

`create_app()` builds the standalone service; `register(app, url_prefix=...)` puts the same
blueprints (queue, API, webhooks, whatever `plugin.app.BLUEPRINTS` lists) into a host app under
a prefix, with MakeRight's own database. MakeRight's settings keep their standalone names in
the host's config (DATABASE_URL, POLICY_DIR, WEBHOOK_SECRETS, GOOGLE_PUBSUB_TOKEN); values
already set by the host win over the MAKERIGHT_* environment.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flask import Flask

from .app import BLUEPRINTS, install_services, register_blueprint
from .config import Settings
from .extensions import csrf, login_manager

SETTINGS = ("DATABASE_URL", "POLICY_DIR", "WEBHOOK_SECRETS", "GOOGLE_PUBSUB_TOKEN",
            "WEBHOOK_MAX_BYTES", "WEBHOOK_WAIT_SECONDS")


def register(app: Flask, url_prefix: str = "", config: dict[str, Any] | None = None,
             settings: Settings | None = None) -> Flask:
    """Mount MakeRight's blueprints on `app` under `url_prefix` (e.g. "/reviews").

    `settings` default to the environment's; the host's own config values win over them."""
    prefix = "/" + url_prefix.strip("/") if url_prefix.strip("/") else ""
    settings = Settings.from_env() if settings is None else settings
    environment = settings.app_config()
    for key in SETTINGS:
        if environment.get(key) is not None:
            app.config.setdefault(key, environment[key])
    app.config.update(config or {})
    install_services(app, Path(app.instance_path), settings)
    host_csrf = app.extensions.get("csrf")
    if host_csrf is None:
        csrf.init_app(app)
    elif host_csrf is not csrf:
        # The host protects its forms with its own CSRFProtect: carry over exactly the
        # exemptions MakeRight declared (the signed machine endpoints), nothing more.
        for exempt in csrf._exempt_blueprints:
            host_csrf.exempt(exempt)
        for view in csrf._exempt_views:
            host_csrf._exempt_views.add(view)
    if not hasattr(app, "login_manager"):
        login_manager.init_app(app)
    for module, attribute in BLUEPRINTS:
        blueprint = getattr(importlib.import_module(f"plugin.{module}"), attribute)
        register_blueprint(app, blueprint, url_prefix=prefix + (blueprint.url_prefix or ""))
    return app
