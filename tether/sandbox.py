"""The agent's own OS sandbox: whether it can run here, and the settings tether gives it.

Claude Code runs every Bash command inside bubblewrap (Linux, with socat relaying its
network proxy) or Seatbelt (macOS) when its settings say ``sandbox.enabled``. Inside,
only the workspace and a private temporary folder are writable, the paths of the
project's ``Edit(...)`` deny rules are mounted read-only, those of its ``Read(...)``
deny rules are unreadable, and the network goes through a proxy that lets through
only ``sandbox.network.allowedDomains``. That is what stops "write a script, then run
it": the guard sees only the command, the sandbox confines whatever the command runs.
harness/FACTS.md ("Sandbox") has what was verified with the real binary.

This module holds what both ``tether init`` (the settings) and the hook (is the
sandbox on for this call?) need. It imports nothing beyond the core: the hook loads it
only for Bash calls in ``required`` mode.
"""

from __future__ import annotations

import os
import sys

from tether import fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MODES = ("required", "preferred", "off")
DEFAULT_MODE = "preferred"

# Names under the workspace root that Claude Code 2.1.328's sandbox always protects. Where
# one does not exist, it mounts /dev/null (or an empty folder) there for the length of the
# command, so inside the sandbox `git status` lists it and `git add -A` fails ("can only add
# regular files"). tether lists the absent ones in the repository's own exclude file
# (.git/info/exclude), which the sandbox cannot change, so that git skips them.
PLACEHOLDERS = (
    ".bash_profile", ".bashrc", ".gitconfig", ".gitmodules", ".idea", ".mcp.json", ".profile",
    ".ripgreprc", ".vscode", ".zprofile", ".zshrc",
    ".claude/agents", ".claude/commands", ".claude/hooks", ".claude/launch.json", ".claude/loop.md",
    ".claude/output-styles", ".claude/routines", ".claude/scheduled_tasks.json", ".claude/skills",
    ".claude/workflows", ".claude/settings.json",
)
# Per-user files that must never be committed.
LOCAL_ONLY = (".claude/settings.local.json",)
_EXCLUDE_BEGIN = "# >>> tether: placeholders of the agent's sandbox and per-user settings (tether uninstall removes this)"
_EXCLUDE_END = "# <<< tether"

INSTALL_HINT = ("install bubblewrap and socat: `sudo apt-get install bubblewrap socat` (Debian, Ubuntu), "
                "`sudo dnf install bubblewrap socat` (Fedora), or `brew install bubblewrap socat` "
                "(Homebrew on Linux)")


def _which(name: str) -> str | None:
    # shutil.which would do, but this module is on the hook's path and shutil is not.
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def unavailable_reason(platform: str | None = None) -> str | None:
    """Why the sandbox cannot run on this machine, or None when it can."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        missing = [tool for tool in ("bwrap", "socat") if _which(tool) is None]
        if missing:
            names = {"bwrap": "bubblewrap (bwrap)", "socat": "socat"}
            return f"{' and '.join(names[m] for m in missing)} not found; {INSTALL_HINT}"
        return None
    if platform == "darwin":
        return None if os.path.exists("/usr/bin/sandbox-exec") else "sandbox-exec (Seatbelt) not found"
    return f"the agent's sandbox does not run on {platform} (Linux, WSL2 and macOS only)"


def claude_settings(mode: str, allow_hosts: list[str], deny_write: list[str]) -> dict[str, Any]:
    """The ``sandbox`` object of Claude Code's settings for a policy.

    ``allowUnsandboxedCommands: false`` makes Claude Code ignore a Bash call's
    ``dangerouslyDisableSandbox`` (the command still runs inside). Only host names go to
    ``allowedDomains``: the proxy matches names, and loopback is inside the sandbox's own
    network namespace anyway.
    """
    domains = [h for h in allow_hosts if h and not _is_address(h) and h != "localhost"]
    out: dict[str, Any] = {
        "enabled": True,
        "allowUnsandboxedCommands": False,
        "network": {"allowedDomains": domains},
    }
    if mode == "required":
        out["failIfUnavailable"] = True
    if deny_write:
        out["filesystem"] = {"denyWrite": deny_write}
    return out


def _is_address(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def interpreter_paths(root: str) -> list[str]:
    """What in the interpreter tether runs on would run before the hook, when it is inside
    the workspace (a project virtualenv): tether's own package, the start-up files
    (sitecustomize.py, usercustomize.py) and the ``.pth`` files that exist now.

    Outside the workspace the sandbox leaves all of it read-only anyway. Only these names
    are denied, not site-packages itself, so installing the project's own dependencies
    still works inside the sandbox.
    """
    import sysconfig

    import tether

    root = os.path.realpath(root)
    found: list[str] = []
    package = os.path.dirname(os.path.realpath(tether.__file__))
    if _within(package, root):
        found.append(package)
    for key in ("purelib", "platlib"):
        site = os.path.realpath(sysconfig.get_paths()[key])
        if not _within(site, root):
            continue
        for name in ("sitecustomize.py", "usercustomize.py"):
            path = os.path.join(site, name)
            if path not in found:
                found.append(path)
        try:
            names = sorted(os.listdir(site))
        except OSError:
            names = []
        for name in names:
            path = os.path.join(site, name)
            if (name.endswith(".pth") or (name.startswith("tether-") and name.endswith(".dist-info"))) \
                    and path not in found:
                found.append(path)
    return found


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


# -- the git exclude block -----------------------------------------------------------


def _exclude_path(root: str) -> str | None:
    from tether.workspace import git_dir

    gd = git_dir(root)
    return os.path.join(gd, "info", "exclude") if gd else None


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return ""


def _without_block(text: str) -> str:
    start = text.find(_EXCLUDE_BEGIN)
    if start < 0:
        return text
    end = text.find(_EXCLUDE_END, start)
    end = len(text) if end < 0 else end + len(_EXCLUDE_END)
    if text[end:end + 1] == "\n":
        end += 1
    return text[:start] + text[end:]


def excluded(root: str) -> list[str]:
    """The names tether's block in .git/info/exclude holds now."""
    path = _exclude_path(root)
    if path is None:
        return []
    text = _read(path)
    start = text.find(_EXCLUDE_BEGIN)
    if start < 0:
        return []
    end = text.find(_EXCLUDE_END, start)
    body = text[start + len(_EXCLUDE_BEGIN):end if end >= 0 else len(text)]
    return [line[1:] for line in body.splitlines() if line.startswith("/")]


