"""Row locks, written once for both engines MakeRight runs on.

PostgreSQL takes `SELECT ... FOR UPDATE` (with `SKIP LOCKED` where workers share a queue and
each should take different rows). SQLite has no row locks and needs none: its write
transactions begin IMMEDIATE (store/db.py), which serialises writers, so the clause is left out
there rather than left to each dialect's compiler.
"""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

SelectT = TypeVar("SelectT", bound=Select[Any])


def takes_row_locks(session: Session) -> bool:
    return session.get_bind().dialect.name != "sqlite"


def locked(query: SelectT, session: Session, *, skip_locked: bool = False) -> SelectT:
    """`query` holding its rows until the transaction ends; with `skip_locked`, rows another
    transaction holds are passed over instead of waited for (a shared work queue)."""
    if takes_row_locks(session):
        return query.with_for_update(skip_locked=skip_locked)
    return query


def refresh_locked(session: Session, row: object) -> None:
    """Re-read `row` under its lock; pending changes are flushed first, so none is dropped."""
    session.flush()
    session.refresh(row, with_for_update=takes_row_locks(session))
