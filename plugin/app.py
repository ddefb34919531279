"""The Flask application factory, in the manner of the Flask tutorial: configuration from
defaults, then the environment, then the caller; one Database per app; blueprints registered
by the features that own them."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app

from .extensions import csrf, login_manager
from .store.db import Database, instance_path

# Feature blueprints, as (module, attribute). Each module owns its routes and templates.
BLUEPRINTS: list[tuple[str, str]] = [("api", "blueprint"), ("insights.views", "bp")]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path()), instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("MAKERIGHT_SECRET_KEY", ""),
        DATABASE_URL=os.environ.get("MAKERIGHT_DATABASE_URL"),
        POLICY_DIR=os.environ.get("MAKERIGHT_POLICY_DIR"),
    )
    app.config.from_prefixed_env("MAKERIGHT")
    if config:
        app.config.update(config)
    app.extensions["makeright.db"] = Database(app.config["DATABASE_URL"])
    csrf.init_app(app)
    login_manager.init_app(app)
    for module, attribute in BLUEPRINTS:
        imported = __import__(f"plugin.{module}", fromlist=[attribute])
        app.register_blueprint(getattr(imported, attribute))
    return app


def get_db() -> Database:
    return current_app.extensions["makeright.db"]
