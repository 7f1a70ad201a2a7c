"""Setting tether up in a workspace, taking it out again, and reporting its state."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from tether import workspace
from tether.agents import claude
from tether.errors import TetherError
from tether.record.recorder import Recorder
from tether.record.store import Store

AGENTS = ("claude",)

STARTER_POLICY = """\
# The guard policy of this project: what a coding agent may do here.
# Commit it and review changes to it like code; the agent itself cannot edit it.
#
# It extends tether's built-in policy, which already protects secrets, CI, migrations,
# infrastructure, shared git state and tether's own files. `tether policy show` prints
# the result, `tether explain "CMD"` shows which rule decides a command, and
# docs/policy.md lists every rule id. Decisions are "allow", "ask" or "deny".
version = 1

# Hosts that commands and WebFetch may reach without asking. "..." keeps the built-in list.
# [network]
# allow = ["...", "api.internal.example.com"]

# Make a rule stricter or looser, by its id.
# [rules]
# "git.push.protected" = "deny"
# "infra.apply" = "deny"
"""


@dataclass
class InitReport:
    root: str
    store: str
    store_created: bool
    policy_created: bool
    settings_changed: dict[str, bool] = field(default_factory=dict)
    files: int = 0
    external_step: str | None = None


def _agents(agent: str) -> tuple[str, ...]:
    if agent == "all":
        return AGENTS
    if agent not in AGENTS:
        raise TetherError(f"tether cannot set up {agent} yet; supported: {', '.join(AGENTS)}")
    return (agent,)


def init(root: str, agent: str = "claude") -> InitReport:
    agents = _agents(agent)
    # Everything that can refuse is checked before anything is created.
    rules = _native_rules(root)
    if "claude" in agents:
        claude.install(root, permissions=rules, save=False)
    store = Store.for_root(root)
    created = not store.exists()
    store = Store.open(root, create=True)
    try:
        policy = workspace.policy_path(root)
        policy_created = False
        if not os.path.exists(policy):
            os.makedirs(os.path.dirname(policy), exist_ok=True)
            with open(policy, "x", encoding="utf-8") as fh:
                fh.write(STARTER_POLICY)
            policy_created = True
        changed = {}
        for name in agents:
            if name == "claude":
                changed[name], added = claude.install(root, permissions=rules)
                _remember_rules(store, added)
        _compile_bytecode()
        files, step = Recorder(store).baseline("tether init" if created else "tether init (again)")
        return InitReport(root, store.path, created, policy_created, changed, files, step)
    finally:
        store.close()


def _compile_bytecode() -> None:
    """Compile tether's own modules once, so that no hook process compiles them again.

    Where PYTHONDONTWRITEBYTECODE is set, Python would otherwise recompile every module
    on every hook event. Best effort: a read-only install is compiled already or not at all.
    """
    import compileall

    with contextlib.suppress(OSError):
        compileall.compile_dir(os.path.dirname(os.path.abspath(__file__)), quiet=2, workers=1)


def _native_rules(root: str) -> dict[str, list[str]]:
    from tether.guard.engine import Guard
    from tether.guard.native import claude_rules

    return claude_rules(Guard.load(root))


_RULES_KEY = "claude.permissions_added"


def _remember_rules(store: Store, added: dict[str, list[str]]) -> None:
    """Keep the permission rules init added, so that uninstall removes those and no others."""
    import json

    known = json.loads(store.meta(_RULES_KEY) or "{}")
    for kind, rules in added.items():
        known.setdefault(kind, [])
        known[kind] += [r for r in rules if r not in known[kind]]
    with store.transaction():
        store.set_meta(_RULES_KEY, json.dumps(known))


def uninstall(root: str, agent: str = "all") -> dict[str, bool]:
    import json

    store = Store.for_root(root)
    added: dict[str, list[str]] = {}
    if store.exists():
        store = Store.open(root)
        try:
            added = json.loads(store.meta(_RULES_KEY) or "{}")
            with store.transaction():
                store.set_meta(_RULES_KEY, "{}")
        finally:
            store.close()
    changed = {}
    for name in _agents(agent):
        if name == "claude":
            changed[name] = claude.uninstall(root, permissions=added)
    return changed


def status(root: str) -> dict[str, Any]:
    from tether.record import query

    store = Store.for_root(root)
    out: dict[str, Any] = {
        "root": root,
        "store": store.path,
        "initialized": store.exists(),
        "policy": workspace.policy_path(root) if os.path.exists(workspace.policy_path(root)) else None,
        "agents": {"claude": {"hooks": claude.installed(root)}},
        "daemon": {"running": False},
        "errors": [],
    }
    out["agents"]["claude"]["installed"] = all(out["agents"]["claude"]["hooks"].values())
    if store.exists():
        store = Store.open(root)
        try:
            db = store.db
            out["sessions"] = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
            out["steps"] = db.execute("SELECT COUNT(*) FROM steps").fetchone()[0]
            out["files"] = db.execute("SELECT COUNT(*) FROM files WHERE oid IS NOT NULL").fetchone()[0]
            out["errors"] = query.errors(store)
        finally:
            store.close()
    return out
