"""The Flask application factory, in the manner of the Flask tutorial: configuration from
defaults, then the Settings (plugin.config, by default read from the environment), then the
caller's config; one Database per app; blueprints registered by the features that own them.

The factory is also where the security baseline lives, so no feature can forget it: the secret
key is checked before anything else, cookies are locked down, every response carries the
security headers, and every form is CSRF-protected unless a blueprint explicitly opts out.
"""
from __future__ import annotations

from datetime import timedelta
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .api.common import allow_header, refusal_response
from .config import Settings
from .context import close_session
from .drafting.production import production_drafter, production_translator
from .errors import REFUSALS, MakeRightError, refusal
from .extensions import csrf, login_manager
from .inputs import IdConverter, refuse_unreadable
from .policy import load_policy
from .runtime import install_events
from .sources.resolve import connector_for
from .store.db import Database
from .store.indexes import ensure_statistics

# Feature blueprints, as (module, attribute). Each module owns its routes and templates.
BLUEPRINTS: list[tuple[str, str]] = [
    ("web.auth", "bp"),
    ("web.queue", "bp"),
    ("web.settings", "bp"),
    ("web.integrations", "bp"),
    ("api", "blueprint"),
    ("web.insights", "bp"),
]
# Blueprints whose errors are shown as pages; machine endpoints keep their own error format.
PAGE_BLUEPRINTS = frozenset({"auth", "queue", "settings", "integrations"})
# Answers that hold nothing private and may be cached like static files.
PUBLIC_ENDPOINTS = frozenset({"makeright.meta.manifest_json", "makeright.meta.openapi_json"})
# Paths whose errors are JSON even when no route matched (a malformed id, a typo).
MACHINE_PREFIXES = ("/api/", "/webhooks/")

PRODUCTION, DEMO = "production", "demo"
MIN_SECRET_BYTES = 32
# Keys copied from tutorials, docs and templates; a forged session is one guess away.
KNOWN_SECRETS = frozenset({
    "dev", "development", "secret", "secret-key", "secret_key", "secretkey", "changeme",
    "change-me", "change_me", "changethis", "default", "development key", "your-secret-key",
    "your_secret_key", "super-secret", "supersecret", "super secret key", "please-change-me",
    "replace-me", "insecure", "test", "testing", "flask", "makeright",
    '_5#y2L"F4Q8z\n\xec]/', "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",
})

# Words of a placeholder ("please-change-this-secret-key"), never of a random key.
PLACEHOLDER_WORDS = ("change", "secret", "default", "example", "placeholder", "insecure",
                     "password", "replace")

CSP = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
       "form-action 'self'")


class InsecureConfig(MakeRightError, RuntimeError):
    """Configuration the app will not run with; the message says what to change."""

    code = "insecure_config"
    status = 500



def check_secret_key(key: Any) -> None:
    """Refuse a session key that is missing, short, low-entropy or copied from somewhere."""
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key or b"")
    hint = ("set MAKERIGHT_SECRET_KEY to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex())'`")
    if not raw:
        raise InsecureConfig(f"SECRET_KEY is missing; {hint}")
    if len(raw) < MIN_SECRET_BYTES:
        raise InsecureConfig(f"SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes; {hint}")
    text = raw.decode("utf-8", "replace").strip().lower()
    if text in KNOWN_SECRETS or any(word in text for word in PLACEHOLDER_WORDS) \
            or len(set(raw)) < 8:
        raise InsecureConfig(f"SECRET_KEY is a well-known or trivially guessable value; {hint}")


def _defaults() -> dict[str, Any]:
    return {
        "SECRET_KEY": "",
        "DATABASE_URL": None,
        "POLICY_DIR": None,
        "MODE": PRODUCTION,
        "SESSION_COOKIE_NAME": "makeright_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "LOGIN_FREE_ATTEMPTS": 3,
        "LOGIN_FREE_ATTEMPTS_PER_ADDRESS": 20,
        "LOGIN_BASE_DELAY_SECONDS": 1.0,
        "LOGIN_MAX_DELAY_SECONDS": 900,
        "LOGIN_WINDOW_MINUTES": 60,
        "PROXY_HOPS": 0,
        "QUEUE_PAGE_SIZE": 50,
    }


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """The app for `settings` (default: read from the environment), with `config` on top.

    Flask's switches (TESTING, LOGIN_DISABLED, WTF_CSRF_ENABLED, ...) come only from `config`:
    Settings has no field for them, so no environment variable can reach them."""
    config = dict(config or {})
    settings = Settings.from_env() if settings is None else settings
    folder = Path(config.pop("INSTANCE_PATH", None) or settings.paths.instance)
    app = Flask(__name__, instance_path=str(folder), instance_relative_config=True)
    app.config.from_mapping(_defaults())
    app.config.update(settings.app_config())
    app.config.update(config)
    _secure(app)
    install_services(app, folder, settings)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # a flashed message would be stored in the session
    login_manager.session_protection = "strong"
    for module, attribute in BLUEPRINTS:
        imported = __import__(f"plugin.{module}", fromlist=[attribute])
        register_blueprint(app, getattr(imported, attribute))
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _error_page)
    return app


