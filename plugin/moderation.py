"""What Google Business Profile's reply moderation rejects, checked before and after posting.

Google moderates every reply (PENDING, then APPROVED or REJECTED) and names the policy a
rejected reply broke (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews,
enum PolicyViolation). Identical or near-identical replies are a documented rejection
(REPETITIVE), so a reply too close to recent replies of the same location is flagged before it
is approved, as are personal data, solicitation and links: the guardrails' findings, named
with Google's reasons so the person who approves reads the words Google would use.

After a rejection, `redraft` writes a new draft that answers the reason Google gave.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from connectors.base import Review

from .classify import fold
from .drafting import Drafter, draft_review
from .drafts import Draft, Violation
from .policy import Policy
from .similarity import similarity
from .store.models import ReviewRow, utcnow

GOOGLE = "google_business"
REPETITIVE, PERSONAL_INFO = "REPETITIVE", "PERSONAL_INFO"
SOLICITATION = "ADVERTISING_AND_SOLICITATION"

#: Google's PolicyViolation values a person is most likely to meet, in plain words. Any other
#: value is still shown as Google spells it.
REASONS: dict[str, str] = {
    REPETITIVE: "identical or similar content added several times",
    "GIBBERISH_AND_REPETITIVE": "gibberish or repeated characters",
    PERSONAL_INFO: "personal information about someone",
    SOLICITATION: "advertising, solicitation or links",
    "OFF_TOPIC": "content not about the customer's experience",
    "MISINFORMATION": "misleading information",
    "HARASSMENT": "harassment",
    "PROFANITY": "profanity",
    "HATE_SPEECH": "hate speech",
    "MODERATION_ERROR": "an error in Google's moderation (post it again unchanged)",
}

#: Guardrail findings and the Google reason each would be rejected for.
GUARDRAIL_REASONS = {"email": PERSONAL_INFO, "phone": PERSONAL_INFO, "pii_echo": PERSONAL_INFO,
                     "link": SOLICITATION}

#: What a redraft is told, per reason; a model reads it, the offline engine rephrases.
INSTRUCTIONS: dict[str, str] = {
    REPETITIVE: "Google rejected the previous reply as repetitive: write it in different words, "
                "specific to this review, unlike the replies to other reviews.",
    PERSONAL_INFO: "Google rejected the previous reply for personal information: do not name "
                   "the customer or repeat any detail that identifies them.",
    SOLICITATION: "Google rejected the previous reply as advertising or solicitation: no links, "
                  "no promotion, no request to change the review.",
    "OFF_TOPIC": "Google rejected the previous reply as off topic: answer only what the "
                 "customer wrote.",
}
DEFAULT_INSTRUCTION = "Google rejected the previous reply ({reason}): write it differently."

# Asking for a better rating, a promotion code or a visit: what Google calls solicitation.
_SOLICITING = tuple(fold(p) for p in (
    "update your review", "change your review", "change your rating", "update your rating",
    "remove your review", "5 stars", "five stars", "5-star", "promo code", "coupon code",
    "discount code", "use code", "follow us", "like us on", "subscribe",
    "actualiza tu reseña", "cambia tu reseña", "cambiar su reseña", "código promocional",
    "ändern sie ihre bewertung", "bewertung ändern", "gutscheincode", "rabattcode",
    "modifiez votre avis", "modifier votre avis", "code promo",
    "altere sua avaliação", "mude sua avaliação", "código de desconto", "cupom",
))

RECENT = timedelta(days=90)
RECENT_LIMIT = 200
SIMILAR = 0.6


@dataclass(frozen=True)
class Rejection:
    """Google's reason for a rejected reply and what it means for the person reading it."""

    reason: str

    @property
    def words(self) -> str:
        return REASONS.get(self.reason, self.reason.replace("_", " ").lower())

    @property
    def headline(self) -> str:
        return f"Google rejected the reply: {self.reason} ({self.words})"

    @property
    def instruction(self) -> str:
        return INSTRUCTIONS.get(self.reason, DEFAULT_INSTRUCTION.format(reason=self.reason))


#: Where `prefetch_recent_replies` leaves what `recent_replies` would read, per review id.
_PREFETCHED = "makeright.recent_replies"


def prefetch_recent_replies(session: Session, rows: list[ReviewRow]) -> None:
    """Read the recent replies of many reviews' locations at once (a batch about to be checked
    for approval) so each `recent_replies(session, row)` that follows in this session costs no
    query. Only valid while nothing is posted meanwhile: for one transaction's work."""
    google = [row for row in rows if row.platform == GOOGLE]
    if google:
        session.info.setdefault(_PREFETCHED, {}).update(
            _newest_replies(session, google, lambda row: None))


def recent_replies(session: Session, row: ReviewRow, *, limit: int = RECENT_LIMIT,
                   since: datetime | None = None) -> list[str]:
    """Our public replies at the same location (the review's source) in the last 90 days, or
    only those posted after `since`."""
    prefetched = session.info.get(_PREFETCHED, {})
    if since is None and limit == RECENT_LIMIT and row.id in prefetched:
        return list(prefetched[row.id])
    start = utcnow() - RECENT if since is None else max(since, utcnow() - RECENT)
    query = (select(ReviewRow.platform_reply)
             .where(ReviewRow.platform == row.platform, ReviewRow.source == row.source,
                    ReviewRow.id != row.id, ReviewRow.posted_at >= start,
                    ReviewRow.platform_reply.is_not(None))
             .order_by(ReviewRow.posted_at.desc()).limit(limit))
    return [text for text in session.scalars(query) if text and text.strip()]


