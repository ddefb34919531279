"""Sources in the browser, for admins: add one with an uploaded key file (sealed like the
command line seals it), test it against the platform, switch its sync off and on, remove it;
every change audited under the admin's name and every form CSRF-protected."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from plugin.context import get_db
from plugin.sources.models import SourceRow
from plugin.store.models import AuditRow
from tests.connectors.support import ec_pem
from tests.sources.fake_platforms import FakePlatforms, Served

from .webtools import csrf_token, login

KEY_ID = "2X9R4HXF34"


@pytest.fixture
def platforms():
    fake = FakePlatforms(refresh_token="unused")
    served = Served(fake)
    yield fake
    served.close()


def _form(platforms, key: str, name: str = "budget-ios") -> dict:
    return {"kind": "app_store", "name": name, "interval": "30m",
            "set:app_id": platforms.app_id,
            "set:issuer_id": "69a6de70-03db-47e3-e053-5b8c7c11a4d1",
            "set:key_id": KEY_ID, "set:base_url": platforms.base_url,
            "file:private_key": (io.BytesIO(key.encode()), f"AuthKey_{KEY_ID}.p8")}


def _audit(app) -> list[tuple[str, str, str]]:
    with app.app_context(), get_db().session() as session:
        return [(a.actor, a.action, a.reason) for a in session.scalars(
            select(AuditRow).where(AuditRow.action.like("source_%")).order_by(AuditRow.id))]


def _source(app, name: str) -> SourceRow | None:
    with app.app_context(), get_db().session() as session:
        return session.scalar(select(SourceRow).where(SourceRow.name == name))


def test_an_admin_adds_tests_disables_and_removes_a_source(app, as_role, platforms):
    client = as_role("admin")
    page = client.get("/settings/sources?kind=app_store").get_data(as_text=True)
    assert 'name="file:private_key" type="file"' in page and 'name="set:key_id"' in page

    key = ec_pem()
    response = client.post("/settings/sources", data=_form(platforms, key),
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = _source(app, "budget-ios")
    assert stored is not None and stored.enabled and stored.interval_seconds == 1800
    assert "BEGIN" not in (stored.secrets or "") and "private_key" not in stored.settings
    page = client.get(response.location).get_data(as_text=True)
    assert "private_key=***" in page and "BEGIN" not in page

    tested = client.post("/settings/sources/budget-ios/test")
    assert tested.status_code == 200
    verdict = tested.get_data(as_text=True).split('id="tested"')[1].split("</p>")[0]
    assert "works" in verdict and "OK" in verdict
    assert platforms.count("GET", f"/v1/apps/{platforms.app_id}/customerReviews") >= 1

    assert client.post("/settings/sources/budget-ios/enabled",
                       data={"enabled": "0"}).status_code == 302
    assert not _source(app, "budget-ios").enabled
    assert client.post("/settings/sources/budget-ios/enabled",
                       data={"enabled": "1"}).status_code == 302
    assert _source(app, "budget-ios").enabled

    assert client.post("/settings/sources/budget-ios/remove").status_code == 302
    assert _source(app, "budget-ios") is None
    assert [(actor, action) for actor, action, _ in _audit(app)] == [
        ("admin", "source_added"), ("admin", "source_tested"), ("admin", "source_disabled"),
        ("admin", "source_enabled"), ("admin", "source_removed")]
    assert all("BEGIN" not in reason for _, _, reason in _audit(app))


def test_a_bad_key_file_is_refused_by_field_and_never_shown_back(app, as_role, platforms):
    client = as_role("admin")
    not_a_key = '{"type": "service_account", "private_key": "not really a key, sorry"}'
    response = client.post("/settings/sources", data={
        "kind": "google_play", "name": "budget-android", "set:package_name": platforms.package,
        "set:base_url": platforms.base_url,
        "file:service_account_json": (io.BytesIO(not_a_key.encode()), "key.json")},
        content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = html.split('id="error"')[1].split("</p>")[0]
    assert "service_account_json: is not a usable service-account key file" in error
    assert "not really a key" not in html
    assert 'value="budget-android"' in html  # plain values come back to fix
    assert _source(app, "budget-android") is None and _audit(app) == []


def test_a_failing_source_says_why(app, as_role, platforms):
    client = as_role("admin")
    client.post("/settings/sources", data=_form(platforms, ec_pem(), name="wrong-app"),
                content_type="multipart/form-data")
    platforms.app_id = "999"  # the platform no longer knows the app
    response = client.post("/settings/sources/wrong-app/test")
    assert response.status_code == 422
    assert "does not work" in response.get_data(as_text=True)
    assert _audit(app)[-1][1:] == ("source_tested", "wrong-app: failed")
    assert client.post("/settings/sources/nothing-here/test").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "editor", "approver"])
def test_only_admins_manage_sources(app, as_role, role, platforms):
    client = as_role(role)
    assert client.get("/settings/sources").status_code == 403
    assert client.post("/settings/sources", data=_form(platforms, ec_pem()),
                       content_type="multipart/form-data").status_code == 403


def test_the_forms_need_the_csrf_token(csrf_app, platforms):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"name": "admin", "password": "correct horse battery",
                                "csrf_token": csrf_token(page)})
    refused = client.post("/settings/sources", data=_form(platforms, ec_pem()),
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and _source(csrf_app, "budget-ios") is None
    token = csrf_token(client.get("/settings/sources?kind=app_store").get_data(as_text=True))
    accepted = client.post("/settings/sources", data={**_form(platforms, ec_pem()),
                                                      "csrf_token": token},
                           content_type="multipart/form-data")
    assert accepted.status_code == 302 and _source(csrf_app, "budget-ios") is not None
    assert login  # the same sign-in the other tests use, done here with a token
