"""Each layer imports only from below it (docs/architecture.md), read from the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tether"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports() -> dict[str, set[str]]:
    """Module -> the tether modules it imports anywhere (at the top, in functions, for type checking)."""
    modules = _modules()

    def known(name: str) -> str:
        while name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                # `from tether.record import attribution` imports the module tether.record.attribution.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            found |= {known(t) for t in targets if t == "tether" or t.startswith("tether.")}
        graph[name] = found - {name, "tether"}
    return graph


def _within(module: str, *layers: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in layers)


def test_the_recorder_never_reaches_up() -> None:
    above = ("tether.history", "tether.guard", "tether.cli", "tether.hook")
    wrong = [f"{m} imports {d}" for m, deps in _imports().items() if _within(m, "tether.record")
             for d in sorted(deps) if _within(d, *above)]
    assert wrong == []


def test_history_never_imports_the_front_ends() -> None:
    wrong = [f"{m} imports {d}" for m, deps in _imports().items() if _within(m, "tether.history")
             for d in sorted(deps) if _within(d, "tether.cli", "tether.hook")]
    assert wrong == []


def test_no_import_circles_outside_the_guard() -> None:
    # The guard's modules are being restructured separately; everything else stays acyclic.
    graph = {m: {d for d in deps if not _within(d, "tether.guard")} for m, deps in _imports().items()
             if not _within(m, "tether.guard")}
    done: set[str] = set()
    circles = []

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            circles.append([*path[path.index(module):], module])
            return
        if module in done:
            return
        for dep in sorted(graph.get(module, ())):
            visit(dep, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert circles == []
