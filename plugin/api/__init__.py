"""Integrations: the signed review webhook, Google push, the REST API, outbound events, the
manifest and the OpenAPI document, mounted as one blueprint.

Importing this package connects outbound events to the state machine, so every process that
serves the API, runs the CLI or delivers webhooks records events the same way.
"""
from flask import Blueprint

from ..outbound import events
from .gbp_push import bp as gbp_bp
from .manifest import bp as meta_bp
from .rest import bp as rest_bp
from .webhooks import bp as webhooks_bp

events.install()

blueprint = Blueprint("makeright", __name__)
for child in (rest_bp, webhooks_bp, gbp_bp, meta_bp):
    blueprint.register_blueprint(child)

__all__ = ["blueprint"]
