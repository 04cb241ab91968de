"""The search package's shape: small modules, no import cycle, one service for the rest of the code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "paperboard"
SEARCH = ROOT / "search"


def _modules() -> dict[str, Path]:
    out = {}
    for path in SEARCH.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The search modules `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules}


def test_no_search_module_is_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules().values() if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


def test_search_modules_import_each_other_without_a_cycle():
    modules = _modules()
    graph = {name: _imports(path, modules) for name, path in modules.items()}
    # A package's __init__ re-exporting its own submodules is not a cycle through them.
    graph = {name: {m for m in deps if not m.startswith(name + ".")} for name, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join([*trail[trail.index(dep):], dep]))
            if dep not in state:
                visit(dep, [*trail, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def _search_imports_outside() -> list[tuple[str, str, str]]:
    """(file, module, name) of every import from paperboard.search outside the package."""
    out = []
    for path in ROOT.rglob("*.py"):
        if SEARCH in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("paperboard.search"):
                out += [(str(path.relative_to(ROOT)), node.module, a.name) for a in node.names]
    return out


def test_code_outside_search_uses_no_private_name_of_it():
    private = [i for i in _search_imports_outside() if i[2].startswith("_") or "._" in i[1]]
    for path in ROOT.rglob("*.py"):
        if SEARCH in path.parents:
            continue
        tree = ast.parse(path.read_text())
        aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and (node.module or "").startswith("paperboard.search") for a in node.names}
        private += [(str(path.relative_to(ROOT)), node.value.id, node.attr) for node in ast.walk(tree)
                    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")]
    assert private == []


@pytest.mark.parametrize("folder", ["api", "feeds"])
def test_the_api_and_the_feeds_search_through_the_service(folder):
    used = {(module, name) for file, module, name in _search_imports_outside() if file.startswith(folder + "/")}
    allowed = {("paperboard.search", "service"), ("paperboard.search.service", "Search"),
               ("paperboard.search", "query"), ("paperboard.search.urls", "CATEGORY")}
    assert used <= allowed
