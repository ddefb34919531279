"""One way to approve: only `plugin.actions.approve` moves a review to approved.

A person in the queue, a bulk approval, the REST API and the auto-approver all approve through
it, so every approval is checked again and records who approved which text. The poster may put
a claimed post back to approved (a retry, a quota wait): that approval already stands. Read from
the source with `ast`; an offender is named with its file, line and function.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.architecture import ROOT

APPROVE = ("plugin/actions.py", "approve")
APPROVAL_FIELDS = {"approved_by", "approved_at", "approved_text_hash"}
# Calls that write a review's columns (a PostClaim only carries the approver on).
REVIEW_WRITES = {"transition", "transition_many", "transition_claimed", "values", "ReviewRow"}
# The state machine's ways to move reviews: one, a batch alike, one fenced by a claim.
TRANSITIONS = {"transition", "transition_many", "transition_claimed"}
# Where the approved state may be handed to another function, and why.
HANDS_ON_APPROVED = {
    ("plugin/pipeline/poster.py", "retry_later"): "a claimed post waits to be tried again",
    ("plugin/pipeline/poster.py", "defer"): "a claimed post waits for the platform quota",
    ("plugin/pipeline/poster.py", "release"): "a claimed post the worker never started",
    ("plugin/web/queue/bulk.py", "confirm"): "the state the page reports as done",
}


def _functions() -> Iterator[tuple[str, str, ast.AST]]:
    """(file, enclosing top-level function, node) for every node inside a function."""
    for path in sorted((ROOT / "plugin").rglob("*.py")):
        shown = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=shown)
        for top in ast.walk(tree):
            if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(top):
                    yield shown, top.name, node


def _is_approved(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "APPROVED") or \
        (isinstance(node, ast.Name) and node.id == "APPROVED")


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else \
        func.attr if isinstance(func, ast.Attribute) else None


def _calls() -> Iterator[tuple[str, str, ast.Call]]:
    for file, function, node in _functions():
        if isinstance(node, ast.Call):
            yield file, function, node


def test_only_actions_approve_moves_a_review_to_approved():
    offenders = sorted({f"{file}:{call.lineno} in {function}() moves a review to approved; "
                        "approve through plugin.actions.approve"
                        for file, function, call in _calls()
                        if _called(call) in TRANSITIONS and (file, function) != APPROVE
                        and (any(_is_approved(arg) for arg in call.args[2:3])
                             or any(k.arg == "to_state" and _is_approved(k.value)
                                    for k in call.keywords))})
    assert offenders == []


def test_only_actions_approve_records_an_approver():
    found = set()
    for file, function, node in _functions():
        if (file, function) == APPROVE:
            continue
        if isinstance(node, ast.Call) and _called(node) in REVIEW_WRITES:
            found.update(f"{file}:{node.lineno} in {function}() sets {k.arg}"
                         for k in node.keywords if k.arg in APPROVAL_FIELDS
                         and not (isinstance(k.value, ast.Constant) and k.value.value is None))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(f"{file}:{node.lineno} in {function}() sets {t.attr}"
                         for t in targets
                         if isinstance(t, ast.Attribute) and t.attr in APPROVAL_FIELDS)
    assert sorted(found) == []


def test_the_approved_state_is_handed_on_only_where_an_approval_already_stands():
    handed = {(file, function): f"{file}:{call.lineno} in {function}() passes APPROVED to "
                                f"{_called(call)}()"
              for file, function, call in _calls()
              if _called(call) not in TRANSITIONS
              and any(_is_approved(arg) for arg in [*call.args, *(k.value for k in call.keywords)])}
    unexplained = sorted(where for place, where in handed.items() if place not in HANDS_ON_APPROVED)
    assert unexplained == []
    assert sorted(set(HANDS_ON_APPROVED) - set(handed)) == [], \
        "a listed place no longer hands on the approved state; drop it from HANDS_ON_APPROVED"


def test_the_auto_approver_approves_through_actions():
    calls = {(_called(call), function) for file, function, call in _calls()
             if file == "plugin/pipeline/autoapprove.py"}
    assert ("approve", "auto_approve") in calls