def install_services(app: Flask, instance: Path, settings: Settings) -> None:
    """What every MakeRight blueprint expects on its app, standalone or mounted in a host."""
    from .web.templating import install

    app.extensions["makeright.settings"] = settings
    # Before any blueprint is registered: rules are compiled with the converters known then.
    app.url_map.converters["id"] = IdConverter
    app.extensions.setdefault("makeright.blueprints", set())
    app.before_request(refuse_unreadable)
    app.after_request(_no_store)
    database = Database(app.config.get("DATABASE_URL"))
    ensure_statistics(database.engine)
    app.extensions["makeright.db"] = database
    # A broken policy stops start-up, not a request.
    load_policy(app.config.get("POLICY_DIR"), settings.paths)
    app.extensions["makeright.drafter"] = production_drafter(database, settings.llm)
    app.extensions["makeright.translator"] = production_translator(database, settings.llm)
    app.extensions["makeright.connector_for"] = partial(connector_for, db=database,
                                                        instance=instance)
    app.teardown_appcontext(close_session)
    for root in REFUSALS:
        app.register_error_handler(root, _refusal_page)
    install_events()
    install(app)


def register_blueprint(app: Flask, blueprint: Blueprint, **options: Any) -> None:
    """Register one of MakeRight's blueprints, so the app-wide input and caching rules know
    which requests are MakeRight's (a host app's own pages are left alone)."""
    app.register_blueprint(blueprint, **options)
    app.extensions["makeright.blueprints"].add(blueprint.name)


def _no_store(response):
    """Nothing MakeRight serves to a person or a token may be kept by a browser or a proxy:
    pages, exports, report.json and API answers all carry customers' words. Static files
    (the stylesheet, the script) and public documents are cacheable."""
    top = request.blueprints[-1] if request.blueprints else None
    if top in current_app.extensions.get("makeright.blueprints", ()) \
            and request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


def _secure(app: Flask) -> None:
    """Lock the app down before it can serve a request; only the local demo may relax cookies."""
    mode = app.config["MODE"]
    if mode not in (PRODUCTION, DEMO):
        raise InsecureConfig(f"MODE must be {PRODUCTION} or {DEMO}, not {mode!r}")
    check_secret_key(app.config["SECRET_KEY"])
    if mode == PRODUCTION and app.debug:
        raise InsecureConfig("debug mode exposes the Werkzeug debugger (remote code execution); "
                             "unset FLASK_DEBUG in production")
    secure = mode == PRODUCTION
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    try:
        hops = int(app.config["PROXY_HOPS"])
    except (TypeError, ValueError):
        hops = -1
    if not 0 <= hops <= 10:
        raise InsecureConfig("PROXY_HOPS (MAKERIGHT_PROXY_HOPS) is the number of reverse "
                             "proxies in front of MakeRight: 0 (none) to 10")
    app.config["PROXY_HOPS"] = hops
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["MODE"] == PRODUCTION:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _csrf_error(error: CSRFError):
    if request.blueprint not in PAGE_BLUEPRINTS:
        return error
    return render_template("error.html", code=400, title="The form expired",
                           message="Your form was missing its security token or it had "
                                   "expired. Go back, reload the page and try again."), 400


def _error_page(error: HTTPException):
    if request.blueprint is None and request.path.startswith(MACHINE_PREFIXES) \
            and error.code is not None and error.code >= 400:
        # No route matched, so no blueprint's JSON error handler ran.
        return _json_error(error)
    if request.blueprint not in PAGE_BLUEPRINTS or error.code is None or error.code < 400:
        return error
    return render_template("error.html", code=error.code, title=error.name,
                           message=error.description), error.code


def _refusal_page(error: Exception):
    """A refusal no view answered itself: its message on the error page, with its status.

    The API blueprints answer their own in JSON before this runs; a machine path without a
    blueprint gets the same JSON here.
    """
    answer = refusal(error)
    top = request.blueprints[-1] if request.blueprints else None
    if answer is None or (top is not None
                          and top not in current_app.extensions["makeright.blueprints"]):
        raise error  # not a refusal, or a host app's own page: not ours to answer
    if top is None and request.path.startswith(MACHINE_PREFIXES):
        return refusal_response(error)
    return render_template("error.html", code=answer.status, title=_status_title(answer.status),
                           message=answer.message), answer.status


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Refused"


def _json_error(error: HTTPException):
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.code or 500,
                                                              "invalid_request")
    body = {"error": {"code": code, "message": error.description or error.name}}
    return body, error.code, allow_header(error)
