"""Setting tether up in a workspace, taking it out again, and reporting its state."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from tether import pins, workspace
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
    # The agent's OS sandbox: "on", "off" or "unavailable", and why; warnings for people.
    sandbox: str = "off"
    sandbox_reason: str = ""
    warnings: list[str] = field(default_factory=list)


def _agents(agent: str) -> tuple[str, ...]:
    if agent == "all":
        return AGENTS
    if agent not in AGENTS:
        raise TetherError(f"tether cannot set up {agent} yet; supported: {', '.join(AGENTS)}")
    return (agent,)


def init(root: str, agent: str = "claude", shared: bool = False, sandbox: bool = True) -> InitReport:
    """Set tether up: store, policy, the agent's hooks (per user), rules and sandbox.

    ``shared`` puts the permission rules and sandbox settings in the settings the team
    commits; ``sandbox=False`` (``--no-sandbox``) leaves the agent's sandbox alone.
    """
    agents = _agents(agent)
    # Everything that can refuse is checked before anything is created.
    guard = _guard(root)
    rules = _native_rules(guard)
    box, state, why, warnings = _sandbox_plan(root, guard, sandbox)
    if "claude" in agents:
        claude.install(root, permissions=rules, save=False, sandbox=box, shared=shared)
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
                changed[name], added = claude.install(root, permissions=rules, sandbox=box, shared=shared)
                _remember(store, added)
        from tether import sandbox as sandbox_mod

        sandbox_mod.write_exclude(root)
        # The policy and the settings as init leaves them are what the person accepted by
        # running it: pin them (tamper evidence, tether/pins.py).
        pins.pin(store)
        _compile_bytecode()
        files, step = Recorder(store).baseline("tether init" if created else "tether init (again)")
        return InitReport(root, store.path, created, policy_created, changed, files, step,
                          state, why, warnings)
    finally:
        store.close()


def _sandbox_plan(root: str, guard: Any, wanted: bool) -> tuple[dict[str, Any] | None, str, str, list[str]]:
    """The sandbox settings init writes, the state it leaves, why, and what to tell people."""
    from tether import sandbox

    mode = guard.policy.sandbox_mode
    warnings: list[str] = []
    if not wanted or mode == "off":
        why = "turned off by --no-sandbox" if not wanted else "the policy says [sandbox] mode = \"off\""
        warnings.append(f"the agent's OS sandbox is off ({why}): code the agent writes and runs "
                        "can change tether's policy, hooks and record; only the guard stands in the way")
        if mode == "required":
            warnings.append("the policy requires the sandbox, so the guard will deny every shell command")
        return None, "off", why, warnings
    deny_write = sandbox.interpreter_paths(root)
    if deny_write:
        warnings.append("tether is installed inside this workspace; its package and the interpreter's "
                        "start-up files are kept read-only for the agent, but an install outside the "
                        "workspace (pipx install tether, or uv tool install tether) is safer")
    box = sandbox.claude_settings(mode, guard.policy.allow_hosts, deny_write)
    reason = sandbox.unavailable_reason()
    if reason is not None:
        warnings.append(f"the agent's OS sandbox cannot run here: {reason}")
        if mode == "required":
            warnings.append("the policy requires the sandbox, so the guard denies shell commands until it can run")
        return box, "unavailable", reason, warnings
    return box, "on", "Bash runs in the agent's sandbox", warnings


def _compile_bytecode() -> None:
    """Compile tether's own modules once, so that no hook process compiles them again.

    Where PYTHONDONTWRITEBYTECODE is set, Python would otherwise recompile every module
    on every hook event. Best effort: a read-only install is compiled already or not at all.
    """
    import compileall

    with contextlib.suppress(OSError):
        compileall.compile_dir(os.path.dirname(os.path.abspath(__file__)), quiet=2, workers=1)


def _guard(root: str) -> Any:
    from tether.guard.engine import Guard

    return Guard.load(root)


def _native_rules(guard: Any) -> dict[str, list[str]]:
    from tether.guard.native import claude_rules

    return dict(claude_rules(guard))


# What init added to the agent's settings, per file. An earlier tether kept only the
# permission rules it added to settings.json, under _OLD_RULES_KEY.
_ADDED_KEY = "claude.added"
_OLD_RULES_KEY = "claude.permissions_added"


def _remember(store: Store, added: dict[str, Any]) -> None:
    """Keep what init added, so that uninstall removes that and nothing else."""
    import json

    known: dict[str, Any] = json.loads(store.meta(_ADDED_KEY) or "{}")
    for name, parts in added.items():
        mine = known.setdefault(name, {})
        for kind, rules in parts.get("permissions", {}).items():
            have = mine.setdefault("permissions", {}).setdefault(kind, [])
            have += [r for r in rules if r not in have]
        for key, (ours, previous) in parts.get("sandbox", {}).items():
            # The earliest value replaced is the one to give back.
            earlier = mine.setdefault("sandbox", {}).get(key)
            mine["sandbox"][key] = [ours, earlier[1] if earlier else previous]
    with store.transaction():
        store.set_meta(_ADDED_KEY, json.dumps(known))


def uninstall(root: str, agent: str = "all") -> dict[str, bool]:
    import json

    from tether import sandbox

    store = Store.for_root(root)
    added: dict[str, Any] = {}
    if store.exists():
        store = Store.open(root)
        try:
            added = json.loads(store.meta(_ADDED_KEY) or "{}")
            old = json.loads(store.meta(_OLD_RULES_KEY) or "{}")
            if old:
                shared = added.setdefault(claude.SETTINGS, {}).setdefault("permissions", {})
                for kind, rules in old.items():
                    shared.setdefault(kind, []).extend(r for r in rules if r not in shared.get(kind, []))
            with store.transaction():
                store.set_meta(_ADDED_KEY, "{}")
                store.set_meta(_OLD_RULES_KEY, "{}")
        finally:
            store.close()
    changed = {}
    for name in _agents(agent):
        if name == "claude":
            changed[name] = claude.uninstall(root, added)
    sandbox.remove_exclude(root)
    if store.exists():
        # What uninstall leaves is what the person asked for; `tether status` should not call
        # it a change nobody accepted.
        store = Store.open(root)
        try:
            pins.pin(store)
        finally:
            store.close()
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
        "daemon": _daemon(),
        "errors": [],
        "containment": _containment(root),
        "install": _install_location(root),
        # Tamper evidence: the policy and the hook settings against what was last accepted.
        "pins": pins.state(root, store.path),
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


def _daemon() -> dict[str, Any]:
    """{"running": bool, "pid": int|null, "url": str|null, "socket": str}."""
    from tether.daemon import client

    return client.state()


def _containment(root: str) -> dict[str, Any]:
    """{"state": "on"|"off"|"unavailable", "reason": str} for the agent's OS sandbox."""
    from tether import sandbox

    state, reason = sandbox.state(root)
    out: dict[str, Any] = {"state": state, "reason": reason}
    # Names git ignores only because the sandbox would put placeholders there: if one of
    # them is now a real file, git does not see it (`git add -f` adds it).
    hidden = [n for n in sandbox.excluded(root)
              if n not in sandbox.LOCAL_ONLY and os.path.lexists(os.path.join(root, n))]
    if hidden:
        out["hidden_from_git"] = hidden
    return out


def _install_location(root: str) -> dict[str, Any]:
    """Where tether runs from, and whether that is inside the workspace."""
    import sys

    import tether

    package = os.path.dirname(os.path.realpath(tether.__file__))
    real = os.path.realpath(root)
    inside = package == real or package.startswith(real.rstrip("/") + "/") \
        or os.path.realpath(sys.prefix).startswith(real.rstrip("/") + "/")
    out: dict[str, Any] = {"python": sys.executable, "package": package, "in_workspace": inside}
    if inside:
        out["advice"] = ("tether runs from inside this workspace, where code the agent runs could "
                         "change it; install it outside (pipx install tether, or uv tool install "
                         "tether) and run `tether init` again")
    return out
