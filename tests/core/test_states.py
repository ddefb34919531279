"""Every transition of the review state machine, allowed and forbidden, on both engines."""
import pytest

from plugin.classify import classifier_for
from plugin.store import states
from plugin.store.models import AuditRow, ReviewRow
from plugin.store.reviews import ingest

ALL_PAIRS = [(a, b) for a in states.STATES for b in states.STATES]


def stored(database, policy, review, status):
    with database.session() as session:
        row = ingest(session, review, classifier_for(policy).classify(review)).row
        row.status = status
    return row.id


def test_every_state_has_rules():
    assert set(states.TRANSITIONS) == set(states.STATES)
    for targets in states.TRANSITIONS.values():
        assert targets <= set(states.STATES)


@pytest.mark.parametrize("from_state", states.STATES)
def test_transitions_from(database, policy, make_review, from_state):
    """From each state, every allowed move succeeds with an audit row; every other is refused."""
    for to_state in states.STATES:
        review_id = stored(database, policy, make_review(), from_state)
        with database.session() as session:
            row = session.get(ReviewRow, review_id)
            if states.can_move(from_state, to_state):
                states.transition(session, row, to_state, actor="tester", reason="because")
            else:
                with pytest.raises(states.TransitionError):
                    states.transition(session, row, to_state, actor="tester")
        with database.session() as session:
            row = session.get(ReviewRow, review_id)
            audit = session.query(AuditRow).filter_by(review_id=review_id,
                                                      action="transition").all()
            if states.can_move(from_state, to_state):
                assert row.status == to_state
                assert [(a.from_state, a.to_state, a.actor, a.reason) for a in audit] == \
                    [(from_state, to_state, "tester", "because")]
            else:
                assert row.status == from_state and audit == []


def test_compare_and_set_refuses_a_stale_state(database, policy, make_review):
    """A worker holding an old copy of the row cannot move it: someone else already did."""
    review_id = stored(database, policy, make_review(), states.APPROVED)
    with database.session() as session:
        stale = session.get(ReviewRow, review_id)
    with database.session() as session:
        states.transition(session, session.get(ReviewRow, review_id), states.POSTING,
                          actor="worker-1")
    with database.session() as session:
        stale = session.merge(stale, load=False)
        with pytest.raises(states.ConcurrentChange):
            states.transition(session, stale, states.POSTING, actor="worker-2")
    with database.session() as session:
        audit = session.query(AuditRow).filter_by(review_id=review_id, action="transition").all()
        assert [a.actor for a in audit] == ["worker-1"]


def test_fields_change_with_the_state(database, policy, make_review):
    review_id = stored(database, policy, make_review(), states.DRAFTED)
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        states.transition(session, row, states.APPROVED, actor="ann", approved_by="ann")
    with database.session() as session:
        assert session.get(ReviewRow, review_id).approved_by == "ann"
