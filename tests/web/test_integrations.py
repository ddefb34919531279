"""The admin page for the kill switch, outbound endpoints and inbound webhook secrets."""
from sqlalchemy import select

from plugin.context import get_db
from plugin.outbound.models import WebhookEndpoint, WebhookSecret
from plugin.outbound.signing import unseal
from plugin.pipeline.control import is_paused
from tests.constants import TEST_FERNET_KEY

PAGE = "/settings/integrations/"


def test_only_admins_see_it(app, as_role):
    assert as_role("approver").get(PAGE).status_code == 403
    assert as_role("admin").get(PAGE).status_code == 200


def test_pause_and_resume_flip_the_kill_switch(app, as_role):
    admin = as_role("admin")
    admin.post(f"{PAGE}pause", data={"paused": "1", "reason": "Checking the policy"})
    with app.app_context(), get_db().session() as session:
        assert is_paused(session)
    assert "Resume posting" in admin.get(PAGE).get_data(as_text=True)
    admin.post(f"{PAGE}pause", data={"paused": "0"})
    with app.app_context(), get_db().session() as session:
        assert not is_paused(session)


def test_endpoint_secret_is_shown_once_and_stored_sealed(app, as_role, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", TEST_FERNET_KEY)
    monkeypatch.setenv("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", "1")
    admin = as_role("admin")
    page = admin.post(f"{PAGE}endpoints", data={"url": "http://127.0.0.1:9/hook",
                                                "events": ["reply.posted", "draft.ready"]})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "will not be shown again" in text
    with app.app_context(), get_db().session() as session:
        row = session.scalar(select(WebhookEndpoint))
        secret = unseal(row.sealed_secret)
        assert row.events == ["reply.posted", "draft.ready"] and secret not in row.sealed_secret
    assert secret in text and secret not in admin.get(PAGE).get_data(as_text=True)
    bad = admin.post(f"{PAGE}endpoints", data={"url": "http://127.0.0.1:9/x",
                                               "events": ["review.deleted"]})
    assert bad.status_code == 422 and "unknown event" in bad.get_data(as_text=True)
    admin.post(f"{PAGE}endpoints/{row.id}/remove")
    with app.app_context(), get_db().session() as session:
        assert session.scalar(select(WebhookEndpoint)) is None


def test_private_destinations_are_refused(app, as_role, monkeypatch):
    monkeypatch.delenv("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    page = as_role("admin").post(f"{PAGE}endpoints", data={"url": "http://127.0.0.1/hook",
                                                           "events": ["reply.posted"]})
    assert page.status_code == 422


def test_inbound_secret_create_and_revoke(app, as_role, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", TEST_FERNET_KEY)
    admin = as_role("admin")
    page = admin.post(f"{PAGE}secrets", data={"label": "helpdesk"})
    assert "inbound secret for helpdesk" in page.get_data(as_text=True)
    with app.app_context(), get_db().session() as session:
        row = session.scalar(select(WebhookSecret))
        assert row.label == "helpdesk" and unseal(row.sealed_secret).startswith("whsec_")
    admin.post(f"{PAGE}secrets/{row.id}/revoke")
    with app.app_context(), get_db().session() as session:
        assert session.get(WebhookSecret, row.id).revoked_at is not None


def test_sources_page_lists_configured_sources(app, as_role):
    from plugin.sources.models import SourceRow

    with app.app_context(), get_db().session() as session:
        session.add(SourceRow(name="harbour-maps", kind="google_business",
                              settings={"locations": ["accounts/1/locations/2"]},
                              last_sync_result="3 new, 0 updated, 0 unchanged"))
    text = as_role("admin").get("/settings/sources").get_data(as_text=True)
    assert "harbour-maps" in text and "3 new, 0 updated, 0 unchanged" in text
