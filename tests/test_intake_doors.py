"""One way in: every door stores reviews through plugin/intake.py, and nothing else can.

Read from the source with `ast`, so a new door that classifies and stores on its own, or an old
one that drifts back to it, is named with its file and line.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.architecture import ROOT

PLUGIN = ROOT / "plugin"
INTAKE = "plugin/intake.py"
STORE = "plugin/store/reviews.py"

# Every way a review enters the system.
DOORS = ("plugin/api/webhooks.py", "plugin/api/rest.py", "plugin/api/gbp_push.py",
         "plugin/sources/sync.py", "plugin/commands/review_files.py",
         "plugin/commands/play_import.py",
         "plugin/demo.py")
STORING = {"ingest", "ingest_many"}
# Modules that classify a stored review to draft or check a reply, never to take one in.
CLASSIFY_STORED = {"plugin/actions.py", "plugin/drafting/__init__.py", "plugin/guardrails.py"}


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(PLUGIN.rglob("*.py")):
        shown = path.relative_to(ROOT).as_posix()
        yield shown, ast.parse(path.read_text(encoding="utf-8"), filename=shown)


def _called(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


def _uses(tree: ast.AST, names: set[str]) -> Iterator[tuple[int, str]]:
    """Calls of, and imports of, any of `names`."""
    for node in ast.walk(tree):
        if (name := _called(node)) in names:
            yield node.lineno, f"calls {name}"
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in names:
                    yield node.lineno, f"imports {alias.name}"


def test_only_intake_stores_reviews():
    offenders = [f"{file}:{line} {what}; store reviews through plugin.intake"
                 for file, tree in _sources() if file not in (INTAKE, STORE)
                 for line, what in _uses(tree, STORING)]
    assert offenders == []


def test_only_the_store_makes_review_rows():
    offenders = [f"{file}:{node.lineno} makes a ReviewRow; store reviews through plugin.intake"
                 for file, tree in _sources() if file != STORE
                 for node in ast.walk(tree) if _called(node) == "ReviewRow"]
    assert offenders == []


def test_reviews_are_classified_for_intake_only_in_intake():
    allowed = {INTAKE, "plugin/classify.py", *CLASSIFY_STORED}
    offenders = [f"{file}:{line} {what}; doors classify through plugin.intake"
                 for file, tree in _sources() if file not in allowed
                 for line, what in _uses(tree, {"classifier_for", "Classifier"})]
    assert offenders == []


def test_every_door_goes_through_intake():
    trees = dict(_sources())
    missing = [door for door in DOORS if door not in trees]
    assert missing == [], "a door moved; update DOORS"
    bypassing = [door for door in DOORS
                 if not any(isinstance(node, ast.Attribute) and node.attr in ("take_in", "store")
                            and isinstance(node.value, ast.Name) and node.value.id == "intake"
                            for node in ast.walk(trees[door]))]
    assert bypassing == []


def test_the_check_names_a_door_that_stores_on_its_own():
    bypass = ("from ..classify import classifier_for\n"
              "from ..store.reviews import ingest\n\n"
              "def receive(session, review, policy):\n"
              "    return ingest(session, review, classifier_for(policy).classify(review))\n")
    tree = ast.parse(bypass)
    assert list(_uses(tree, STORING)) == [(2, "imports ingest"), (5, "calls ingest")]
    assert list(_uses(tree, {"classifier_for"})) == [(1, "imports classifier_for"),
                                                     (5, "calls classifier_for")]
