"""`makeright demo`, `makeright user add` and the serve command's refusal of a weak key."""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from plugin.commands.main import cli


def counts(instance) -> tuple[int, int, int]:
    engine = create_engine(f"sqlite:///{instance / 'makeright.sqlite'}")
    with engine.connect() as connection:
        found = tuple(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                      for table in ("reviews", "drafts", "users"))
    engine.dispose()
    return found


def test_demo_twice_duplicates_nothing(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(instance))
    monkeypatch.delenv("MAKERIGHT_DEMO_PASSWORD", raising=False)
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Sign in as admin with the password: " in first.output
    reviews, drafts, users = counts(instance)
    assert reviews >= 30 and drafts == reviews and users == 1
    second = runner.invoke(cli, ["demo", "--no-serve"])
    assert second.exit_code == 0 and "0 new reviews" in second.output
    assert "password: " not in second.output
    assert counts(instance) == (reviews, drafts, users)


def test_demo_data_covers_platforms_ratings_and_languages():
    from plugin.sources.resolve import demo_reviews_file
    lines = [json.loads(line) for line in demo_reviews_file().read_text().splitlines()]
    assert {r["platform"] for r in lines} == {"google_business", "google_play", "app_store"}
    assert {r["rating"] for r in lines} == {1, 2, 3, 4, 5}
    assert {"en", "es", "de", "fr", "pt"} <= {r["language"] for r in lines}


def test_demo_password_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path))
    monkeypatch.setenv("MAKERIGHT_DEMO_PASSWORD", "my demo password")
    result = CliRunner().invoke(cli, ["demo", "--no-serve"])
    assert result.exit_code == 0 and "my demo password" not in result.output
    from plugin.app import create_app

    from .webtools import make_config
    app = create_app({**make_config(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'makeright.sqlite'}"})
    response = app.test_client().post("/login", data={"name": "admin",
                                                      "password": "my demo password"})
    assert response.status_code == 302


def test_user_add_reads_the_password_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 'u.sqlite'}")
    secret = tmp_path / "pw"
    secret.write_text("a long password here\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["user", "add", "maya", "--role", "approver",
                                 "--password-file", str(secret)])
    assert result.exit_code == 0 and "added maya (approver)" in result.output
    again = runner.invoke(cli, ["user", "add", "maya", "--password-file", str(secret)])
    assert again.exit_code == 1 and "already exists" in again.output
    prompted = runner.invoke(cli, ["user", "add", "li", "--role", "viewer"],
                             input="another long one\nanother long one\n")
    assert prompted.exit_code == 0 and "added li (viewer)" in prompted.output


def test_serve_refuses_a_weak_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 's.sqlite'}")
    monkeypatch.setenv("MAKERIGHT_SECRET_KEY", "dev")
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 1 and "SECRET_KEY" in result.output
