"""The daily digest: its figures, email through a local SMTP server, and the outbound event."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from plugin.commands.main import cli
from plugin.insights import digest
from plugin.insights.mail import MailError, SmtpSettings
from plugin.outbound.events import DIGEST
from plugin.outbound.models import OutboxEvent

from ..constants import TEST_FERNET_KEY
from .seed import at, seed
from .smtp_sink import SmtpSink

# Yesterday is 2026-11-27: r12 and r18 were written that day, neither has a reply.
NOW = "2026-11-28T06:00:00+00:00"


@pytest.fixture
def seeded(database, database_url, policy, monkeypatch):
    ids = seed(database, policy)
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", database_url)
    monkeypatch.setenv("MAKERIGHT_DIGEST_FROM", "digest@harbourlane.example")
    return ids


def test_digest_figures(seeded, database, policy):
    with database.session() as session:
        made = digest.make(session, policy, at("2026-11-28T06:00"))
    payload = made.payload()
    assert payload["day"] == "2026-11-27"
    assert (payload["received"], payload["replied"], payload["response_rate"]) == (2, 0, 0.0)
    # Past 48 h at 06:00 on the 28th: r20 (since 25 Oct) and r11 (since the 25th, 78 h).
    assert payload["waiting_past_target"] == 2
    assert [w["id"] for w in payload["oldest_waiting"]] == [seeded["r20"], seeded["r11"]]
    assert payload["oldest_waiting"][1]["hours_waiting"] == 78.0
    assert payload["escalations_open"] == 2
    assert "Waiting past the 48 h target now: 2" in made.text()


def test_digest_email_is_sent_once_per_day(seeded, monkeypatch):
    runner = CliRunner()
    for address in ("owner@harbourlane.example", "Manager@Harbourlane.example"):
        assert runner.invoke(cli, ["digest", "subscribe", address]).exit_code == 0
    with SmtpSink() as sink:
        monkeypatch.setenv("MAKERIGHT_SMTP_URL", sink.url)
        first = runner.invoke(cli, ["digest", "--send", "--now", NOW])
        assert first.exit_code == 0, first.output
        assert "emailed 2, 0 already had it; event emitted" in first.output
        again = runner.invoke(cli, ["digest", "--send", "--now", NOW])
        assert "emailed 0, 2 already had it" in again.output
    assert sorted(r for _, recipients, _ in sink.messages for r in recipients) == [
        "manager@harbourlane.example", "owner@harbourlane.example"]
    _, _, message = sink.messages[0]
    assert message["Subject"] == "MakeRight: 2 reviews on 2026-11-27, 2 waiting"
    assert message["From"] == "digest@harbourlane.example"
    assert "Open escalations: 2" in message.get_payload(decode=True).decode()


def test_digest_event_is_emitted_once(seeded, database, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", "1")
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", TEST_FERNET_KEY)
    runner = CliRunner()
    added = runner.invoke(cli, ["webhook", "add", "http://127.0.0.1:9/chat", "--events", DIGEST])
    assert added.exit_code == 0, added.output
    first = runner.invoke(cli, ["digest", "--send", "--now", NOW])
    assert "event emitted" in first.output, first.output
    assert "event already emitted" in runner.invoke(cli, ["digest", "--send", "--now", NOW]).output
    with database.session() as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.type == DIGEST)).all()
        assert [(e.payload["data"]["day"], e.payload["data"]["received"]) for e in events] == [
            ("2026-11-27", 2)]


def test_digest_refuses_to_send_without_smtp(seeded, monkeypatch):
    monkeypatch.delenv("MAKERIGHT_SMTP_URL", raising=False)
    runner = CliRunner()
    runner.invoke(cli, ["digest", "subscribe", "owner@harbourlane.example"])
    result = runner.invoke(cli, ["digest", "--send", "--now", NOW])
    assert result.exit_code == 1 and "no SMTP server is configured" in result.output
    assert runner.invoke(cli, ["digest", "unsubscribe", "owner@harbourlane.example"]).exit_code == 0
    assert runner.invoke(cli, ["digest", "unsubscribe", "owner@harbourlane.example"]).exit_code == 1


def test_digest_prints_without_send(seeded):
    result = CliRunner().invoke(cli, ["digest", "--now", NOW])
    assert result.exit_code == 0 and "MakeRight digest for 2026-11-27 (UTC)" in result.output


def test_smtp_url_forms():
    assert SmtpSettings.from_url("smtp://mail:2525") == SmtpSettings("mail", 2525, "none")
    secure = SmtpSettings.from_url("smtps://me%40x.example:p%3Ass@mail")
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        465, "implicit", "me@x.example", "p:ss")
    assert SmtpSettings.from_url("smtp://mail?starttls=1").tls == "starttls"
    with pytest.raises(MailError):
        SmtpSettings.from_url("http://mail")
