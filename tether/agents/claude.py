"""Claude Code: its hook payloads, its hook answers, and its settings file.

Hooks are installed in the project's ``.claude/settings.local.json`` (they hold this
machine's interpreter path, so they are per user and never committed). Every hook
command tether writes runs ``<python> -P -c "from tether.hook import cli; cli()" claude
<Event>``: an
absolute interpreter, so it works from a virtualenv or a global install alike,
``-P`` so that a ``tether/`` folder planted in the workspace can never shadow
the real package, and the event name on the command line so that even a
payload that is not JSON is known to be a PreToolUse (and is then blocked).
The PreToolUse command ends in ``|| exit 2``: however the hook process dies,
the call is blocked.
"""

from __future__ import annotations

import os
import sys

from tether import fastjson, workspace
from tether.errors import HookInputError, TetherError
from tether.types import Decision, Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

AGENT = "claude"
SETTINGS = os.path.join(".claude", "settings.json")
LOCAL_SETTINGS = os.path.join(".claude", "settings.local.json")
_NOTICE_MARK = "from tether.hook import cli"
NOTICE = ("This project is guarded by tether (.tether/policy.toml), which is not set up for you "
          "on this machine: install it (pipx install tether) and run `tether init` here.")

# The events tether hooks, and whether the hook needs a tool matcher.
HOOK_EVENTS: dict[str, bool] = {
    "SessionStart": False,
    "UserPromptSubmit": False,
    "PreToolUse": True,
    "PostToolUse": True,
    "PostToolUseFailure": True,
    "Stop": False,
    "SessionEnd": False,
}
# Above Claude Code's default: a hook that times out counts as not blocking, so the
# guard must always answer first; tether's own waits (the store lock) are shorter.
HOOK_TIMEOUT = 120

# Commands tether wrote, in this form or an earlier one (``-m tether.hook``).
_OURS = r"(?:-m\s+tether\.hook(?:\s|$)|from tether\.hook import cli)"


def hook_command(event: str, python: str | None = None) -> str:
    import shlex

    command = (f"{shlex.quote(python or sys.executable)} -P -c "
               f"{shlex.quote('from tether.hook import cli; cli()')} {AGENT} {event}")
    if event == "PreToolUse":
        # Claude Code blocks only on exit status 2 (or a JSON decision). A hook that dies any
        # other way (a crash in a native parser, a missing interpreter) must block too.
        command += " || exit 2"
    return command


# -- payloads --------------------------------------------------------------------


def _str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def parse(payload: Any, event_name: str | None = None, *, cwd: str | None = None,
          project_dir: str | None = None) -> Event:
    """A Claude Code hook payload as an Event; HookInputError when it is not one.

    ``cwd`` and ``project_dir`` stand for the hook process's working folder and its
    CLAUDE_PROJECT_DIR (the daemon answers for hook processes other than itself);
    by default they are this process's own.
    """
    if not isinstance(payload, dict):
        raise HookInputError(f"hook input must be a JSON object, got {type(payload).__name__}")
    name = _str(payload, "hook_event_name") or event_name
    if not name:
        raise HookInputError("hook input has no hook_event_name")
    if event_name and name != event_name:
        raise HookInputError(f"hook for {event_name} received a {name} event")
    cwd = _str(payload, "cwd") or cwd or os.getcwd()
    if not os.path.isabs(cwd):
        raise HookInputError(f"hook input cwd is not an absolute path: {cwd!r}")
    project = os.environ.get("CLAUDE_PROJECT_DIR") if project_dir is None else project_dir
    if project and os.path.isdir(os.path.join(project, workspace.POLICY_DIR)):
        root = os.path.realpath(project)
    else:
        root = workspace.find_root(cwd)
    tool_input = payload.get("tool_input")
    if tool_input is not None and not isinstance(tool_input, dict):
        raise HookInputError("hook input tool_input must be a JSON object")
    if name in ("PreToolUse", "PostToolUse", "PostToolUseFailure") and not _str(payload, "tool_name"):
        raise HookInputError(f"{name} hook input has no tool_name")
    error = payload.get("error")
    return Event(
        name=name,
        agent=AGENT,
        session_id=_str(payload, "session_id"),
        cwd=cwd,
        root=root,
        prompt_id=_str(payload, "prompt_id"),
        prompt=payload.get("prompt") if isinstance(payload.get("prompt"), str) else None,
        permission_mode=_str(payload, "permission_mode"),
        tool=_str(payload, "tool_name"),
        tool_input=tool_input,
        tool_use_id=_str(payload, "tool_use_id"),
        tool_response=payload.get("tool_response"),
        error=error if isinstance(error, str) else (fastjson.dumps(error) if error is not None else None),
        transcript_path=_str(payload, "transcript_path"),
        source=_str(payload, "source"),
        raw=payload,
    )


