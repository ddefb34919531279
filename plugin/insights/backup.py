"""Consistent, signed backups and safe restores of the embedded SQLite database.

A live SQLite file must never be copied: the WAL holds committed transactions the main file does
not have yet. `VACUUM INTO` writes one consistent, checkpointed file from a read transaction, so
the app keeps running (and writing) while it runs. On restore, stale -wal/-shm files next to the
target would be replayed onto the restored database and corrupt it, so they are removed first.
PostgreSQL has its own tools (pg_dump / PITR); this module refuses it with directions.

A backup is a whole installation: users and roles, tokens, settings. One edited by hand (a
viewer made admin, a trigger added) would pass any integrity check, so every backup gets a
signature file beside it, `FILE.sig`, an HMAC-SHA256 of the file under a key derived (HKDF) from
the installation's secret keys (MAKERIGHT_SECRET_KEYS or instance/secret.key, the keys that
already seal the credentials inside the backup). Restore refuses a backup without a signature or
whose signature does not match, unless the operator says `--trust-unsigned`; and it never
restores a view or a trigger other than the search index's and the tallies' own (exactly as
`store.search` and `store.tallies` create them), which a MakeRight database does not have.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import make_url

from ..errors import MakeRightError
from ..secrets import SecretKeyError, load_box
from ..store import search, tallies
from ..store.db import database_url

TABLES = ("reviews", "drafts", "review_revisions", "audit_log")
SIGNATURE_FORMAT = "makeright-backup-signature/1"
_KEY_PURPOSE = b"makeright backup signature v1"
TRUST_HINT = ("if you made this backup yourself and it never left your hands, restore it with "
              "--trust-unsigned")
PG_GUIDANCE = (
    "This database is PostgreSQL; back it up with PostgreSQL's own tools, for example\n"
    "  pg_dump --format=custom --file=makeright.dump \"$MAKERIGHT_DATABASE_URL\"\n"
    "and restore with\n"
    "  pg_restore --clean --if-exists --dbname=\"$MAKERIGHT_DATABASE_URL\" makeright.dump\n"
    "(or use your provider's snapshots / point-in-time recovery)."
)


class BackupError(MakeRightError):
    """A backup or restore refused for a reason the operator can act on."""

    code = "backup_refused"



@dataclass(frozen=True)
class Snapshot:
    path: Path
    counts: dict[str, int]


def sqlite_path(url: str | None = None) -> Path:
    """The database file behind the configured URL, or BackupError for PostgreSQL."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(PG_GUIDANCE)
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(parsed.database).resolve()


def check(path: Path) -> dict[str, int]:
    """Run `PRAGMA integrity_check` on a database file and count its rows (read-only)."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened: {exc}") from None
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"{path} fails the integrity check: {'; '.join(result[:5])}")
        objects = connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        names = {name for kind, name, _sql in objects if kind == "table"}
        if "alembic_version" not in names or "reviews" not in names:
            raise BackupError(f"{path} is not a MakeRight database")
        foreign = sorted(f"{kind} {name}" for kind, name, sql in objects
                         if kind == "view" or (kind == "trigger"
                                               and not search.is_own_trigger(name, sql)
                                               and not tallies.is_own_trigger(name, sql)))
        if foreign:
            raise BackupError(f"{path} contains {', '.join(foreign)}; a MakeRight database has "
                              "no views and no triggers but its own, so this one "
                              "was changed by hand")
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in TABLES if t in names}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    finally:
        connection.close()


def backup(target: Path, url: str | None = None, *, force: bool = False) -> Snapshot:
    """Write a consistent copy of the live database to `target`, private to its owner."""
    source = sqlite_path(url)
    target = target.resolve()
    if target == source:
        raise BackupError("the backup cannot overwrite the database itself")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(source, timeout=30)
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("VACUUM INTO ?", (str(partial),))
    finally:
        connection.close()
    os.chmod(partial, 0o600)
    try:
        counts = check(partial)
        signature = _signature(partial, _signing_keys(create=True)[0])
    except (BackupError, SecretKeyError) as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, SecretKeyError):
            raise BackupError(f"the backup cannot be signed: {exc}") from None
        raise
    _write_private(signature_path(target), json.dumps(
        {"format": SIGNATURE_FORMAT, "algorithm": "HMAC-SHA256", "file": target.name,
         "signature": signature}, indent=2) + "\n")
    os.replace(partial, target)
    return Snapshot(target, counts)


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + ".sig")


def verify(path: Path) -> None:
    """Refuse a backup that is unsigned, or changed since it was signed, or signed by an
    installation with other keys."""
    sig_file = signature_path(path)
    if not sig_file.is_file():
        raise BackupError(f"{path} is not signed ({sig_file.name} is missing), so nothing shows "
                          f"it is the backup that was made; {TRUST_HINT}")
    try:
        stored = json.loads(sig_file.read_text(encoding="utf-8"))
        expected = str(stored["signature"]) if stored.get("format") == SIGNATURE_FORMAT else ""
    except (ValueError, KeyError, TypeError, AttributeError):
        expected = ""
    if not expected:
        raise BackupError(f"{sig_file} is not a MakeRight backup signature; {TRUST_HINT}")
    try:
        keys = _signing_keys(create=False)
    except SecretKeyError as exc:
        raise BackupError(f"the signature of {path} cannot be checked: {exc}; {TRUST_HINT}") \
            from None
    if not any(hmac.compare_digest(_signature(path, key), expected) for key in keys):
        raise BackupError(f"{path} does not match its signature: it was changed after the "
                          "backup was made, or made by an installation with other secret keys; "
                          f"{TRUST_HINT}")


def _signing_keys(create: bool) -> list[bytes]:
    """One signing key per configured secret key, first the current one (rotation keeps old
    backups verifiable while their key is still listed)."""
    return [HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_PURPOSE)
            .derive(base64.urlsafe_b64decode(key)) for key in load_box(create=create).keys]


def _signature(path: Path, key: bytes) -> str:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            mac.update(chunk)
    return mac.hexdigest()


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)


def restore(snapshot: Path, url: str | None = None, *, force: bool = False,
            trust_unsigned: bool = False) -> Snapshot:
    """Replace the configured database with `snapshot`. Stop the app and workers first."""
    snapshot = snapshot.resolve()
    target = sqlite_path(url)
    if snapshot == target:
        raise BackupError("the snapshot is the database itself")
    if not trust_unsigned:
        verify(snapshot)
    expected = check(snapshot)
    if target.exists() and not force:
        raise BackupError(f"{target} exists; restoring replaces it, so pass --force "
                          "(stop the web app and workers first)")
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.restoring")
    incoming.unlink(missing_ok=True)
    source = sqlite3.connect(f"{snapshot.as_uri()}?mode=ro", uri=True)
    destination = sqlite3.connect(incoming)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    os.chmod(incoming, 0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(incoming, target)
    counts = check(target)
    if counts != expected:
        raise BackupError(f"the restored database has {counts} rows, the snapshot {expected}")
    return Snapshot(target, counts)
