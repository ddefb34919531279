"""Which policy a review follows: the one its source names (with that source's location), or
the install's default policy.

One install serves several brands (an app studio's apps, a chain's locations, an agency's
clients): the source a review came from decides its brand, contact and offers.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import registry

from .. import intake
from ..policy import Policy, load_policy
from ..store import tallies
from ..store.models import ReviewRow
from .models import SourceRow


def policy_for_source(session: Session, source: str | None, default: Policy) -> Policy:
    if not source:
        return default
    found = session.execute(select(SourceRow.policy, SourceRow.policy_location)
                            .where(SourceRow.name == source)).first()
    if found is None:
        return default
    folder, location = found
    return _policy(folder, location, default)


def _policy(folder: str | None, location: str | None, default: Policy) -> Policy:
    return (load_policy(folder) if folder else default).at(location)


def intake_sources(session: Session, names: Iterable[str], default: Policy) -> intake.Sources:
    """The policy and answerability of each configured source among `names`, for a door that
    takes reviews naming their source (the webhook, the REST API, an import): one query
    however many reviews name them. A source whose connector is not installed is left to the
    door's defaults, as posting through it will refuse on its own."""
    wanted = sorted({name for name in names if name})
    if not wanted:
        return intake.NO_SOURCES
    rows = session.execute(select(SourceRow.name, SourceRow.kind, SourceRow.policy,
                                  SourceRow.policy_location)
                           .where(SourceRow.name.in_(wanted))).all()
    policies: dict[str, Policy] = {}
    read_only: set[str] = set()
    for name, kind, folder, location in rows:
        if folder or location:
            policies[name] = _policy(folder, location, default)
        connector = registry.available().get(kind)
        if connector is not None and not connector.answerable:
            read_only.add(name)
    return intake.Sources(policies, frozenset(read_only))


def policies_for_sources(session: Session, sources: set[str | None],
                         default: Policy) -> dict[str | None, Policy]:
    """`policy_for_source` for each of `sources`, in one query for the lot."""
    known = intake_sources(session, (source for source in sources if source), default)
    return {source: known.policies.get(source, default) if source else default
            for source in sources}


def policy_for_brand(session: Session, label: str, default: Policy) -> Policy:
    """The policy behind a brand name as the queue shows it, found through a review that
    followed it; the default policy when no review did."""
    source = session.scalar(select(ReviewRow.source).where(ReviewRow.policy == label).limit(1))
    return policy_for_source(session, source, default) if source else default


def brands(session: Session) -> list[str]:
    """Every policy name a stored draft followed, for filter menus (from the tallies, not a
    DISTINCT over every review)."""
    return tallies.values_in_use(session, "policy")


def policies_in_use(session: Session) -> list[tuple[str, str | None, list[str]]]:
    """(policy folder or "", location, source names) for every source that names one."""
    rows = session.execute(select(SourceRow.name, SourceRow.policy, SourceRow.policy_location)
                           .where((SourceRow.policy.is_not(None))
                                  | (SourceRow.policy_location.is_not(None)))
                           .order_by(SourceRow.name)).all()
    grouped: dict[tuple[str, str | None], list[str]] = {}
    for name, folder, location in rows:
        grouped.setdefault((folder or "", location), []).append(name)
    return [(folder, location, names) for (folder, location), names in grouped.items()]


def set_source_policy(session: Session, name: str, folder: str | None,
                      location: str | None, default: Policy) -> Policy:
    """Make a source follow a policy folder (None: the default policy) and optionally one of
    its locations. The policy is loaded and checked first, so a source never points at a
    folder with problems or at a location that does not exist."""
    row = session.scalar(select(SourceRow).where(SourceRow.name == name))
    if row is None:
        raise LookupError(f"there is no source named {name!r}")
    policy = load_policy(Path(folder).resolve()) if folder else default
    chosen = policy.at(location or None)
    row.policy = str(Path(folder).resolve()) if folder else None
    row.policy_location = location or None
    session.flush()
    return chosen
