"""Every state-changing route refuses a request without a CSRF token (FL-3)."""
from __future__ import annotations

import re

from plugin.extensions import csrf

from .webtools import PASSWORD, csrf_token

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _exempt(app, rule) -> bool:
    view = app.view_functions[rule.endpoint]
    name = f"{view.__module__}.{view.__name__}"
    blueprints = rule.endpoint.split(".")[:-1]  # nested: "makeright.api.create_review"
    exempt = {getattr(b, "name", b) for b in csrf._exempt_blueprints}
    return name in csrf._exempt_views or any(b in exempt for b in blueprints)


def _path(rule) -> str:
    return re.sub(r"<(int|id):\w+>", "1", rule.rule)


def _signed_in(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"name": "admin", "password": PASSWORD,
                                           "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    return client


def test_every_unsafe_route_needs_a_token(csrf_app, seed_csrf):
    client = _signed_in(csrf_app)
    checked = []
    for rule in csrf_app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & UNSAFE):
            if _exempt(csrf_app, rule):
                continue
            response = client.open(_path(rule), method=method, data={"text": "x"})
            assert response.status_code == 400, (rule.rule, method, response.status_code)
            checked.append(rule.rule)
    for expected in ("/login", "/logout", "/queue/bulk", "/reviews/<id:review_id>/approve",
                     "/reviews/<id:review_id>/post", "/settings/users"):
        assert expected in checked


def test_login_without_token_is_refused(csrf_app):
    response = csrf_app.test_client().post("/login", data={"name": "admin",
                                                           "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_a_valid_token_is_accepted(csrf_app, seed_csrf):
    client = _signed_in(csrf_app)
    page = client.get(f"/reviews/{seed_csrf}").get_data(as_text=True)
    response = client.post(f"/reviews/{seed_csrf}/skip",
                           data={"reason": "Spam", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
