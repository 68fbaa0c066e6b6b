"""The package's import graph has no cycle.

Every ``import`` statement of every module of ``src/clusterlab`` counts, at module level and
inside functions alike (a cycle hidden in a function still ties two modules together). An edge
goes to the module named: ``from P import name`` goes to ``P.name`` when that is a module, else
to ``P``. The package ``__init__`` files that Python runs on the way to a submodule are not
edges (re-exporting submodules from ``__init__`` is how a package shows its public names).
"""

from __future__ import annotations

import ast
from pathlib import Path

import clusterlab

ROOT = Path(clusterlab.__file__).parent


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _targets(node: ast.AST, module: str, is_package: bool, modules: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, *([base] if base else [])])
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """Module -> the clusterlab modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            for target in _targets(node, name, is_package, modules):
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_walker_sees_edges_and_cycles():
    graph = import_graph()
    assert "clusterlab.models.registry" in graph["clusterlab.models"]
    assert "clusterlab.persistence" in graph["clusterlab.workflow.storage"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_lower_layers_do_not_import_the_workflow():
    graph = import_graph()
    for module in ("clusterlab.persistence", "clusterlab.selection", "clusterlab.report"):
        for name in graph:
            if name == module or name.startswith(module + "."):
                upward = {t for t in graph[name] if t.startswith("clusterlab.workflow")}
                assert not upward, f"{name} imports {sorted(upward)}"
