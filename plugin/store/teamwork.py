"""What a team working the queue keeps beside the reviews: internal notes, reusable snippets
and each person's saved queue views, plus assigning a review to someone.

Notes live in their own table and never in a draft, so nothing that sends drafts or exports
replies (posting, the API's reply fields, outbound events) can carry one by accident. Their
audit rows name the note, not its text, for the same reason: audit rows travel to integrators.
Every change here is audited through `states.record`, like any other action on a review.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..errors import MakeRightError
from . import states
from .models import Base, ReviewRow, utcnow

NOTE_MAX = 2000
SNIPPET_TITLE_MAX = 100
SNIPPET_TEXT_MAX = 1000
VIEW_NAME_MAX = 80
VIEW_QUERY_MAX = 1000
LANGUAGE_MAX = 35


class TeamworkError(MakeRightError, ValueError):
    """Bad input for a teamwork action; `field` names the form field at fault."""

    code = "invalid_teamwork"
    status = 422

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)


class NoteRow(Base):
    """An internal note on a review: for the team, never posted."""

    __tablename__ = "review_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    author: Mapped[str] = mapped_column(String(150))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SnippetRow(Base):
    """A short reusable text in one language, inserted into drafts by hand."""

    __tablename__ = "snippets"
    __table_args__ = (UniqueConstraint("language", "title", name="uq_snippets_language_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(LANGUAGE_MAX), index=True)
    title: Mapped[str] = mapped_column(String(SNIPPET_TITLE_MAX))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedViewRow(Base):
    """One person's named queue view: the query string of its filters, sort and search."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(VIEW_NAME_MAX))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _text(value: str | None, field: str, limit: int, what: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise TeamworkError(field, f"{what} is empty.")
    if len(cleaned) > limit:
        raise TeamworkError(field, f"{what} is longer than {limit} characters.")
    return cleaned


def assign(session: Session, review: ReviewRow, assignee: str | None, *, actor: str) -> bool:
    """Give the review to `assignee` (None: to nobody); False when nothing changed."""
    if review.assignee == assignee:
        return False
    before = review.assignee
    review.assignee = assignee
    reason = f"to {assignee}" if assignee else f"was {before}"
    states.record(session, review, actor=actor,
                  action="assigned" if assignee else "unassigned", reason=reason)
    return True


def add_note(session: Session, review: ReviewRow, text: str | None, *, author: str) -> NoteRow:
    note = NoteRow(review_id=review.id, author=author,
                   text=_text(text, "note", NOTE_MAX, "The note"))
    session.add(note)
    session.flush()
    states.record(session, review, actor=author, action="note_added", reason=f"note {note.id}")
    return note


def notes(session: Session, review_id: int) -> list[NoteRow]:
    return list(session.scalars(select(NoteRow).where(NoteRow.review_id == review_id)
                                .order_by(NoteRow.created_at, NoteRow.id)))


@dataclass(frozen=True)
class SnippetInput:
    language: str
    title: str
    text: str

    @classmethod
    def read(cls, language: str | None, title: str | None, text: str | None) -> SnippetInput:
        lang = (language or "").strip().lower()
        if not lang or len(lang) > LANGUAGE_MAX or not all(c.isascii() and (c.isalnum() or c == "-")
                                                           for c in lang):
            raise TeamworkError("language", "The language must be a code such as en, de or "
                                            "pt-br.")
        return cls(lang, _text(title, "title", SNIPPET_TITLE_MAX, "The title"),
                   _text(text, "text", SNIPPET_TEXT_MAX, "The snippet text"))


def _unique_title(session: Session, data: SnippetInput, own_id: int | None) -> None:
    clash = session.scalar(select(SnippetRow.id).where(SnippetRow.language == data.language,
                                                       SnippetRow.title == data.title))
    if clash is not None and clash != own_id:
        raise TeamworkError("title", f"There is already a {data.language} snippet called "
                                     f"{data.title!r}.")


def save_snippet(session: Session, data: SnippetInput, *, actor: str,
                 snippet: SnippetRow | None = None) -> SnippetRow:
    """Add a snippet, or change `snippet`; audited with its title."""
    _unique_title(session, data, snippet.id if snippet else None)
    action = "snippet_changed" if snippet else "snippet_added"
    if snippet is None:
        snippet = SnippetRow(language=data.language, title=data.title, text=data.text,
                             updated_by=actor)
        session.add(snippet)
    else:
        snippet.language, snippet.title, snippet.text = data.language, data.title, data.text
        snippet.updated_by, snippet.updated_at = actor, utcnow()
    session.flush()
    states.record(session, None, actor=actor, action=action,
                  reason=f"{data.language}: {data.title}")
    return snippet


def delete_snippet(session: Session, snippet: SnippetRow, *, actor: str) -> None:
    states.record(session, None, actor=actor, action="snippet_deleted",
                  reason=f"{snippet.language}: {snippet.title}")
    session.delete(snippet)
    session.flush()


def snippets(session: Session, language: str | None = None) -> list[SnippetRow]:
    stmt = select(SnippetRow).order_by(SnippetRow.language, SnippetRow.title)
    if language is not None:
        stmt = stmt.where(SnippetRow.language == language.lower())
    return list(session.scalars(stmt))


def save_view(session: Session, user_id: int, name: str | None, query: str, *,
              actor: str) -> SavedViewRow:
    """Save (or replace, under the same name) one person's queue view."""
    title = _text(name, "name", VIEW_NAME_MAX, "The view's name")
    query = query if query.startswith("?") or not query else f"?{query}"
    if len(query) > VIEW_QUERY_MAX:
        raise TeamworkError("query", "This view has too many filters to save.")
    row = session.scalar(select(SavedViewRow).where(SavedViewRow.user_id == user_id,
                                                    SavedViewRow.name == title))
    if row is None:
        row = SavedViewRow(user_id=user_id, name=title, query=query)
        session.add(row)
    else:
        row.query = query
    session.flush()
    states.record(session, None, actor=actor, action="view_saved", reason=title)
    return row


def saved_views(session: Session, user_id: int) -> list[SavedViewRow]:
    return list(session.scalars(select(SavedViewRow).where(SavedViewRow.user_id == user_id)
                                .order_by(SavedViewRow.name)))


def delete_view(session: Session, user_id: int, view_id: int, *, actor: str) -> bool:
    """Delete one of the person's own views; False when they have no such view."""
    row = session.get(SavedViewRow, view_id)
    if row is None or row.user_id != user_id:
        return False
    states.record(session, None, actor=actor, action="view_deleted", reason=row.name)
    session.delete(row)
    session.flush()
    return True
