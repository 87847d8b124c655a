"""The package's import graph has no cycle, counting imports inside functions too (they are cycles that only wait
for the right call order)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "emotrace"


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    return mods


def import_graph() -> dict[str, set[str]]:
    """Module -> the emotrace modules it imports anywhere in its body."""
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("emotrace") \
                    and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in mods else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("emotrace"))
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state:
                found = visit(w)
                if found:
                    return found
        state[v] = 2
        stack.pop()
        return None

    for v in sorted(graph):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def test_no_import_cycle_inside_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_lower_layers_do_not_import_higher_ones():
    graph = import_graph()
    rules = {"emotrace.data": ("emotrace.train", "emotrace.eval", "emotrace.models", "emotrace.pipeline"),
             "emotrace.eval": ("emotrace.train",), "emotrace.models": ("emotrace.train", "emotrace.eval"),
             "emotrace.sources": ("emotrace.faces", "emotrace.models", "emotrace.pipeline"),
             "emotrace.sinks": ("emotrace.pipeline", "emotrace.api", "emotrace.cli", "emotrace.web", "emotrace.batch"),
             "emotrace.results": ("emotrace.pipeline", "emotrace.models", "emotrace.sinks"),
             "emotrace.analyzer_config": ("emotrace.pipeline", "emotrace.faces", "emotrace.sinks"),
             "emotrace.train": ("emotrace.cli",)}
    bad = [(m, d) for m, deps in graph.items() for low, highs in rules.items() if m.startswith(low)
           for d in deps if d.startswith(highs)]
    assert not bad, bad
