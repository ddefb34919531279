"""An instance folder, a database on both engines, a Fernet key and the fake platforms."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from plugin.store.db import Database
from tests.connectors.support import ec_pem, service_account_info

from .fake_platforms import FakePlatforms, Served

REFRESH_TOKEN = "1//0sources-refresh-token-kept-secret"
CLIENT_SECRET = "GOCSPX-sources-client-secret"
NAMES = {"google_business": "bakery-maps", "google_play": "budget-android",
         "app_store": "budget-ios"}


@dataclass
class Instance:
    path: Path
    url: str
    key: bytes

    def database(self) -> Database:
        return Database(self.url)


@pytest.fixture
def instance(tmp_path, database_url, monkeypatch) -> Instance:
    """Environment for the CLI: its own folder, a migrated database and one secret key."""
    key = Fernet.generate_key()
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", database_url)
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", key.decode())
    return Instance(tmp_path / "instance", database_url, key)


@pytest.fixture
def fake():
    platforms = FakePlatforms(refresh_token=REFRESH_TOKEN)
    served = Served(platforms)
    yield platforms
    served.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def add_args(platform: str, fake: FakePlatforms, tmp_path: Path, monkeypatch) -> list[str]:
    """`source add` arguments for a platform, secrets through a file or the environment."""
    name = NAMES[platform]
    if platform == "google_business":
        monkeypatch.setenv("GBP_REFRESH", REFRESH_TOKEN)
        monkeypatch.setenv("GBP_CLIENT_SECRET", CLIENT_SECRET)
        return ["source", "add", platform, name,
                "--set", "client_id=client-1.apps.googleusercontent.com",
                "--set", f"locations={fake.gbp_location}",
                "--set", f"base_url={fake.base_url}", "--set", f"token_url={fake.base_url}/token",
                "--secret-env", "refresh_token=GBP_REFRESH",
                "--secret-env", "client_secret=GBP_CLIENT_SECRET", "--interval", "30m"]
    if platform == "google_play":
        key = tmp_path / "service-account.json"
        key.write_text(json.dumps(service_account_info()))
        return ["source", "add", platform, name, "--set", f"package_name={fake.package}",
                "--set", f"base_url={fake.base_url}", "--set", f"token_url={fake.base_url}/token",
                "--secret-file", f"service_account_json={key}"]
    key = tmp_path / "AuthKey_2X9R4HXF34.p8"
    key.write_text(ec_pem())
    return ["source", "add", platform, name, "--set", f"app_id={fake.app_id}",
            "--set", "issuer_id=69a6de70-03db-47e3-e053-5b8c7c11a4d1",
            "--set", "key_id=2X9R4HXF34", "--set", f"base_url={fake.base_url}",
            "--secret-file", f"private_key={key}"]
