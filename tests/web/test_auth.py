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


def _age_failures(app, seconds: float) -> None:
    """Move every recorded failure back in time, as if `seconds` had passed."""
    from datetime import timedelta

    from sqlalchemy import select

    from plugin.accounts import LoginFailureRow
    from plugin.context import get_db
    with app.app_context(), get_db().session() as session:
        for failure in session.scalars(select(LoginFailureRow)):
            failure.at -= timedelta(seconds=seconds)


def _failures(app) -> int:
    from sqlalchemy import func, select

    from plugin.accounts import LoginFailureRow
    from plugin.context import get_db
    with app.app_context(), get_db().session() as session:
        return session.scalar(select(func.count()).select_from(LoginFailureRow))


def _from(client, address: str, name: str, password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_guessing_is_slowed_exponentially_and_refused_attempts_count(app):
    attacker = app.test_client()
    for _ in range(3):  # the free attempts
        assert _from(attacker, "203.0.113.9", "admin", "wrong").status_code == 401
    waits = []
    for _ in range(4):
        refused = _from(attacker, "203.0.113.9", "admin", "wrong")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
    assert waits == [1, 2, 4, 8]  # each refused attempt counts, so the wait doubles
    assert _failures(app) == 7
    # The right password during the wait gains nothing, and is counted too.
    right = _from(attacker, "203.0.113.9", "admin")
    assert right.status_code == 429 and int(right.headers["Retry-After"]) == 16
    assert "Try again in 16 seconds" in right.get_data(as_text=True)


def test_the_owner_is_never_locked_out_by_someone_else(app):
    attacker = app.test_client()
    for _ in range(40):
        _from(attacker, "203.0.113.9", "admin", "wrong")
    assert _from(attacker, "203.0.113.9", "admin").status_code == 429
    owner = app.test_client()
    assert _from(owner, "198.51.100.7", "admin").status_code == 302
    assert owner.get("/queue").status_code == 200
    # The owner's success does not reset the attacker's delay.
    assert _from(attacker, "203.0.113.9", "admin").status_code == 429


def test_the_delay_runs_out_and_the_owner_recovers_from_typos(app):
    client = app.test_client()
    for _ in range(3):
        assert _from(client, "198.51.100.7", "editor", "typo").status_code == 401
    too_soon = _from(client, "198.51.100.7", "editor")
    assert too_soon.status_code == 429 and too_soon.headers["Retry-After"] == "1"
    _age_failures(app, 3)  # longer than the 2 s the refused attempt itself added
    assert _from(client, "198.51.100.7", "editor").status_code == 302
    assert _failures(app) == 0  # success clears this address's failures for this account


def test_delays_are_capped(app):
    app.config["LOGIN_MAX_DELAY_SECONDS"] = 60
    client = app.test_client()
    for _ in range(30):
        response = _from(client, "203.0.113.9", "viewer", "wrong")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) == 60


def test_one_address_guessing_many_accounts_is_slowed_across_them(app):
    app.config["LOGIN_FREE_ATTEMPTS_PER_ADDRESS"] = 3
    client = app.test_client()
    for name in ("a1", "a2", "a3"):
        assert _from(client, "203.0.113.9", name, "wrong").status_code == 401
    assert _from(client, "203.0.113.9", "viewer").status_code == 429
    assert _from(app.test_client(), "10.1.2.3", "viewer").status_code == 302


def test_failures_are_shared_between_app_instances(tmp_path, app):
    """Two workers (two app objects on one database) count the same failures."""
    second = create_app(make_config(tmp_path))
    for _ in range(2):
        login(app.test_client(), "approver", "wrong")
    login(second.test_client(), "approver", "wrong")
    assert login(second.test_client(), "approver").status_code == 429


def test_behind_a_proxy_the_forwarded_address_is_used(tmp_path):
    """With MAKERIGHT_PROXY_HOPS=1, people behind one reverse proxy are told apart by the
    address the proxy reports; without it a client cannot choose its address by sending the
    header itself."""
    behind = build_app(tmp_path, PROXY_HOPS=1)
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def via_proxy(client, client_address: str, password: str):
        return client.post("/login", data={"name": "admin", "password": password},
                           headers={"X-Forwarded-For": client_address}, environ_base=proxy)

    attacker = behind.test_client()
    for _ in range(5):
        via_proxy(attacker, "203.0.113.9", "wrong")
    assert via_proxy(attacker, "203.0.113.9", PASSWORD).status_code == 429
    assert via_proxy(behind.test_client(), "198.51.100.7", PASSWORD).status_code == 302

    (tmp_path / "direct").mkdir()
    direct = build_app(tmp_path / "direct", PROXY_HOPS=0)
    spoofer = direct.test_client()
    for number in range(5):
        via_proxy(spoofer, f"192.0.2.{number}", "wrong")  # a new "address" every time
    assert via_proxy(spoofer, "192.0.2.99", PASSWORD).status_code == 429


@pytest.mark.parametrize("hops", ["two", -1, 99])
def test_proxy_hops_must_be_a_small_number(tmp_path, hops):
    with pytest.raises(InsecureConfig, match="PROXY_HOPS"):
        create_app(make_config(tmp_path, PROXY_HOPS=hops))


def test_inactive_user_cannot_sign_in(app, as_role):
    admin = as_role("admin")
    users = admin.get("/settings/users").get_data(as_text=True)
    assert "viewer" in users
    from plugin.accounts import UserRow, find_user
    from plugin.context import get_db
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
    # Flask-Login's id (user id and session generation), freshness flag and "strong"
    # protection hash; nothing about the person.
    assert set(session) <= {"_user_id", "_fresh", "_id", "_permanent", "csrf_token"}
    user_id, generation = session["_user_id"].split(":")
    assert user_id.isdigit() and generation.isdigit()
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