def write_exclude(root: str) -> list[str]:
    """List the absent placeholder names and the per-user settings in .git/info/exclude.

    Names that exist are left alone: they are real files that git should see. Returns
    the names listed; nothing is written outside a git repository.
    """
    path = _exclude_path(root)
    if path is None:
        return []
    names = [n for n in PLACEHOLDERS if not os.path.lexists(os.path.join(root, n))]
    names += [n for n in LOCAL_ONLY if n not in names]
    text = _without_block(_read(path))
    if text and not text.endswith("\n"):
        text += "\n"
    block = "\n".join([_EXCLUDE_BEGIN, *(f"/{n}" for n in names), _EXCLUDE_END]) + "\n"
    _write_if_changed(path, text + block)
    return names


def remove_exclude(root: str) -> bool:
    path = _exclude_path(root)
    if path is None or not os.path.exists(path):
        return False
    text = _read(path)
    kept = _without_block(text)
    return _write_if_changed(path, kept)


def _write_if_changed(path: str, text: str) -> bool:
    if _read(path) == text:
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tether-{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return True


# -- is it on? ---------------------------------------------------------------------


def _settings(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = fastjson.loads(fh.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def effective(root: str, home: str | None = None) -> dict[str, Any]:
    """The ``sandbox`` settings Claude Code would use here: user, then project, then local
    settings, each key of a later file replacing the earlier one's (managed settings,
    which only an administrator writes, are not read)."""
    home = home or os.path.expanduser("~")
    merged: dict[str, Any] = {}
    for path in (os.path.join(home, ".claude", "settings.json"),
                 os.path.join(root, ".claude", "settings.json"),
                 os.path.join(root, ".claude", "settings.local.json")):
        value = _settings(path).get("sandbox")
        if isinstance(value, dict):
            merged.update(value)
    return merged


def state(root: str, tool_input: dict[str, Any] | None = None) -> tuple[str, str]:
    """("on" | "off" | "unavailable", why) for Bash calls in this workspace, or for one call."""
    settings = effective(root)
    if settings.get("enabled") is not True:
        return "off", "the agent's settings do not enable its sandbox (run `tether init`)"
    reason = unavailable_reason()
    if reason is not None:
        return "unavailable", reason
    if tool_input and tool_input.get("dangerouslyDisableSandbox") is True \
            and settings.get("allowUnsandboxedCommands") is not False:
        return "off", "the call asks to run outside the sandbox (dangerouslyDisableSandbox)"
    command = tool_input.get("command") if tool_input else None
    excluded_commands = settings.get("excludedCommands")
    if isinstance(command, str) and isinstance(excluded_commands, list):
        first = command.strip().split(" ", 1)[0]
        for pattern in excluded_commands:
            if isinstance(pattern, str) and pattern.split(" ", 1)[0].split(":", 1)[0] == first:
                return "off", f"{first} is one of the sandbox's excludedCommands, which run outside it"
    return "on", "Bash runs in the agent's sandbox (bubblewrap)" if sys.platform.startswith("linux") \
        else "Bash runs in the agent's sandbox"
