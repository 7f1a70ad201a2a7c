"""git's configuration as git itself reads it, cached beside the policy.

The guard needs a few configuration values to judge git commands: the URL of a
remote (where ``git push origin`` sends), aliases (``git st`` may run a shell
command) and the keys that make git run programs. Reading config files by hand
misses what git sees: ``~/.config/git/config``, ``[include]`` and
``[includeIf]``, ``GIT_CONFIG_*`` variables, worktree configs. So the guard asks
git (``git config -z --list --show-origin``) and keeps the answer in a small
cache file, valid while every file git read, and every file it would read if it
existed, is unchanged. A hook call then costs a few ``stat`` calls, and a git
process only after the configuration changed.

When git is missing or fails, the configuration is empty: remotes and aliases
are then unknown, which the git analysis treats as "cannot tell".
"""

from __future__ import annotations

import marshal
import os

CACHE_NAME = "gitconfig.cache"
_CACHE_VERSION = 1
_TIMEOUT = 5.0
# Environment variables that change which files git reads or adds entries of their own.
_ENV_KEYS = ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_COUNT",
             "GIT_CONFIG_PARAMETERS", "GIT_DIR", "XDG_CONFIG_HOME", "GIT_CONFIG")


class GitConfig:
    """Configuration entries in the order git reads them (later entries win)."""

    __slots__ = ("_last", "entries")

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        # (key, value); key as git prints it: section and name lower-cased, subsection as written.
        self.entries = entries
        self._last: dict[str, str] = {}
        for k, v in entries:
            self._last[_norm(k)] = v

    def get(self, key: str) -> str | None:
        """The value git would use for ``key`` (``remote.origin.url``), or None."""
        return self._last.get(_norm(key))

    def get_all(self, key: str) -> list[str]:
        want = _norm(key)
        return [v for k, v in self.entries if _norm(k) == want]

    def remotes(self) -> dict[str, str]:
        """Configured remotes and their (fetch) URLs."""
        out: dict[str, str] = {}
        for k, v in self.entries:
            if k.startswith("remote.") and k.lower().endswith(".url"):
                out[k[7:-4]] = v
        return out

    def remote_urls(self, name: str) -> list[str]:
        """Every URL a push to the remote ``name`` may go to (url and pushurl entries)."""
        return self.get_all(f"remote.{name}.url") + self.get_all(f"remote.{name}.pushurl")


def _norm(key: str) -> str:
    """Section and variable names are case-insensitive; a subsection is not."""
    first, _, rest = key.partition(".")
    if not rest:
        return first.lower()
    middle, _, last = rest.rpartition(".")
    if not middle:
        return f"{first.lower()}.{rest.lower()}"
    return f"{first.lower()}.{middle}.{last.lower()}"


def _candidates(root: str, home: str) -> list[str]:
    """Files git reads when they exist, whether or not they exist now."""
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = [os.path.join(home, ".gitconfig"), os.path.join(xdg, "git", "config"),
             "/etc/gitconfig", os.path.join(root, ".git"), os.path.join(root, ".git", "config"),
             os.path.join(root, ".git", "config.worktree")]
    for key in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"):
        value = os.environ.get(key)
        if value:
            files.append(value)
    return files


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _ask_git(root: str, home: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Entries and the files they came from; empty when git cannot answer."""
    # subprocess costs the hook ~10 ms of imports, but this runs only when the config changed.
    import subprocess

    env = dict(os.environ)
    env["HOME"] = home
    env["GIT_TERMINAL_PROMPT"] = "0"
    try:
        proc = subprocess.run(["git", "-C", root, "config", "-z", "--list", "--show-origin"],
                              capture_output=True, env=env, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return [], []
    if proc.returncode != 0:
        return [], []
    fields = proc.stdout.decode("utf-8", "replace").split("\0")
    entries: list[tuple[str, str]] = []
    origins: list[str] = []
    # -z --show-origin: ORIGIN NUL KEY NEWLINE VALUE NUL (a key without value: KEY NUL).
    i = 0
    while i + 1 < len(fields):
        origin, item = fields[i], fields[i + 1]
        i += 2
        key, _, value = item.partition("\n")
        if origin.startswith("file:"):
            path = origin[5:]
            path = path if os.path.isabs(path) else os.path.join(root, path)
            if path not in origins:
                origins.append(path)
        entries.append((key, value))
    return entries, origins


def load(root: str, store: str | None, home: str) -> GitConfig:
    """git's configuration for a workspace, from the cache while nothing it came from changed."""
    env_key = tuple(os.environ.get(k) for k in _ENV_KEYS)
    cache_file = os.path.join(store, CACHE_NAME) if store else None
    if cache_file is not None:
        try:
            with open(cache_file, "rb") as fh:
                blob = marshal.loads(fh.read())
            version, c_root, c_home, c_env, stats, entries = blob
            if (version == _CACHE_VERSION and c_root == root and c_home == home and c_env == env_key
                    and all(_stat(p) == s for p, s in stats)):
                return GitConfig([(str(k), str(v)) for k, v in entries])
        except (OSError, EOFError, ValueError, TypeError):
            pass
    # Stat before asking: a change made while git runs then invalidates the cache next time.
    watched = _candidates(root, home)
    before = {p: _stat(p) for p in watched}
    entries, origins = _ask_git(root, home)
    if cache_file is not None and os.path.isdir(os.path.dirname(cache_file)):
        stats = [(p, before[p] if p in before else _stat(p)) for p in [*watched, *origins]]
        blob = (_CACHE_VERSION, root, home, env_key, stats, entries)
        from tether.fsutil import atomic_write

        try:
            atomic_write(cache_file, marshal.dumps(blob))
        except (OSError, ValueError):
            pass  # the cache only saves time; failing to write it must not fail the check
    return GitConfig(entries)
