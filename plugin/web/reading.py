"""The review and its draft in the language of the person reading the page.

The reader's language is their own choice (Password and language page), else the best match of
their browser's Accept-Language among the languages MakeRight can name. A text already in that
language is shown as it is. Otherwise, with a model configured, the review and the drafted
reply are translated (and cached, see `plugin.drafting.translation`); a reply a person wrote or
edited is never translated, it is shown as written, because the approver is approving those
exact words. Without a model the page only says which language the text is in.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from flask import request
from flask_login import current_user
from sqlalchemy.orm import Session

from ..accounts import UserRow
from ..drafting.translation import (
    Translation,
    TranslationFailed,
    Translator,
    language_name,
    same_language,
)
from ..language import LANGUAGE_NAMES
from ..store.models import DraftRow, ReviewRow

#: Engines whose drafts a person wrote: shown as written, never translated.
WRITTEN_BY_A_PERSON = frozenset({"human"})


def reader_language(db: Session) -> str | None:
    """The signed-in person's chosen language, else their browser's best known one."""
    row = db.get(UserRow, current_user.id) if current_user.is_authenticated else None
    if row is not None and row.language:
        return row.language
    return request.accept_languages.best_match(list(LANGUAGE_NAMES))


@dataclass(frozen=True)
class Reading:
    """What the review page shows about languages; `None` texts are not shown."""

    reader: str | None
    review_language: str | None
    offline: bool
    review: Translation | None = None
    title: Translation | None = None
    draft: Translation | None = None
    #: The wording before the customer's latest edit, when they edited the review.
    earlier: Translation | None = None
    draft_as_written: bool = False
    problem: str | None = None

    @property
    def reader_name(self) -> str:
        return language_name(self.reader)

    @property
    def review_name(self) -> str:
        return language_name(self.review_language)

    @property
    def foreign(self) -> bool:
        """Whether the review is in a language other than the reader's."""
        return bool(self.reader and self.review_language) \
            and not same_language(self.reader, self.review_language)


def reading(db: Session, row: ReviewRow, draft: DraftRow | None,
            translator: Translator | None, earlier: str | None = None) -> Reading:
    """What to show; may end the session's transaction (see below), never with changes."""
    reader = reader_language(db)
    base = Reading(reader=reader, review_language=row.language, offline=translator is None)
    if reader is None or translator is None:
        return base
    text, title_text = row.text, row.title
    draft_text = draft.text if draft is not None else ""
    foreign_draft = draft is not None and bool(draft_text) \
        and not same_language(reader, draft.language)
    as_written = foreign_draft and draft is not None and draft.engine in WRITTEN_BY_A_PERSON
    wants_draft = foreign_draft and not as_written
    if (base.foreign or wants_draft) and not db.new and not db.dirty and not db.deleted:
        # A model call takes seconds and the cache is written in its own unit of work: on
        # SQLite an open transaction here would hold the one write lock all that time and
        # the cache could not be written at all. A page being shown has nothing to keep.
        db.commit()
    shown = replace(base, offline=False, draft_as_written=as_written)
    try:
        if base.foreign:
            shown = replace(shown, review=translator.translate(text, reader))
            if title_text:
                shown = replace(shown, title=translator.translate(title_text, reader))
            if earlier:
                shown = replace(shown, earlier=translator.translate(earlier, reader))
        if wants_draft:
            shown = replace(shown, draft=translator.translate(draft_text, reader))
    except TranslationFailed as exc:
        # What was translated before the failure is still shown.
        return replace(shown, problem=str(exc))
    return shown
