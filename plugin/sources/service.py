"""Adding, reading and removing sources, and building a connector for one.

Secrets are split from the settings here and nowhere else: the row keeps the non-secret
settings as JSON and the secret ones as a single Fernet token, and a connector is the only
place they meet again, in memory.
"""
from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import Connector
from connectors.settings import secret_fields, validate_settings

from ..errors import MakeRightError
from ..secrets import SecretBox
from ..store import states
from ..store.locking import locked
from ..store.models import ReviewRow, utcnow
from .models import DEFAULT_INTERVAL, SourceRow
from .quota import DatabaseQuota, SessionScope

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 60


class SourceError(MakeRightError, ValueError):
    """A source request a person can fix: bad name, unknown kind, bad setting, missing source."""

    code = "invalid_source"
    status = 422


class SourceNotFound(SourceError):
    """No source has the name given; the web's sources page answers it with 404."""


@dataclass(frozen=True)
class SourceConfig:
    """A source's full settings, secrets included; never printed (`settings` is kept out of
    repr)."""

    name: str
    kind: str
    settings: dict[str, Any] = field(repr=False)


def parse_interval(text: str) -> int:
    """Seconds from "90s", "15m", "2h", "1d" or a bare number of seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text.lower())
    if not match:
        raise SourceError(f"interval: {text!r} is not a duration such as 15m, 2h or 1d")
    seconds = int(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds < MIN_INTERVAL:
        raise SourceError(f"interval: {text!r} is shorter than the minimum of 1m")
    return seconds


def format_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def coerce_setting(kind: str, schema: dict[str, Any], key: str, raw: str) -> Any:
    """A command-line string as the type the schema wants; JSON is accepted for any type."""
    spec = schema.get("properties", {}).get(key)
    if spec is None:
        known = ", ".join(sorted(schema.get("properties", {})))
        raise SourceError(f"{key}: is not a setting of {kind} (settings: {known})")
    types = spec.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    if raw.lstrip().startswith(("[", "{")) and ({"array", "object"} & set(types)):
        try:
            return json.loads(raw)
        except ValueError:
            raise SourceError(f"{key}: is not valid JSON") from None
    if "array" in types:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if "integer" in types:
        try:
            return int(raw)
        except ValueError:
            raise SourceError(f"{key}: must be an integer, got {raw!r}") from None
    if "boolean" in types:
        if raw.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise SourceError(f"{key}: must be true or false, got {raw!r}")
        return raw.lower() in ("true", "yes", "1")
    return raw


def connector_class(kind: str) -> type[Connector]:
    try:
        return registry.get(kind)
    except KeyError as exc:
        raise SourceError(exc.args[0]) from None


def instantiate(cls: type[Connector], settings: dict[str, Any], quota: Any = None,
                **options: Any) -> Connector:
    """Build a connector, handing the quota counter only to connectors that take one."""
    if quota is not None and "quota" in inspect.signature(cls.__init__).parameters:
        options["quota"] = quota
    return cls(settings, **options)


def audit(session: Session, actor: str, action: str, name: str, detail: str = "") -> None:
    """An audit row for a change to a source, by whoever made it (`cli` or a person's name).

    The reason names the source and what changed, never a setting's value: audit rows reach
    integrators through outbound events.
    """
    states.record(session, None, actor=actor, action=action,
                  reason=f"{name}: {detail}" if detail else name)


def set_enabled(session: Session, name: str, enabled: bool, *, actor: str) -> SourceRow:
    """Switch a source's periodic sync on or off; posting through it is unaffected."""
    row = get_source(session, name)
    if row.enabled != enabled:
        row.enabled = enabled
        if enabled:
            row.next_sync_at = utcnow()
        audit(session, actor, "source_enabled" if enabled else "source_disabled", name)
    session.flush()
    return row


def add_source(session: Session, box: SecretBox, kind: str, name: str,
               settings: dict[str, Any], interval_seconds: int = DEFAULT_INTERVAL, *,
               actor: str = "cli") -> SourceRow:
    """Validate everything the connector can check offline, then store the source.

    Building the connector also proves a key file parses (a Play service-account JSON, say)
    without any network call; the connector's own messages name the field and never the value.
    """
    if not NAME.fullmatch(name):
        raise SourceError(f"name: {name!r} must be 1-100 letters, digits, '.', '_' or '-', "
                          "starting with a letter or digit")
    cls = connector_class(kind)
    label = getattr(cls, "label", kind)
    settings = {key: value for key, value in settings.items() if value is not None}
    try:
        validate_settings(cls.settings_schema, settings, label)
        instantiate(cls, settings)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    if session.scalar(select(SourceRow.id).where(SourceRow.name == name)) is not None:
        raise SourceError(f"name: a source named {name!r} exists already")
    hidden = secret_fields(cls.settings_schema)
    secrets = {key: value for key, value in settings.items() if key in hidden}
    row = SourceRow(
        name=name, kind=kind, interval_seconds=interval_seconds, enabled=True,
        settings={key: value for key, value in settings.items() if key not in hidden},
        secrets=box.seal(secrets) if secrets else None, next_sync_at=utcnow())
    session.add(row)
    session.flush()
    audit(session, actor, "source_added", name,
          f"{kind}, every {format_interval(interval_seconds)}"
          + (f", secret fields {', '.join(sorted(secrets))} sealed" if secrets else ""))
    return row


def get_source(session: Session, name: str) -> SourceRow:
    row = session.scalar(select(SourceRow).where(SourceRow.name == name))
    if row is None:
        names = ", ".join(session.scalars(select(SourceRow.name).order_by(SourceRow.name)))
        raise SourceNotFound(f"no source named {name!r} (sources: {names or 'none yet'})")
    return row


def list_sources(session: Session) -> list[SourceRow]:
    return list(session.scalars(select(SourceRow).order_by(SourceRow.name)))


def remove_source(session: Session, name: str, *, actor: str = "cli") -> int:
    """Delete a source and its quota log; its reviews stay. Returns how many reviews it had."""
    row = get_source(session, name)
    reviews = session.scalar(select(func.count(ReviewRow.id)).where(ReviewRow.source == name))
    session.delete(row)
    session.flush()
    audit(session, actor, "source_removed", name, f"{reviews or 0} reviews kept")
    return reviews or 0


def config_of(row: SourceRow, box: SecretBox) -> SourceConfig:
    secrets = box.open(row.secrets, f"source {row.name!r}") if row.secrets else {}
    return SourceConfig(row.name, row.kind, {**row.settings, **secrets})


def masked_settings(row: SourceRow) -> dict[str, Any]:
    """What `source list` shows: the plain settings, and every secret field as ***."""
    hidden = secret_fields(connector_class(row.kind).settings_schema) \
        if row.kind in registry.available() else set()
    shown: dict[str, Any] = dict(row.settings)
    shown.update({key: "***" for key in sorted(hidden) if row.secrets})
    return shown


def build_connector(row: SourceRow, box: SecretBox, scope: SessionScope,
                    **options: Any) -> Connector:
    """The source's connector with decrypted settings and a database-backed quota counter."""
    config = config_of(row, box)
    quota = DatabaseQuota(scope, row.id)
    return instantiate(connector_class(row.kind), config.settings, quota, **options)


def rotate_secrets(session: Session, box: SecretBox) -> int:
    """Re-encrypt every source's secrets under the first key; returns how many were rewritten."""
    count = 0
    for row in session.scalars(locked(select(SourceRow).where(SourceRow.secrets.is_not(None)),
                                      session)):
        assert row.secrets is not None  # the query selects only rows that have secrets
        row.secrets = box.rotate(row.secrets, f"source {row.name!r}")
        count += 1
    session.flush()
    return count
