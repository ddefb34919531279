"""The kill switch and other settings shared by every process through the database.

Pausing stops the automatic machinery: no auto-approvals and no posting of the approved
backlog. Drafting, syncing and event delivery go on, and a person can still post a reply on
purpose ("Approve and post", "Post now", the API's post): workers post exactly those. The
switch lives in the database, not in a process, so `makeright pause`, the web settings page
and every worker on every machine see the same value.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..store import states
from ..store.models import utcnow
from .models import SettingRow

PAUSED = "pipeline.paused"


def get_setting(session: Session, key: str, default: str = "") -> str:
    row = session.get(SettingRow, key)
    return row.value if row is not None else default


def set_setting(session: Session, key: str, value: str, actor: str) -> None:
    row = session.get(SettingRow, key)
    if row is None:
        session.add(SettingRow(key=key, value=value, updated_by=actor, updated_at=utcnow()))
    else:
        row.value, row.updated_by, row.updated_at = value, actor, utcnow()
    session.flush()


def is_paused(session: Session) -> bool:
    return get_setting(session, PAUSED, "0") == "1"


def set_paused(session: Session, paused: bool, actor: str, reason: str = "") -> None:
    """Flip the kill switch and leave an audit row saying who did it and why."""
    set_setting(session, PAUSED, "1" if paused else "0", actor)
    states.record(session, None, actor=actor, action="paused" if paused else "resumed",
                  reason=reason)
    session.flush()
