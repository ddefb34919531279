"""The floor plan holds: no area of plugin/ imports one above it, areas form no cycle, and
connectors/ never imports plugin/. A failure names the file, the line and what it imports."""
from __future__ import annotations

import textwrap
from pathlib import Path

from tests import architecture
from tests.architecture import ROOT, connector_violations, render, violations


def test_no_area_imports_an_area_above_it_and_none_form_a_cycle():
    assert violations() == []


def test_connectors_never_import_plugin():
    assert connector_violations() == []


def test_the_readme_quotes_the_area_graph_as_it_is():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    assert render() in layout, "run `python -m tests.architecture` and paste its graph into " \
                               "the README's layout section"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


FLOORS = [("store",), ("drafting",), ("web",)]


def test_an_upward_import_is_named_with_its_file_and_line(tmp_path):
    root = _tree(tmp_path, {
        "plugin/__init__.py": "",
        "plugin/store/__init__.py": "",
        "plugin/store/usage.py": """\
            from __future__ import annotations

            from ..drafting.budget import utc_today
            """,
        "plugin/drafting/__init__.py": "from ..store import usage\n",
        "plugin/drafting/budget.py": "",
        "plugin/web.py": "from plugin.drafting import budget\n",
    })
    problems = violations(root, floors=FLOORS)
    assert "plugin/store/usage.py:3 imports plugin.drafting.budget: area drafting is above " \
           "area store" in problems
    assert any(p.startswith("areas drafting -> store form a cycle") for p in problems)
    assert not any("plugin/web.py" in p for p in problems)


def test_a_lazy_import_inside_a_function_counts_too(tmp_path):
    root = _tree(tmp_path, {
        "plugin/store.py": "def later():\n    from .web import page\n",
        "plugin/web.py": "",
        "plugin/drafting.py": "",
    })
    assert violations(root, floors=FLOORS) == [
        "plugin/store.py:2 imports plugin.web: area web is above area store"]


def test_areas_on_one_floor_may_not_import_each_other(tmp_path):
    root = _tree(tmp_path, {"plugin/classify.py": "from . import drafts\n",
                            "plugin/drafts.py": ""})
    assert violations(root, floors=[("classify", "drafts")]) == [
        "plugin/classify.py:1 imports plugin.drafts: area drafts is the same floor as area "
        "classify"]


def test_a_new_area_must_be_given_a_floor(tmp_path):
    root = _tree(tmp_path, {"plugin/store.py": "", "plugin/ranking/__init__.py": ""})
    assert violations(root, floors=FLOORS) == [
        "plugin/ranking: area is on no floor; add it to FLOORS in tests/architecture.py"]


def test_a_connector_importing_plugin_is_named(tmp_path):
    root = _tree(tmp_path, {"connectors/acme.py": "import json\nimport plugin.store.db\n",
                            "connectors/base.py": "from plugin import __version__\n"})
    assert connector_violations(root) == [
        "connectors/acme.py:2 imports plugin.store.db: connectors never import plugin",
        "connectors/base.py:1 imports plugin: connectors never import plugin"]


def test_the_graph_lists_every_area_with_its_downward_edges():
    graph = render()
    for floor in architecture.FLOORS:
        for area in floor:
            if area in architecture.areas():
                assert f"  {area}" in graph
    assert "store       -> classify config drafts" in graph
