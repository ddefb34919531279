"""Sign-in, sessions, cookies, headers and the configuration the app refuses to start with."""
from __future__ import annotations

import base64
import json
import zlib

import pytest
from flask import Flask

from plugin.app import InsecureConfig, create_app

from .webtools import PASSWORD, SECRET, build_app, login, make_config

PAGES = ["/", "/queue", "/reviews/1", "/settings/users", "/settings/sources", "/settings/policy"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_login(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize("path", ["/reviews/1/approve", "/reviews/1/post", "/reviews/1/save",
                                  "/queue/bulk", "/settings/users"])
def test_anonymous_posts_are_sent_to_login(app, path):
    response = app.test_client().post(path, data={})
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_wrong_password_is_refused(app):
    response = login(app.test_client(), "editor", "not the password")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.com", "//evil.com", "\\\\evil.com",
                                    "/\\evil.com", "javascript:alert(1)", "http:/evil.com",
                                    "/\t/evil.com", "evil.com"])
def test_next_only_goes_to_local_paths(app, target):
    client = app.test_client()
    response = client.post("/login", data={"name": "editor", "password": PASSWORD,
                                           "next": target})
    assert response.status_code == 302
    assert response.location == "/queue"


def test_next_keeps_a_local_path(app):
    response = app.test_client().post("/login", data={"name": "editor", "password": PASSWORD,
                                                      "next": "/reviews/3?x=1"})
    assert response.location == "/reviews/3?x=1"


def test_login_page_escapes_next(app):
    html = app.test_client().get('/login?next=/q"><script>x</script>').get_data(as_text=True)
    assert "<script>x</script>" not in html


def test_account_is_locked_after_five_failures(app):
    client = app.test_client()
    for _ in range(5):
        assert login(client, "editor", "wrong").status_code == 401
    locked = login(client, "editor", PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == 15 * 60
    # Another account from the same address still works: the account limit is per account.
    assert login(client, "viewer").status_code == 302


def test_address_is_limited_across_accounts(app):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    client = app.test_client()
    for name in ("a1", "a2", "a3"):
        assert login(client, name, "wrong").status_code == 401
    assert login(client, "viewer").status_code == 429
    other = app.test_client()
    response = other.post("/login", data={"name": "viewer", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302


def test_failures_are_shared_between_app_instances(tmp_path, app):
    """Two workers (two app objects on one database) count the same failures."""
    second = create_app(make_config(tmp_path))
    for _ in range(3):
        login(app.test_client(), "approver", "wrong")
    for _ in range(2):
        login(second.test_client(), "approver", "wrong")
    assert login(second.test_client(), "approver").status_code == 429


def test_inactive_user_cannot_sign_in(app, as_role):
    admin = as_role("admin")
    users = admin.get("/settings/users").get_data(as_text=True)
    assert "viewer" in users
    from plugin.accounts import UserRow, find_user
    from plugin.app import get_db
    with app.app_context(), get_db().session() as session:
        row: UserRow = find_user(session, "viewer")
        user_id = row.id
    assert admin.post(f"/settings/users/{user_id}", data={"role": "viewer"}).status_code == 302
    assert login(app.test_client(), "viewer").status_code == 401


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie")
               if c.startswith("makeright_session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def _decode(cookie: str) -> dict:
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(data) if compressed else data)


def test_session_cookie_flags_and_contents(app):
    response = login(app.test_client(), "approver")
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    session = _decode(cookie)
    # Flask-Login's id, freshness flag and "strong" protection hash; nothing about the person.
    assert set(session) <= {"_user_id", "_fresh", "_id", "_permanent", "csrf_token"}
    assert session["_user_id"].isdigit()
    assert "approver" not in json.dumps(session) and PASSWORD not in json.dumps(session)


def test_demo_mode_may_drop_secure_but_nothing_else(tmp_path):
    app = build_app(tmp_path, MODE="demo")
    cookie = _session_cookie(login(app.test_client(), "editor"))
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_security_headers(app, as_role):
    for response in (app.test_client().get("/login"), as_role("viewer").get("/queue")):
        csp = response.headers["Content-Security-Policy"]
        for part in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
            assert part in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script(app, as_role):
    html = as_role("admin").get("/queue").get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html and " style=" not in html


def test_logout_needs_post_and_ends_the_session(as_role):
    client = as_role("editor")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/queue").status_code == 302


@pytest.mark.parametrize("key", [None, "", "short", "dev", "changeme" * 5, "a" * 64,
                                 "please-change-this-secret-key-in-production",
                                 "0123" * 10])
def test_refuses_to_start_without_a_real_secret_key(tmp_path, monkeypatch, key):
    monkeypatch.delenv("MAKERIGHT_SECRET_KEY", raising=False)
    config = make_config(tmp_path)
    config.pop("SECRET_KEY")
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(InsecureConfig, match="SECRET_KEY"):
        create_app(config)


def test_secret_key_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_SECRET_KEY", SECRET)
    config = make_config(tmp_path)
    config.pop("SECRET_KEY")
    assert isinstance(create_app(config), Flask)


def test_refuses_debug_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(InsecureConfig, match="debug"):
        create_app(make_config(tmp_path))


def test_production_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({**make_config(tmp_path), "TESTING": False})
    assert app.debug is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
