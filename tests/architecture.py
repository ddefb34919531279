"""The floor plan of plugin/, read from the source with `ast`: its areas and who imports whom.

An area is a subpackage or a top-level module of plugin/. `FLOORS` lists them bottom to top; an
area may import only areas on a lower floor, so a reader can understand any floor without the
ones above it, and no two areas can form a cycle. connectors/ sits below all of plugin/ and never
imports it.

`python -m tests.architecture` prints the area graph (each area and the areas it imports), the
figure quoted in the README's layout section.
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. Areas on one floor do not import each other.
FLOORS: list[tuple[str, ...]] = [
    # Every refusal derives from errors, a settings error included.
    ("errors",),
    # How a setting's text becomes a value; config lists the settings.
    ("setting_values",),
    ("bundled", "config", "extensions", "inputs", "jsonl", "language", "money", "pii",
     "similarity"),
    ("policy", "starters"),
    ("classify", "drafts"),
    ("guardrails", "quality"),
    ("store",),
    ("drafting", "intake", "secrets"),
    ("moderation",),
    ("actions",),
    ("accounts", "outbound", "sources"),
    ("context", "demo", "evaluation", "insights", "pipeline"),
    ("posting", "tables"),
    ("migrations",),
    ("api", "web"),
    ("runtime",),
    ("app", "server"),
    ("embed",),
    ("commands",),
]


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it was written."""

    file: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.target}"


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def imports_in(path: Path, root: Path) -> Iterator[Import]:
    """Every module a file imports, relative imports resolved, lazy ones inside functions too."""
    name, is_package = _module_name(path, root)
    package = name.split(".") if is_package else name.split(".")[:-1]
    shown = path.relative_to(root).as_posix()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=shown)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(shown, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if node.module is None:
                # `from . import x` names modules, each one imported.
                for alias in node.names:
                    yield Import(shown, node.lineno, f"{module}.{alias.name}")
            else:
                yield Import(shown, node.lineno, module)


def area_of(module: str, package: str = "plugin") -> str | None:
    """The area a module belongs to; None outside the package or for the package root, whose
    only names (`__version__`, the lazy `create_app`) every part may use."""
    parts = module.split(".")
    if parts[0] != package or len(parts) < 2 or parts[1].startswith("__"):
        return None
    return parts[1]


def areas(root: Path = ROOT, package: str = "plugin") -> set[str]:
    """The subpackages (folders holding Python) and top-level modules of the package."""
    found = set()
    for path in (root / package).iterdir():
        if path.suffix == ".py" and path.stem != "__init__":
            found.add(path.stem)
        elif path.is_dir() and any(path.rglob("*.py")):
            found.add(path.name)
    return found


def area_imports(root: Path = ROOT, package: str = "plugin") -> dict[tuple[str, str], list[Import]]:
    """(importing area, imported area) -> the imports that make the edge."""
    edges: dict[tuple[str, str], list[Import]] = {}
    for path in sorted((root / package).rglob("*.py")):
        source = area_of(_module_name(path, root)[0], package)
        if source is None:
            continue
        for found in imports_in(path, root):
            target = area_of(found.target, package)
            if target is not None and target != source:
                edges.setdefault((source, target), []).append(found)
    return edges


def cycles(edges: Mapping[tuple[str, str], object]) -> list[list[str]]:
    """The strongly connected groups of more than one area (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def violations(root: Path = ROOT, package: str = "plugin",
               floors: list[tuple[str, ...]] = FLOORS) -> list[str]:
    """Everything wrong with the floor plan, each naming the import that breaks it."""
    floor_of = {area: number for number, floor in enumerate(floors) for area in floor}
    problems = [f"{package}/{area}: area is on no floor; add it to FLOORS in tests/architecture.py"
                for area in sorted(areas(root, package) - set(floor_of))]
    edges = area_imports(root, package)
    for (source, target), found in sorted(edges.items()):
        if source not in floor_of or target not in floor_of:
            continue
        if floor_of[target] >= floor_of[source]:
            where = "the same floor as" if floor_of[target] == floor_of[source] else "above"
            problems.extend(f"{imp}: area {target} is {where} area {source}" for imp in found)
    for group in cycles(edges):
        members = set(group)
        links = [str(found[0]) for (source, target), found in sorted(edges.items())
                 if source in members and target in members]
        problems.append(f"areas {' -> '.join(group)} form a cycle: " + "; ".join(links))
    return problems


def connector_violations(root: Path = ROOT) -> list[str]:
    """connectors/ is the bottom of everything: an import of plugin from it is named."""
    return [f"{found}: connectors never import plugin"
            for path in sorted((root / "connectors").rglob("*.py"))
            for found in imports_in(path, root)
            if found.target == "plugin" or found.target.startswith("plugin.")]


def render(root: Path = ROOT, package: str = "plugin",
           floors: list[tuple[str, ...]] = FLOORS) -> str:
    """The area graph, top floor first: each area and the areas it imports (all lower)."""
    edges = area_imports(root, package)
    present = areas(root, package)
    lines = []
    for number in range(len(floors) - 1, -1, -1):
        for area in floors[number]:
            if area not in present:
                continue
            below = sorted(target for source, target in edges if source == area)
            lines.append(f"{number:>2}  {area:<11} -> {' '.join(below)}" if below
                         else f"{number:>2}  {area}")
    lines.append("    connectors/ (below every floor) -> no plugin import")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
    problems = violations() + connector_violations()
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)
