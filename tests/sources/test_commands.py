"""`source add/list/test/remove`: validation names the field, secrets stay masked."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from plugin.commands.main import cli
from plugin.sources.models import SourceRow
from plugin.sources.service import SourceError, format_interval, parse_interval

from .conftest import CLIENT_SECRET, NAMES, REFRESH_TOKEN, add_args


def _replace(args: list[str], old: str, new: str) -> list[str]:
    return [new if arg == old else arg for arg in args]


@pytest.mark.parametrize("change, field", [
    (("package_name=com.example.budget", "package_name=not a package"), "package_name"),
    (("package_name=com.example.budget", "pakage_name=com.example.budget"), "pakage_name"),
    (("--set", "--set"), None),
])
def test_source_add_names_the_bad_field(instance, fake, runner, tmp_path, monkeypatch,
                                        change, field):
    args = add_args("google_play", fake, tmp_path, monkeypatch)
    if field is None:
        args = args[:args.index("--secret-file")]
        field = "service_account_json"
    else:
        args = _replace(args, *change)
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert field in result.stderr
    assert "BEGIN" not in result.output
    db = instance.database()
    with db.session() as session:
        assert session.scalar(select(func.count(SourceRow.id))) == 0
    db.dispose()


def test_source_add_refuses_secrets_on_the_command_line_and_bad_key_files(
        instance, fake, runner, tmp_path, monkeypatch):
    args = add_args("google_business", fake, tmp_path, monkeypatch)
    inline = runner.invoke(cli, args + ["--set", f"refresh_token={REFRESH_TOKEN}"])
    assert inline.exit_code == 1
    assert "refresh_token: is secret; pass it with --secret-file" in inline.stderr
    assert REFRESH_TOKEN not in inline.output

    bad = tmp_path / "not-a-key.json"
    bad.write_text('{"type": "service_account"}')
    play = add_args("google_play", fake, tmp_path, monkeypatch)
    play[-1] = f"service_account_json={bad}"
    refused = runner.invoke(cli, play)
    assert refused.exit_code == 1
    assert "service_account_json: is not a usable service-account key file" in refused.stderr

    missing = runner.invoke(cli, _replace(args, "refresh_token=GBP_REFRESH",
                                          "refresh_token=NO_SUCH_VARIABLE"))
    assert "refresh_token: the environment variable NO_SUCH_VARIABLE is not set" in \
        missing.stderr
    unknown = runner.invoke(cli, ["source", "add", "trustpilot", "x"])
    assert "unknown connector 'trustpilot'" in unknown.stderr


def test_list_masks_secrets_and_remove_keeps_reviews(instance, fake, runner, tmp_path,
                                                     monkeypatch):
    fake.seed("google_business", 3)
    for platform in ("google_business", "app_store"):
        assert runner.invoke(cli, add_args(platform, fake, tmp_path, monkeypatch)).exit_code == 0
    duplicate = runner.invoke(cli, add_args("app_store", fake, tmp_path, monkeypatch))
    assert "a source named 'budget-ios' exists already" in duplicate.stderr
    assert runner.invoke(cli, ["sync", NAMES["google_business"]]).exit_code == 0

    listed = runner.invoke(cli, ["source", "list"])
    assert listed.exit_code == 0
    assert REFRESH_TOKEN not in listed.output and CLIENT_SECRET not in listed.output
    assert "BEGIN" not in listed.output
    assert "client_secret=***" in listed.output and "refresh_token=***" in listed.output
    assert "private_key=***" in listed.output and "key_id=2X9R4HXF34" in listed.output
    assert "bakery-maps  google_business  enabled  every 30m  cursor 2026-11-20T12:00:00Z" \
        in listed.output
    assert "ok: 3 new, 0 updated, 0 unchanged" in listed.output
    assert "budget-ios  app_store  enabled  every 15m  cursor -  last sync: never synced" \
        in listed.output

    removed = runner.invoke(cli, ["source", "remove", NAMES["google_business"]])
    assert removed.stdout.strip() == "removed source bakery-maps; its 3 reviews stay"
    gone = runner.invoke(cli, ["source", "remove", NAMES["google_business"]])
    assert gone.exit_code == 1 and "no source named 'bakery-maps' (sources: budget-ios)" in \
        gone.stderr


def test_source_test_fails_clearly_when_the_platform_refuses(instance, fake, runner, tmp_path,
                                                             monkeypatch):
    assert runner.invoke(cli, add_args("google_business", fake, tmp_path,
                                       monkeypatch)).exit_code == 0
    fake.refresh_token = "1//0a-token-google-no-longer-accepts"
    result = runner.invoke(cli, ["source", "test", NAMES["google_business"]])
    assert result.exit_code == 1
    assert result.stderr.startswith("bakery-maps: FAILED: Google Business Profile: the token "
                                    "endpoint refused the credentials (invalid_grant")
    assert "re-authorise the source" in result.stderr
    assert REFRESH_TOKEN not in result.output


def test_disable_and_enable_switch_the_sync_and_every_change_is_audited(instance, fake, runner,
                                                                         tmp_path, monkeypatch):
    from plugin.store.models import AuditRow

    assert runner.invoke(cli, add_args("app_store", fake, tmp_path, monkeypatch)).exit_code == 0
    off = runner.invoke(cli, ["source", "disable", "budget-ios"])
    assert off.exit_code == 0 and off.stdout.strip() == "budget-ios: disabled"
    assert "budget-ios  app_store  disabled" in runner.invoke(cli, ["source", "list"]).output
    assert runner.invoke(cli, ["source", "enable", "budget-ios"]).exit_code == 0
    assert runner.invoke(cli, ["source", "remove", "budget-ios"]).exit_code == 0
    missing = runner.invoke(cli, ["source", "enable", "budget-ios"])
    assert missing.exit_code == 1 and "no source named 'budget-ios'" in missing.stderr
    db = instance.database()
    with db.session() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action.like("source_%"))
                               .order_by(AuditRow.id)).all()
        assert [(r.actor, r.action) for r in rows] == [
            ("cli", "source_added"), ("cli", "source_disabled"), ("cli", "source_enabled"),
            ("cli", "source_removed")]
        assert rows[0].reason == "budget-ios: app_store, every 15m, secret fields private_key " \
                                 "sealed"
        assert all("BEGIN" not in r.reason for r in rows)
    db.dispose()


def test_intervals():
    assert parse_interval("15m") == 900 and parse_interval("2h") == 7200
    assert parse_interval("1d") == 86400 and parse_interval("120") == 120
    assert format_interval(900) == "15m" and format_interval(90) == "90s"
    for bad in ("soon", "10s", "5 minutes"):
        with pytest.raises(SourceError, match="interval"):
            parse_interval(bad)
