"""Claude Code's own permission rules, mirroring the policy's path classes, as a second layer.

`tether init` merges these into ``.claude/settings.json`` (``permissions.deny`` and
``permissions.ask``) so that Claude Code refuses, say, ``Read(./.env)`` even if the
hook were not installed. Claude Code's patterns are gitignore-like: ``./x`` is
relative to the project, ``~/x`` to the home folder, ``//x`` is absolute and
``**/x`` matches at any depth. ``Read`` rules also cover Grep and Glob; ``Edit``
rules cover every tool that edits files.

Native rules cannot express exceptions, so a pattern that one of its class's
exceptions could match (``.env.*`` against ``.env.example``) is left to the
hook rather than denying files the policy allows.
"""

from __future__ import annotations

import os

from tether.guard.globs import name_match

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.engine import Guard


def _claude_pattern(pattern: str, store: str | None) -> str:
    if pattern.startswith("~/") or pattern == "~":
        return pattern
    if pattern.startswith("/"):
        return "/" + pattern
    if pattern.startswith("**/"):
        return pattern
    if "/" not in pattern:
        return "**/" + pattern
    return "./" + pattern.removeprefix("./")


def _shadowed(pattern: str, excepts: list[str]) -> bool:
    """Whether an exception of the class could match a file the pattern matches."""
    base = pattern.rsplit("/", 1)[-1]
    for e in excepts:
        eb = e.rsplit("/", 1)[-1]
        if name_match(base, eb) or name_match(eb, base):
            return True
    return False


# Folders `tether init` creates (or git did) before the agent ever runs.
_MADE_BY_INIT = frozenset({".tether", ".claude", ".git"})


def _not_for_sandbox(pattern: str, root: str) -> bool:
    """Patterns left to the hook because Claude Code's sandbox turns every deny rule into a
    mount. A rule under /proc (``/proc/*/environ``) makes bubblewrap fail at random as
    processes come and go; a rule for a folder of the workspace that does not exist
    (``.codex``) gets a placeholder mounted there, which `git status` lists and `git add -A`
    refuses."""
    if pattern.startswith("/proc/"):
        return True
    if pattern.startswith(("/", "~", "**/")) or "/" not in pattern.strip("/"):
        return False
    first = pattern.removeprefix("./").split("/", 1)[0]
    if any(ch in first for ch in "*?["):
        return False
    return first not in _MADE_BY_INIT and not os.path.lexists(os.path.join(root, first))


def claude_rules(guard: Guard) -> dict[str, list[str]]:
    """{"deny": [...], "ask": [...]} permission rule strings for .claude/settings.json."""
    deny: list[str] = []
    ask: list[str] = []
    store = guard.store
    for cls in guard.policy.classes:
        spec = guard.policy.data.get("paths", {}).get(cls.name, {})
        globs = list(spec.get("globs", []))
        if cls.name == "tether" and store:
            globs += [store, store.rstrip("/") + "/**"]
        excepts = list(spec.get("except", []))
        read = guard.policy.rules.get(f"path.{cls.name}.read") or cls.decisions["read"]
        write = guard.policy.rules.get(f"path.{cls.name}.write") or cls.decisions["write"]
        for g in globs:
            if _shadowed(g, excepts) or _not_for_sandbox(g, guard.root):
                continue
            p = _claude_pattern(g, store)
            for tool, decision in (("Read", read), ("Edit", write)):
                rule = f"{tool}({p})"
                if decision == "deny" and rule not in deny:
                    deny.append(rule)
                elif decision == "ask" and rule not in ask and tool == "Edit" and cls.name in (
                        "secrets", "persistence", "git", "tether"):
                    ask.append(rule)
    # Rules for whole file classes such as ci or dependencies would prompt on every edit
    # even when the hook, which knows the task scope, allows it; the hook handles those.
    return {"deny": deny, "ask": [r for r in ask if r not in deny]}
