"""Integrations: the signed review webhook, Google push, the REST API, the manifest and the
OpenAPI document, mounted as one blueprint. Outbound events are connected to the state machine
by `plugin.runtime.install_events`, which the app factory and the command line call.
"""
from flask import Blueprint

from .gbp_push import bp as gbp_bp
from .manifest import bp as meta_bp
from .rest import bp as rest_bp
from .webhooks import bp as webhooks_bp

blueprint = Blueprint("makeright", __name__)
for child in (rest_bp, webhooks_bp, gbp_bp, meta_bp):
    blueprint.register_blueprint(child)

__all__ = ["blueprint"]
