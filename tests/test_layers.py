"""The apps form layers ([tool.importlinter] in pyproject.toml, docs/architecture.md): a module imports only
from its own layer and the layers below, views only from URL confs, no two modules import each other (even
through others), and imports sit at the top of a module unless there is a reason, written `# lazy: …`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import grimp

import paperboard
from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers.models import Paper
from paperboard.papers.signals import papers_written
from paperboard.search import lexical
from paperboard.search.query import parse

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(paperboard.__file__).resolve().parent


def test_the_layer_and_views_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself (Tarjan)."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if ".migrations" not in i) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in edges[m]:
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            component = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                component.append(n)
                if n == m:
                    break
            if len(component) > 1 or m in edges[m]:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in modules:
        if m not in index:
            visit(m)
    return found


def test_no_module_of_paperboard_imports_itself_back_through_other_modules():
    graph = grimp.build_graph("paperboard", include_external_packages=False, cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


INDENTED_IMPORT = re.compile(r"^\s+(from\s+\S+\s+import\b|import\s+\S)")


def _unexplained_function_level_imports(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = []
    for i, line in enumerate(lines):
        if not INDENTED_IMPORT.match(line) or "# lazy:" in line:
            continue
        j = i - 1  # a `# lazy:` comment on the import block right above covers the whole block
        while j >= 0 and (not lines[j].strip() or lines[j].strip().startswith("#") or INDENTED_IMPORT.match(lines[j])):
            if "# lazy:" in lines[j]:
                break
            j -= 1
        else:
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{i + 1}: {line.strip()}")
            continue
        if j < 0 or "# lazy:" not in lines[j]:
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{i + 1}: {line.strip()}")
    return bad


def test_imports_inside_functions_say_why_they_are_lazy():
    bad = [
        problem
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
        for problem in _unexplained_function_level_imports(path)
    ]
    assert bad == []


def test_an_import_batch_tells_the_search_which_papers_it_wrote(db):
    heard: list[list[int]] = []

    def listener(sender, cursor, paper_ids, run=None, **kwargs):
        heard.append(list(paper_ids))

    papers_written.connect(listener)
    try:
        stats = store.import_records([
            PaperRecord(arxiv_id="2501.00001", title="Layered apps", abstract="Imports point down."),
            PaperRecord(arxiv_id="2501.00002", title="No cycles", abstract="Signals point up."),
        ])
    finally:
        papers_written.disconnect(listener)
    assert stats.new == 2
    assert sorted(id for batch in heard for id in batch) == sorted(Paper.objects.values_list("pk", flat=True))


def test_imported_papers_are_found_by_the_keyword_search_at_once(db):
    store.import_records([PaperRecord(arxiv_id="2501.00003", title="Stratified architecture", abstract="x")])
    assert [h.paper_id for h in lexical.search(parse("stratified"), 10)] == [Paper.objects.get().pk]