def replies_since_approval(session: Session, rows: list[ReviewRow],
                           limit: int = RECENT_LIMIT) -> dict[int, list[str]]:
    """`recent_replies(session, row, since=row.approved_at)` for each of `rows` (approved, of
    one platform), in one query for the lot instead of one each."""
    return _newest_replies(session, [row for row in rows if row.approved_at is not None],
                           lambda row: row.approved_at, limit)


def _newest_replies(session: Session, rows: list[ReviewRow],
                    since: Callable[[ReviewRow], datetime | None],
                    limit: int = RECENT_LIMIT) -> dict[int, list[str]]:
    """`recent_replies(session, row, since=since(row))` for each of `rows` (of one platform) in
    one query: the newest replies of each location, enough of them that every row still gets
    its own `limit` newest after its own `since` (the newest replies of a location after any
    moment are a prefix of its newest)."""
    if not rows:
        return {}
    now = utcnow()
    starts = {row.id: max(since(row) or now - RECENT, now - RECENT) for row in rows}
    sources = {row.source for row in rows}
    named = [source for source in sources if source is not None]
    at_location = or_(ReviewRow.source.in_(named), ReviewRow.source.is_(None)) \
        if None in sources else ReviewRow.source.in_(named)
    rank = func.row_number().over(partition_by=ReviewRow.source,
                                  order_by=ReviewRow.posted_at.desc()).label("rank")
    newest = (select(ReviewRow.id, ReviewRow.source, ReviewRow.posted_at,
                     ReviewRow.platform_reply, rank)
              .where(ReviewRow.platform == rows[0].platform, at_location,
                     ReviewRow.posted_at >= min(starts.values()),
                     ReviewRow.platform_reply.is_not(None))
              .subquery())
    found = session.execute(select(newest.c.id, newest.c.source, newest.c.posted_at,
                                   newest.c.platform_reply)
                            .where(newest.c.rank <= limit + len(rows))
                            .order_by(newest.c.posted_at.desc())).all()
    replies: dict[int, list[str]] = {}
    for row in rows:
        texts = [text for id_, source, posted_at, text in found
                 if source == row.source and id_ != row.id and posted_at >= starts[row.id]
                 ][:limit]
        replies[row.id] = [text for text in texts if text and text.strip()]
    return replies


def closest(text: str, others: list[str]) -> float:
    return max((similarity(text, other) for other in others), default=0.0)


def google_concerns(text: str, violations: list[Violation], recent: list[str],
                    threshold: float = SIMILAR) -> list[Violation]:
    """The guardrails' findings with Google's reason named, plus what only Google rejects.

    `violations` are the guardrails' findings on `text`; those Google would reject (personal
    data, links) say so in Google's words, keeping their code for reports. Added: REPETITIVE,
    a reply too like one the same location published lately (`recent`), and solicitation.
    """
    found: list[Violation] = []
    for violation in violations:
        reason = GUARDRAIL_REASONS.get(violation.code)
        found.append(violation if reason is None else Violation(
            violation.code, f"{violation.message} Google rejects this as {reason}."))
    score = closest(text, recent)
    if score >= threshold:
        found.append(Violation(REPETITIVE, f"Google rejects replies that repeat others "
                                           f"({REPETITIVE}): this one is {score:.0%} like a "
                                           "recent reply of the same location."))
    folded = fold(text)
    asks = [phrase for phrase in _SOLICITING if phrase in folded]
    if asks:
        found.append(Violation(SOLICITATION, f"Google rejects solicitation ({SOLICITATION}): "
                                             f"“{asks[0]}”."))
    return found


def checked_for_google(session: Session, row: ReviewRow, draft: Draft) -> Draft:
    """A Google Business Profile draft's violations with Google's moderation added."""
    if row.platform == GOOGLE:
        draft.violations = google_concerns(draft.text, draft.violations,
                                           recent_replies(session, row))
    return draft


def redraft(review: Review, policy: Policy, drafter: Drafter | None, rejection: Rejection,
            avoid: list[str], *, tries: int = 8) -> Draft:
    """A new draft that answers Google's reason for rejecting `avoid[0]` (the rejected reply).

    Personal information: the customer is not named. Every reason: the phrasing changes; the
    offline engine picks its variants by the review's identity, so each try drafts under a new
    one and the draft least like the rejected and recent replies wins.
    """
    if rejection.reason == PERSONAL_INFO:
        review = replace(review, author="")
    best: tuple[float, Draft] | None = None
    for attempt in range(1, tries + 1):
        variant = replace(review, external_id=f"{review.external_id}#rephrase-{attempt}")
        draft = draft_review(variant, policy, drafter, rejection.instruction)
        score = closest(draft.text, avoid)
        if best is None or score < best[0]:
            best = (score, draft)
        if score < SIMILAR / 2:
            break
    assert best is not None
    draft = best[1]
    draft.note = " ".join(p for p in (rejection.headline + ".", draft.note) if p)
    return draft