def answer(decision: Decision) -> str | None:
    """The PreToolUse answer on stdout. An "allow" says nothing, so Claude Code's own
    permission rules and prompts still apply: the guard only ever narrows them."""
    if decision.verdict == "allow":
        return None
    reason = "; ".join(decision.reasons) or f"tether policy says {decision.verdict}"
    return fastjson.dumps({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": decision.verdict,
        "permissionDecisionReason": f"tether: {reason}",
    }})


# -- settings --------------------------------------------------------------------


def _load(path: str) -> dict[str, Any]:
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise TetherError(f"cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TetherError(f"{path} is not valid JSON (line {getattr(exc, 'lineno', '?')}): fix it first") from None
    if not isinstance(data, dict):
        raise TetherError(f"{path} must hold a JSON object")
    return data


def _save(path: str, data: dict[str, Any]) -> None:
    import json

    from tether.fsutil import atomic_write

    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Whole or not at all: a half-written settings file would cost the person every hook and rule.
    atomic_write(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def _is_ours(hook: Any) -> bool:
    import re

    return isinstance(hook, dict) and isinstance(hook.get("command"), str) and bool(re.search(_OURS, hook["command"]))


def _strip(data: dict[str, Any]) -> bool:
    """Remove tether's hooks from settings data in place; whether anything was removed."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return False
    removed = False
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                inner = [h for h in group["hooks"] if not _is_ours(h)]
                if len(inner) != len(group["hooks"]):
                    removed = True
                    if not inner:
                        continue
                    group = {**group, "hooks": inner}
            kept_groups.append(group)
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not hooks:
        del data["hooks"]
    return removed


def _merge_rules(path: str, data: dict[str, Any], permissions: dict[str, list[str]]) -> dict[str, list[str]]:
    added: dict[str, list[str]] = {}
    perms = data.setdefault("permissions", {})
    if not isinstance(perms, dict):
        raise TetherError(f"{path}: \"permissions\" must be a JSON object")
    for kind, rules in permissions.items():
        current = perms.setdefault(kind, [])
        if not isinstance(current, list):
            raise TetherError(f"{path}: permissions.{kind} must be a JSON array")
        for rule in rules:
            if rule not in current:
                current.append(rule)
                added.setdefault(kind, []).append(rule)
    if not perms:
        del data["permissions"]
    return added


def _merge_sandbox(path: str, data: dict[str, Any], sandbox: dict[str, Any]) -> dict[str, Any]:
    """Set tether's sandbox keys; returns {key: [tether's value, the value it replaced]}."""
    current = data.setdefault("sandbox", {})
    if not isinstance(current, dict):
        raise TetherError(f"{path}: \"sandbox\" must be a JSON object")
    changed: dict[str, Any] = {}
    for key, value in sandbox.items():
        if current.get(key) != value:
            changed[key] = [value, current.get(key)]
            current[key] = value
    return changed


def _notice_hook() -> dict[str, Any]:
    """The one hook a team shares: it tells a teammate without tether what is missing, and
    never blocks (the guard's hooks, which hold this machine's interpreter, stay per user)."""
    command = (f"grep -qs {_NOTICE_MARK!r} \"$CLAUDE_PROJECT_DIR/{LOCAL_SETTINGS}\" || echo "
               f"'{NOTICE}'")
    return {"hooks": [{"type": "command", "command": command, "timeout": 10}]}


def install(root: str, python: str | None = None, permissions: dict[str, list[str]] | None = None,
            save: bool = True, sandbox: dict[str, Any] | None = None,
            shared: bool = False) -> tuple[bool, dict[str, Any]]:
    """Merge tether's hooks, native permission rules and sandbox settings into the settings.

    The hooks name this machine's interpreter, so they go to ``settings.local.json`` (per
    user, never committed). The rules and the sandbox go there too, or, with ``shared``,
    to ``settings.json``, which the team commits, with a notice hook for teammates who
    have no tether. Keeps every other hook and setting. Returns whether a file changed,
    and what was added per file (what the user already had is not tether's).
    """
    import json

    local_path = os.path.join(root, LOCAL_SETTINGS)
    shared_path = os.path.join(root, SETTINGS)
    files = {LOCAL_SETTINGS: _load(local_path), SETTINGS: _load(shared_path)}
    before = {name: json.dumps(data, sort_keys=True) for name, data in files.items()}
    added: dict[str, Any] = {}
    for data in files.values():
        _strip(data)
    local = files[LOCAL_SETTINGS]
    hooks = local.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise TetherError(f"{local_path}: \"hooks\" must be a JSON object")
    for event, needs_matcher in HOOK_EVENTS.items():
        entry: dict[str, Any] = {"type": "command", "command": hook_command(event, python),
                                 "timeout": HOOK_TIMEOUT}
        group: dict[str, Any] = {"matcher": "*", "hooks": [entry]} if needs_matcher else {"hooks": [entry]}
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise TetherError(f"{local_path}: hooks.{event} must be a JSON array")
        groups.append(group)
    target = SETTINGS if shared else LOCAL_SETTINGS
    path = os.path.join(root, target)
    mine: dict[str, Any] = {}
    if permissions:
        mine["permissions"] = _merge_rules(path, files[target], permissions)
    if sandbox:
        mine["sandbox"] = _merge_sandbox(path, files[target], sandbox)
    if shared:
        shared_hooks = files[SETTINGS].setdefault("hooks", {})
        if not isinstance(shared_hooks, dict):
            raise TetherError(f"{shared_path}: \"hooks\" must be a JSON object")
        groups = shared_hooks.setdefault("SessionStart", [])
        if not isinstance(groups, list):
            raise TetherError(f"{shared_path}: hooks.SessionStart must be a JSON array")
        groups.append(_notice_hook())
    added[target] = mine
    changed = False
    for name, data in files.items():
        if json.dumps(data, sort_keys=True) != before[name]:
            changed = True
            if save:
                _save(os.path.join(root, name), data)
    return changed, added


def uninstall(root: str, added: dict[str, Any] | None = None) -> bool:
    """Remove only what install added, from both files; returns whether a file changed.

    ``added`` is what install returned (per file): permission rules tether added, and
    sandbox keys it set, which go back to their earlier value while they still hold
    tether's.
    """
    changed = False
    for name in (SETTINGS, LOCAL_SETTINGS):
        path = os.path.join(root, name)
        if not os.path.exists(path):
            continue
        data = _load(path)
        did = _strip(data)
        mine = (added or {}).get(name) or {}
        perms = data.get("permissions")
        if mine.get("permissions") and isinstance(perms, dict):
            for kind, rules in mine["permissions"].items():
                current = perms.get(kind)
                if isinstance(current, list):
                    kept = [r for r in current if r not in rules]
                    if len(kept) != len(current):
                        did = True
                        if kept:
                            perms[kind] = kept
                        else:
                            del perms[kind]
            if not perms:
                del data["permissions"]
        box = data.get("sandbox")
        if mine.get("sandbox") and isinstance(box, dict):
            for key, (ours, previous) in mine["sandbox"].items():
                if key in box and box[key] == ours:
                    did = True
                    if previous is None:
                        del box[key]
                    else:
                        box[key] = previous
            if not box:
                del data["sandbox"]
        if did:
            changed = True
            if data:
                _save(path, data)
            else:
                # Nothing of the user's is left: the file was tether's alone.
                os.unlink(path)
    return changed


def installed(root: str) -> dict[str, bool]:
    """Which of tether's hook events are present in the settings (per user, or shared as an
    earlier tether wrote them)."""
    found = dict.fromkeys(HOOK_EVENTS, False)
    for name in (LOCAL_SETTINGS, SETTINGS):
        try:
            data = _load(os.path.join(root, name))
        except TetherError:
            continue
        hooks = data.get("hooks") if isinstance(data.get("hooks"), dict) else {}
        assert isinstance(hooks, dict)
        for event in HOOK_EVENTS:
            groups = hooks.get(event)
            found[event] = found[event] or (isinstance(groups, list) and any(
                isinstance(g, dict) and isinstance(g.get("hooks"), list)
                and any(_is_ours(h) and not _is_notice(h) for h in g["hooks"])
                for g in groups))
    return found


# What of a settings file can loosen the guard or the sandbox, and so is pinned by tether's
# tamper evidence (tether/pins.py): every hook (another PreToolUse hook can answer "allow" or
# rewrite a call's input), the permission rules other than "allow" (Claude Code writes those
# itself when a person says "don't ask again", and an allow rule never overrides a hook's
# deny or an ask rule), the sandbox, the switch that turns every hook off, and the
# environment the hooks run in.
PINNED_KEYS = ("hooks", "permissions", "sandbox", "disableAllHooks", "env")


def pinned_view(data: dict[str, Any]) -> dict[str, Any]:
    """The part of one settings file that tamper evidence pins."""
    view = {key: data[key] for key in PINNED_KEYS if key in data}
    perms = view.get("permissions")
    if isinstance(perms, dict) and "allow" in perms:
        rest = {k: v for k, v in perms.items() if k != "allow"}
        if rest:
            view["permissions"] = rest
        else:
            del view["permissions"]
    return view


def hook_events(data: dict[str, Any]) -> set[str]:
    """The events one settings file's data hooks tether's guard or recorder for.

    A plain substring test rather than ``_is_ours``: this runs in the hook process, which
    does not import ``re``.
    """
    hooks = data.get("hooks")
    found: set[str] = set()
    if not isinstance(hooks, dict):
        return found
    for event in HOOK_EVENTS:
        groups = hooks.get(event)
        for group in groups if isinstance(groups, list) else ():
            inner = group.get("hooks") if isinstance(group, dict) else None
            for hook in inner if isinstance(inner, list) else ():
                command = hook.get("command") if isinstance(hook, dict) else None
                if isinstance(command, str) and _NOTICE_MARK in command and not _is_notice(hook):
                    found.add(event)
    return found


def _is_notice(hook: Any) -> bool:
    return isinstance(hook, dict) and isinstance(hook.get("command"), str) and hook["command"].startswith("grep -qs")
