"""The queue blueprint: the list, one review, and bulk actions. Every page needs a signed-in
user; each state-changing route also names the role it needs."""
from flask import Blueprint

from ..auth import require_login

bp = Blueprint("queue", __name__)
bp.before_request(require_login)

from . import bulk, listing, review, teamwork  # noqa: E402,F401  (routes register on bp)
