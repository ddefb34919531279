"""LLM token usage per UTC day and model, in the database, shared by every worker.

Failed drafts spend tokens too, so usage is counted per model call, not per stored draft; the
drafts table keeps each draft's own tokens beside its text.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, Date, Integer, String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..store.db import Database
from ..store.models import Base
from .budget import utc_today


class LLMUsageRow(Base):
    __tablename__ = "llm_usage"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class DatabaseLedger:
    """The usage ledger of `plugin.drafting.budget`, kept in the `llm_usage` table."""

    def __init__(self, database: Database, today: Callable[[], date] = utc_today):
        self.database = database
        self.today = today

    def add(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        day = self.today()
        add = update(LLMUsageRow).where(LLMUsageRow.day == day, LLMUsageRow.model == model) \
            .values(prompt_tokens=LLMUsageRow.prompt_tokens + prompt_tokens,
                    completion_tokens=LLMUsageRow.completion_tokens + completion_tokens,
                    calls=LLMUsageRow.calls + 1)
        with self.database.session() as session:
            if cast(CursorResult[Any], session.execute(add)).rowcount:
                return
            try:
                with session.begin_nested():
                    session.add(LLMUsageRow(day=day, model=model, prompt_tokens=prompt_tokens,
                                            completion_tokens=completion_tokens, calls=1))
            except IntegrityError:
                # Another worker created today's row first; add to it instead.
                session.execute(add)

    def used_today(self) -> int:
        with self.database.session() as session:
            total = session.scalar(
                select(func.coalesce(func.sum(LLMUsageRow.prompt_tokens
                                              + LLMUsageRow.completion_tokens), 0))
                .where(LLMUsageRow.day == self.today()))
        return int(total or 0)

    def by_day(self, days: int = 30) -> list[tuple[date, str, int, int, int]]:
        """(day, model, prompt tokens, completion tokens, calls), newest first."""
        with self.database.session() as session:
            rows = session.execute(select(LLMUsageRow).order_by(LLMUsageRow.day.desc(),
                                                                LLMUsageRow.model)
                                   .limit(days * 10)).scalars()
            return [(r.day, r.model, r.prompt_tokens, r.completion_tokens, r.calls)
                    for r in rows]
