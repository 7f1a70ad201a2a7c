"""The package's layering, checked from the source: no import circles, each layer imports only below.

Every import counts: at module level, inside functions (the hook imports lazily
to stay fast, but a lazy import is still a dependency) and under
``if TYPE_CHECKING:``. Imports made only for type checking are allowed inside a
module's own layer (they are erased at run time: the analyser and the source
scanner name each other's types), never upward. docs/architecture.md draws the
same layers.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tether"

# Layer -> module patterns, and the layers each may import (directly; below is transitive).
LAYERS: dict[str, tuple[list[str], list[str]]] = {
    "core": (["tether", "tether.errors", "tether.types", "tether.fastjson", "tether.fsutil",
              "tether.workspace",
              "tether.trust", "tether.trust.*"], []),
    "guard.syntax": (["tether.guard", "tether.guard.syntax"], ["core"]),
    "guard.parsing": (["tether.guard.walker", "tether.guard.shell"], ["guard.syntax"]),
    "guard.policy": (["tether.guard.catalog", "tether.guard.globs", "tether.guard.policy",
                      "tether.guard.gitconfig", "tether.guard.state"], ["core"]),
    "guard.analysis": (["tether.guard.paths", "tether.guard.hosts", "tether.guard.wrapping",
                        "tether.guard.opts", "tether.guard.registry", "tether.guard.readonly",
                        "tether.guard.base", "tether.guard.derive", "tether.guard.source",
                        "tether.guard.sql", "tether.guard.mcp", "tether.guard.analysis"],
                       ["guard.parsing", "guard.policy"]),
    "guard.commands": (["tether.guard.commands", "tether.guard.commands.*"], ["guard.analysis"]),
    "sandbox": (["tether.sandbox"], ["core"]),
    "guard.engine": (["tether.guard.engine"], ["guard.analysis", "sandbox"]),
    "guard.native": (["tether.guard.native"], ["guard.engine"]),
    "record": (["tether.record", "tether.record.*"], ["core"]),
    "history": (["tether.history", "tether.history.*"], ["record"]),
    "agents": (["tether.agents", "tether.agents.*"], ["core"]),
    "pins": (["tether.pins"], ["agents", "record"]),
    "daemon.client": (["tether.daemon", "tether.daemon.client"], ["core"]),
    "hook": (["tether.hook", "tether.setup"], ["agents", "guard.native", "history", "pins",
                                               "daemon.client"]),
    "daemon": (["tether.daemon.server", "tether.daemon.watch"], ["hook"]),
    "cli": (["tether.cli", "tether.cli.*", "tether.__main__"], ["daemon"]),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(module: str, path: Path, known: set[str]) -> list[tuple[str, str | None, bool]]:
    """(imported module, imported name or None, type-only) for every tether import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, str | None, bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tether":
                    found.append((alias.name, None, type_only))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "tether":
                return
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    found.append((sub, None, type_only))
                else:
                    found.append((base, alias.name, type_only))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return found


MODULES = _modules()
GRAPH = {m: _imports(m, p, set(MODULES)) for m, p in MODULES.items()}


def _layer(module: str) -> str:
    for name, (patterns, _) in LAYERS.items():
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return name
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


def _below(layer: str) -> set[str]:
    out: set[str] = set()
    todo = list(LAYERS[layer][1])
    while todo:
        x = todo.pop()
        if x not in out:
            out.add(x)
            todo.extend(LAYERS[x][1])
    return out


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_no_import_circles() -> None:
    """Tarjan's strongly connected components over run-time imports."""
    edges = {m: sorted({t for t, _, type_only in deps if not type_only and t in MODULES and t != m})
             for m, deps in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    assert not circles, f"modules that import each other: {circles}"


def test_each_layer_imports_only_from_below() -> None:
    wrong = []
    for module, deps in GRAPH.items():
        mine = _layer(module)
        allowed = _below(mine)
        for target, _, type_only in deps:
            if target not in MODULES:
                continue
            theirs = _layer(target)
            if theirs in allowed:
                continue
            if theirs == mine and (type_only or mine != "guard.commands" or target == module
                                   or target == "tether.guard.commands"):
                continue
            wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def test_command_handlers_never_import_each_other() -> None:
    handlers = [m for m in MODULES if m.startswith("tether.guard.commands.")]
    assert len(handlers) >= 7
    for module in handlers:
        for target, _, _ in GRAPH[module]:
            assert not (target.startswith("tether.guard.commands.") and target != module), \
                f"{module} imports {target}: reach another handler through the registry"


def test_no_private_names_cross_modules() -> None:
    crossing = [f"{m} imports {t}.{name}" for m, deps in GRAPH.items() for t, name, _ in deps
                if name and name.startswith("_") and not name.startswith("__")]
    assert not crossing, "\n".join(crossing)


@pytest.mark.parametrize("target", sorted(set(__import__(
    "tether.guard.registry", fromlist=["all_names"]).all_names().values())))
def test_every_registry_target_is_a_handler(target: str) -> None:
    module_name, func = target.split(".", 1)
    module = __import__(f"tether.guard.commands.{module_name}", fromlist=[func])
    assert callable(getattr(module, func))


def test_the_checker_sees_lazy_and_type_only_imports(tmp_path: Path) -> None:
    """The check would fail on the shapes it exists to catch."""
    src = tmp_path / "tether" / "guard" / "commands" / "x.py"
    src.parent.mkdir(parents=True)
    src.write_text("TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from tether.guard.engine import G\n"
                   "def f():\n    from tether.guard.commands.git import _helper\n")
    deps = _imports("tether.guard.commands.x", src, set(MODULES))
    assert ("tether.guard.engine", "G", True) in deps
    assert ("tether.guard.commands.git", "_helper", False) in deps
