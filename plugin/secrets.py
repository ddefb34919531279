"""Encrypting source credentials at rest, with the key kept outside the database.

A leaked database file or backup must not leak live refresh tokens or `.p8` keys, so every
secret setting is sealed with Fernet (AES-CBC + HMAC) under keys from `MAKERIGHT_SECRET_KEYS`
or, for the one-laptop case, a key file in the instance folder created 0600 on first use.
Several keys may be configured: the first encrypts, all decrypt, so a new key can be put in
front and `makeright secrets rotate` re-seals everything under it before the old one goes.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .config import SecretSettings
from .errors import MakeRightError
from .store.db import ensure_instance, instance_path

ENV_KEYS = SecretSettings.VARIABLES[0].name
KEY_FILE = "secret.key"


class SecretKeyError(MakeRightError):
    """The configured keys are missing, malformed, or cannot open a stored secret."""

    code = "secret_key_unusable"
    status = 500



@dataclass(frozen=True)
class SecretBox:
    """Seals and opens stored credentials: source settings and webhook signing secrets."""

    keys: tuple[bytes, ...] = field(repr=False)
    origin: str = ""

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretKeyError(f"no secret key configured in {self.origin}")

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in self.keys])

    def seal(self, secrets: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(secrets).encode("utf-8")).decode("ascii")

    def open(self, token: str, label: str) -> dict[str, Any]:
        """The secrets in `token`; `label` names the owner in the error, never the content."""
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except InvalidToken:
            raise self._unreadable(label) from None

    def rotate(self, token: str, label: str) -> str:
        """The same secrets re-encrypted under the first key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise self._unreadable(label) from None

    def _unreadable(self, label: str) -> SecretKeyError:
        return SecretKeyError(
            f"the secrets of {label} cannot be decrypted with the keys in {self.origin}: the "
            "key they were encrypted with is missing (restore it, or list it after the new key "
            "and run `makeright secrets rotate`), or the stored value is damaged")


def parse_keys(text: str, origin: str) -> tuple[bytes, ...]:
    """Keys separated by commas or newlines; a malformed key is reported by position only."""
    keys = tuple(part.strip().encode("ascii") for part in text.replace("\n", ",").split(",")
                 if part.strip())
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(f"key {number} in {origin} is not a Fernet key (32 url-safe "
                                 "base64-encoded bytes; make one with `makeright secrets "
                                 "new-key`)") from None
    return keys


def key_file(instance: Path | None = None) -> Path:
    return (instance or instance_path()) / KEY_FILE


def load_box(*, create: bool = False, instance: Path | None = None,
             settings: SecretSettings | None = None) -> SecretBox:
    """The configured keys: MAKERIGHT_SECRET_KEYS wins; else the instance key file.

    `create` makes the key file (0600, never overwritten) when neither exists, which only
    commands that store a secret ask for: reading with a brand-new key could never succeed.
    Without `settings` the keys are read when called, so a key put in front for rotation is
    seen by a running process's next request.
    """
    keys = (settings or SecretSettings.from_env()).keys
    if keys:
        return SecretBox(parse_keys(keys, ENV_KEYS), ENV_KEYS)
    path = key_file(instance)
    if not path.exists():
        if not create:
            raise SecretKeyError(f"no secret key: set {ENV_KEYS} or restore {path}")
        write_key_file(path, [Fernet.generate_key()])
    return SecretBox(parse_keys(path.read_text(encoding="ascii"), str(path)), str(path))


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Write keys readable by the owner only; the file is created with 0600, not chmod-ed later."""
    ensure_instance(path.parent)
    text = "".join(key.decode("ascii") + "\n" for key in keys)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(temporary, path)
