"""Secrets at rest: ciphertext in the database, rotation, wrong keys and the key file."""
from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from plugin.commands.main import cli
from plugin.secrets import SecretBox, SecretKeyError, load_box, parse_keys
from plugin.sources.service import config_of, get_source
from tests.connectors.support import ec_pem

from .conftest import CLIENT_SECRET, NAMES, REFRESH_TOKEN, add_args


def _raw_sources(instance) -> list[tuple]:
    db = instance.database()
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT name, settings, secrets FROM sources")).all()
    db.dispose()
    return [tuple(row) for row in rows]


def _add_all(runner, fake, tmp_path, monkeypatch) -> None:
    for platform in NAMES:
        result = runner.invoke(cli, add_args(platform, fake, tmp_path, monkeypatch))
        assert result.exit_code == 0, result.output


def test_secrets_are_ciphertext_that_the_key_opens(instance, fake, runner, tmp_path,
                                                   monkeypatch):
    _add_all(runner, fake, tmp_path, monkeypatch)
    raw = _raw_sources(instance)
    assert len(raw) == 3
    dump = repr(raw)
    for secret in ("-----BEGIN", "1//", REFRESH_TOKEN, CLIENT_SECRET, "PRIVATE KEY"):
        assert secret not in dump
    box = SecretBox((instance.key,), "test")
    opened = {name: box.open(token, name) for name, _, token in raw}
    assert opened[NAMES["google_business"]] == {"refresh_token": REFRESH_TOKEN,
                                                "client_secret": CLIENT_SECRET}
    assert opened[NAMES["app_store"]] == {"private_key": ec_pem()}
    assert '"private_key": "-----BEGIN PRIVATE KEY-----' in \
        opened[NAMES["google_play"]]["service_account_json"]


def test_rotation_leaves_every_secret_readable_with_only_the_new_key(
        instance, fake, runner, tmp_path, monkeypatch):
    _add_all(runner, fake, tmp_path, monkeypatch)
    before = {name: token for name, _, token in _raw_sources(instance)}
    new = Fernet.generate_key()
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", f"{new.decode()},{instance.key.decode()}")
    rotated = runner.invoke(cli, ["secrets", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "3 sources" in rotated.stdout

    after = {name: token for name, _, token in _raw_sources(instance)}
    only_new, only_old = SecretBox((new,), "new"), SecretBox((instance.key,), "old")
    for name, token in after.items():
        assert token != before[name]
        assert only_new.open(token, name) == SecretBox((instance.key,), "old").open(
            before[name], name)
        with pytest.raises(SecretKeyError):
            only_old.open(token, name)
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", new.decode())
    tested = runner.invoke(cli, ["source", "test", NAMES["app_store"]])
    assert tested.exit_code == 0, tested.output


def test_a_wrong_key_gives_a_clear_error(instance, fake, runner, tmp_path, monkeypatch):
    fake.seed("google_play", 1)
    result = runner.invoke(cli, add_args("google_play", fake, tmp_path, monkeypatch))
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", Fernet.generate_key().decode())
    name = NAMES["google_play"]
    for command in (["source", "test", name], ["sync", name], ["secrets", "rotate"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 1
        assert f"the secrets of source '{name}' cannot be decrypted with the keys in " \
               "MAKERIGHT_SECRET_KEYS" in result.output
    assert fake.requests == []
    db = instance.database()
    with db.session() as session:
        assert "cannot be decrypted" in get_source(session, name).last_sync_error
    db.dispose()


def test_a_malformed_key_is_named_by_position_not_value():
    with pytest.raises(SecretKeyError, match="key 2 in MAKERIGHT_SECRET_KEYS is not a Fernet"):
        parse_keys(f"{Fernet.generate_key().decode()}, not-a-key", "MAKERIGHT_SECRET_KEYS")


def test_the_key_file_is_created_once_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("MAKERIGHT_SECRET_KEYS", raising=False)
    with pytest.raises(SecretKeyError, match="no secret key: set MAKERIGHT_SECRET_KEYS"):
        load_box(instance=tmp_path)
    first = load_box(create=True, instance=tmp_path)
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = first.seal({"refresh_token": REFRESH_TOKEN})
    again = load_box(create=True, instance=tmp_path)
    assert again.keys == first.keys
    assert again.open(token, "x") == {"refresh_token": REFRESH_TOKEN}
    assert REFRESH_TOKEN not in repr(again) and first.keys[0].decode() not in repr(again)


def test_source_add_without_configured_keys_creates_the_key_file(instance, fake, runner,
                                                                 tmp_path, monkeypatch):
    monkeypatch.delenv("MAKERIGHT_SECRET_KEYS")
    result = runner.invoke(cli, add_args("app_store", fake, tmp_path, monkeypatch))
    assert result.exit_code == 0, result.output
    path = instance.path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    db = instance.database()
    with db.session() as session:
        config = config_of(get_source(session, NAMES["app_store"]), load_box())
    db.dispose()
    assert config.settings["private_key"] == ec_pem()
    assert "PRIVATE" not in repr(config)
