"""The guard policy: the built-in default merged with a project's ``.tether/policy.toml``.

Loading is on the hook's hot path, so the merged and validated policy is cached
with ``marshal`` (a built-in module, far cheaper than importing ``tomllib``) in
the store folder, keyed by the size and modification time of both files. A
broken policy file raises :class:`PolicyError` naming the file, the line and the
key; callers fail closed.
"""

from __future__ import annotations

import marshal
import os
import stat

from tether.errors import PolicyError
from tether.guard.catalog import RULES
from tether.guard.globs import (
    Compiled,
    compile_path,
    literal_prefix,
    match_path,
    seg_match,
    text_match,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tether.guard.gitconfig import GitConfig

VERDICTS = ("allow", "ask", "deny")
RANK = {"allow": 0, "ask": 1, "deny": 2}
TOOL_VALUES = ("allow", "ask", "deny", "check", "auto")
OPS = ("read", "write", "delete")
CACHE_NAME = "guard-policy.cache"
_CACHE_VERSION = 4

DEFAULT_POLICY_FILE = os.path.join(os.path.dirname(__file__), "default_policy.toml")

_TOP_KEYS = {"version", "risks", "rules", "network", "git", "zones", "tools", "task", "paths", "sandbox",
             "command"}
_SECTION_KEYS = {
    "network": {"allow": "list", "send": "list"},
    "git": {"protected_branches": "list"},
    "zones": {"temp": "list", "system": "list"},
    "task": {"allow_commands": "list"},
}
# Sections of scalar settings: key -> the values it accepts.
_CHOICE_KEYS = {
    "sandbox": {"mode": ("required", "preferred", "off")},
}
_CLASS_KEYS = {"risk", "read", "write", "delete", "globs", "except", "locked"}
_COMMAND_KEYS = {"match", "decision", "reason", "id"}
_ELLIPSIS = "..."


class PathClass:
    """A named set of sensitive paths with a decision per kind of access."""

    __slots__ = ("_always", "_by_lit", "_by_tail", "_other_tail", "decisions", "excepts", "globs",
                 "locked", "name", "risk")

    def __init__(self, name: str, risk: str, decisions: dict[str, str], globs: list[Compiled],
                 excepts: list[Compiled], locked: bool) -> None:
        self.name = name
        self.risk = risk
        self.decisions = decisions
        self.globs = globs
        self.excepts = excepts
        self.locked = locked
        # An index of the patterns by what a path must hold for a full match to be worth
        # trying: a check looks at many paths, most match no class, and a long script must
        # stay linear and cheap. Every pattern is in exactly one bucket.
        self._by_tail: dict[str, list[Compiled]] = {}    # last segment is this literal
        self._other_tail: list[Compiled] = []            # last segment is a wildcard pattern
        self._by_lit: dict[str, list[Compiled]] = {}     # ends in **, holds this literal segment
        self._always: list[Compiled] = []                # nothing literal to look for
        for g in globs:
            segs = g[1]
            if segs and segs[-1][0] == "lit":
                self._by_tail.setdefault(segs[-1][1], []).append(g)
            elif segs and segs[-1][0] != "any":
                self._other_tail.append(g)
            else:
                lits = [text for kind, text in segs if kind == "lit"]
                if lits:
                    self._by_lit.setdefault(lits[-1], []).append(g)
                else:
                    self._always.append(g)

    def matches(self, abs_segments: list[str], rel_segments: list[str] | None) -> bool:
        last = abs_segments[-1] if abs_segments else ""
        candidates = [*self._by_tail.get(last, ()), *self._always]
        for g in self._other_tail:
            kind, text = g[1][-1]
            if seg_match(kind, text, last):
                candidates.append(g)
        if self._by_lit:
            for seg in abs_segments:
                found = self._by_lit.get(seg)
                if found:
                    candidates.extend(found)
        for g in candidates:
            if match_path(g, abs_segments, rel_segments):
                return not any(match_path(e, abs_segments, rel_segments) for e in self.excepts)
        return False

    def contains_match_under(self, abs_segments: list[str], rel_segments: list[str] | None) -> bool:
        """Whether a folder holds a path of this class, judged from the patterns' literal prefixes.

        Patterns that can match at any depth (``**/x``, bare names) are not
        considered: telling would need a walk of the folder.
        """
        for g in self.globs:
            anchor, segs = g
            if anchor == "name" or (segs and segs[0][0] == "any"):
                continue
            prefix = literal_prefix(g)
            base = abs_segments if anchor == "abs" else rel_segments
            if base is None or not prefix:
                continue
            if len(base) < len(prefix) and prefix[:len(base)] == base:
                return True
        return False


class CommandRule:
    __slots__ = ("decision", "id", "patterns", "reason")

    def __init__(self, rule_id: str, patterns: list[str], decision: str, reason: str) -> None:
        self.id = rule_id
        self.patterns = patterns
        self.decision = decision
        self.reason = reason

    def matches(self, text: str) -> bool:
        return any(text_match(p, text) for p in self.patterns)


class Policy:
    """The merged policy, ready to answer questions quickly."""

    __slots__ = ("_git", "allow_hosts", "class_risks", "classes", "commands", "data", "home",
                 "protected", "risks", "root", "rules", "sandbox_mode", "send_hosts", "source", "store",
                 "system_zones", "task_allow", "temp_zones", "tools_exact", "tools_globs")

    def __init__(self, data: dict[str, Any], root: str, home: str, source: str,
                 store: str | None, compiled: dict[str, Any] | None = None) -> None:
        self.data = data
        self.root = root
        self.home = home
        self.source = source
        self.store = store
        self._git: GitConfig | None = None
        self.risks: dict[str, str] = dict(data.get("risks", {}))
        self.rules: dict[str, str] = dict(data.get("rules", {}))
        self.allow_hosts: list[str] = [h.lower() for h in data.get("network", {}).get("allow", [])]
        self.send_hosts: list[str] = [h.lower() for h in data.get("network", {}).get("send", [])]
        self.protected: list[str] = list(data.get("git", {}).get("protected_branches", []))
        zones = data.get("zones", {})
        temp = [_expand(z, home) for z in zones.get("temp", [])]
        tmpdir = os.environ.get("TMPDIR")
        if tmpdir and os.path.isabs(tmpdir):
            temp.append(os.path.normpath(tmpdir))
        self.temp_zones = [z.rstrip("/") or "/" for z in temp]
        self.system_zones = [_expand(z, home).rstrip("/") or "/" for z in zones.get("system", [])]
        self.task_allow: list[str] = list(data.get("task", {}).get("allow_commands", []))
        # The agent's OS sandbox: "required" (Bash is denied while it is not on), "preferred"
        # (tether init turns it on where it can run) or "off".
        self.sandbox_mode: str = str(data.get("sandbox", {}).get("mode", "preferred"))
        tools: dict[str, str] = dict(data.get("tools", {}))
        self.tools_exact = {k: v for k, v in tools.items() if not _has_wild(k)}
        self.tools_globs = sorted(((k, v) for k, v in tools.items() if _has_wild(k)),
                                  key=lambda kv: -len(kv[0]))
        self.commands = [
            CommandRule(str(c.get("id") or f"command.{i + 1}"),
                        [c["match"]] if isinstance(c["match"], str) else list(c["match"]),
                        c["decision"], str(c.get("reason", "")))
            for i, c in enumerate(data.get("command", []))
        ]
        if compiled is None:
            compiled = compile_classes(data, home, store)
        self.classes: list[PathClass] = []
        for name, spec in data.get("paths", {}).items():
            write = spec.get("write", "allow")
            decisions = {"read": spec.get("read", "allow"), "write": write,
                         "delete": spec.get("delete", write)}
            globs, excepts = compiled[name]
            self.classes.append(PathClass(name, spec.get("risk", "sensitive"), decisions,
                                          list(globs), list(excepts),
                                          bool(spec.get("locked", False))))
        self.class_risks = {c.name: c.risk for c in self.classes}


    @property
    def git(self) -> GitConfig:
        """git's configuration for the workspace, read on first use (most calls never need it)."""
        if self._git is None:
            from tether.guard import gitconfig

            self._git = gitconfig.load(self.root, self.store, self.home)
        return self._git

    def decide(self, rule: str, risk: str) -> str:
        """The decision for a rule id: [rules] first, else the risk class's default."""
        d = self.rules.get(rule)
        if d is not None:
            return d
        return self.risks.get(risk, "ask")

    def tool_rule(self, name: str) -> str:
        exact = self.tools_exact.get(name)
        if exact is not None:
            return exact
        for pattern, value in self.tools_globs:
            if text_match(pattern, name):
                return value
        return "ask"

    def host_allowed(self, host: str, send: bool = False) -> bool:
        """Whether ``host`` is on the allowlist: [network] send for sending, allow otherwise."""
        host = host.lower().rstrip(".")
        for h in (self.send_hosts if send else self.allow_hosts):
            if h == host:
                return True
            if h.startswith("*.") and (host.endswith(h[1:]) or host == h[2:]):
                return True
        return False

    def branch_protected(self, branch: str) -> bool:
        if branch.startswith("refs/heads/"):
            branch = branch[11:]
        return any(text_match(p, branch) for p in self.protected)


def compile_classes(data: dict[str, Any], home: str, store: str | None) -> dict[str, Any]:
    """Compiled globs of every path class (the store folder joins the class 'tether')."""
    out: dict[str, Any] = {}
    for name, spec in data.get("paths", {}).items():
        globs = list(spec.get("globs", []))
        if name == "tether" and store:
            globs += [store, store.rstrip("/") + "/**"]
        out[name] = (tuple(compile_path(g, home) for g in globs),
                     tuple(compile_path(g, home) for g in spec.get("except", [])))
    return out


def _has_wild(s: str) -> bool:
    return "*" in s or "?" in s or "[" in s


def _expand(path: str, home: str) -> str:
    if path == "~" or path.startswith("~/"):
        return home.rstrip("/") + path[1:]
    return path


# ---------------------------------------------------------------------------
# Reading, merging and validating


def _read_toml(path: str) -> tuple[dict[str, Any], str]:
    import tomllib

    try:
        # O_NONBLOCK: a FIFO planted as the policy file must not hang the guard.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise PolicyError(f"{path}: the policy file is not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as fh:
                raw = fh.read()
        finally:
            os.close(fd)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: the policy file is not UTF-8 text") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        line = ""
        marker = "(at line "
        if marker in msg:
            line = msg[msg.index(marker) + len(marker):].split(",")[0].rstrip(")")
            msg = msg[:msg.index(marker)].strip()
        where = f"{path}:{line}" if line else path
        raise PolicyError(f"{where}: invalid TOML: {msg}") from exc


def find_line(text: str, table: list[str], key: str | None) -> int | None:
    """The line (1-based) where ``key`` is set inside ``[table]``, for error messages."""
    want = ".".join(table)
    current = ""
    first_hit: int | None = None
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            current = s.strip("[]").strip().replace('"', "").replace("'", "").replace(" ", "")
            if key is None and current == want:
                return no
            continue
        if key is None or "=" not in s:
            continue
        k = s.split("=", 1)[0].strip().strip('"').strip("'")
        full = f"{current}.{k}" if current else k
        if full == f"{want}.{key}" if want else k == key:
            return no
        if k == key and first_hit is None:
            first_hit = no
    return first_hit


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    if isinstance(over, list) and isinstance(base, list):
        if _ELLIPSIS in over:
            merged: list[Any] = []
            for item in over:
                if item == _ELLIPSIS:
                    merged.extend(x for x in base if x not in merged)
                elif item not in merged:
                    merged.append(item)
            return merged
        return list(over)
    return over


class _Checker:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, table: list[str], key: str | None, problem: str) -> None:
        line = find_line(self.text, table, key) if self.text else None
        dotted = ".".join([*table, key] if key else table) or "(top level)"
        where = f"{self.path}:{line}" if line else self.path
        raise PolicyError(f"{where}: {dotted}: {problem}")

    def verdict(self, table: list[str], key: str, value: Any, allowed: tuple[str, ...] = VERDICTS) -> None:
        if not isinstance(value, str) or value not in allowed:
            self.fail(table, key, f"must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")

    def str_list(self, table: list[str], key: str, value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(table, key, "must be a list of strings")

    def check(self, data: dict[str, Any], user: bool) -> None:
        for key in data:
            if key not in _TOP_KEYS:
                self.fail([], key, f"unknown key (expected one of: {', '.join(sorted(_TOP_KEYS))})")
        if "version" in data and data["version"] != 1:
            self.fail([], "version", "only version 1 is understood")
        for section in ("risks", "rules", "tools"):
            if section in data and not isinstance(data[section], dict):
                self.fail([], section, "must be a table")
        for k, v in data.get("risks", {}).items():
            self.verdict(["risks"], k, v)
        for k, v in data.get("rules", {}).items():
            if k not in RULES and not k.startswith("path."):
                self.fail(["rules"], k, "unknown rule id (see docs/policy.md for the list)")
            if user and k.startswith("path.tether."):
                self.fail(["rules"], k, "the class 'tether' is locked: tether's own files stay protected")
            self.verdict(["rules"], k, v)
        for k, v in data.get("tools", {}).items():
            self.verdict(["tools"], k, v, TOOL_VALUES)
        for section, keys in _SECTION_KEYS.items():
            if section not in data:
                continue
            if not isinstance(data[section], dict):
                self.fail([], section, "must be a table")
            for k, v in data[section].items():
                if k not in keys:
                    self.fail([section], k, f"unknown key (expected one of: {', '.join(sorted(keys))})")
                self.str_list([section], k, v)
            if section == "zones":
                for k, v in data[section].items():
                    for z in v:
                        if z != _ELLIPSIS and not (z.startswith("/") or z.startswith("~/")):
                            self.fail([section], k, f"{z!r} must be an absolute path or start with ~/")
        for section, choices in _CHOICE_KEYS.items():
            if section not in data:
                continue
            if not isinstance(data[section], dict):
                self.fail([], section, "must be a table")
            for k, v in data[section].items():
                if k not in choices:
                    self.fail([section], k, f"unknown key (expected one of: {', '.join(sorted(choices))})")
                self.verdict([section], k, v, choices[k])
        paths = data.get("paths", {})
        if not isinstance(paths, dict):
            self.fail([], "paths", "must be a table of path classes")
        for name, spec in paths.items():
            if user and name == "tether":
                self.fail(["paths"], "tether", "the class 'tether' is locked: tether's own files "
                          "stay protected; add a class with another name for more paths")
            if not isinstance(spec, dict):
                self.fail(["paths"], name, "must be a table")
            for k, v in spec.items():
                if k not in _CLASS_KEYS:
                    self.fail(["paths", name], k, f"unknown key (expected one of: {', '.join(sorted(_CLASS_KEYS))})")
                if k in OPS:
                    self.verdict(["paths", name], k, v)
                elif k in ("globs", "except"):
                    self.str_list(["paths", name], k, v)
                elif k == "locked":
                    if not isinstance(v, bool):
                        self.fail(["paths", name], k, "must be true or false")
                    if user and v:
                        self.fail(["paths", name], k, "only the built-in class 'tether' is locked")
                elif k == "risk" and not isinstance(v, str):
                    self.fail(["paths", name], k, "must be a string")
        commands = data.get("command", [])
        if not isinstance(commands, list):
            self.fail([], "command", "must be an array of tables ([[command]])")
        for i, c in enumerate(commands):
            table = ["command"]
            if not isinstance(c, dict):
                self.fail(table, None, f"entry {i + 1} must be a table")
            for k in c:
                if k not in _COMMAND_KEYS:
                    self.fail(table, k, f"unknown key in entry {i + 1} (expected one of: {', '.join(sorted(_COMMAND_KEYS))})")
            m = c.get("match")
            if isinstance(m, str) or (isinstance(m, list) and m and all(isinstance(x, str) for x in m)):
                pass
            else:
                self.fail(table, "match", f"entry {i + 1} needs match = \"PATTERN\" or a list of patterns")
            self.verdict(table, "decision", c.get("decision"))
            for k in ("reason", "id"):
                if k in c and not isinstance(c[k], str):
                    self.fail(table, k, f"entry {i + 1}: must be a string")


def validate_file(path: str) -> dict[str, Any]:
    """Parse and validate one policy file on its own; returns its data or raises PolicyError."""
    data, text = _read_toml(path)
    _Checker(path, text).check(data, user=True)
    return data


def _load_merged(user_path: str) -> tuple[dict[str, Any], str]:
    base, btext = _read_toml(DEFAULT_POLICY_FILE)
    _Checker(DEFAULT_POLICY_FILE, btext).check(base, user=False)
    if not os.path.exists(user_path):
        return base, "<built-in default>"
    user, utext = _read_toml(user_path)
    _Checker(user_path, utext).check(user, user=True)
    commands = list(user.get("command", [])) + list(base.get("command", []))
    merged = _merge(base, {k: v for k, v in user.items() if k != "command"})
    merged["command"] = commands
    return merged, user_path


def _stat_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def load(root: str, store: str | None = None, home: str | None = None,
         use_cache: bool = True) -> Policy:
    """The policy for a workspace root; the built-in default when it has no policy file."""
    from tether.workspace import policy_path

    home = home or os.path.expanduser("~")
    user_path = policy_path(root)
    key = (_CACHE_VERSION, _stat_key(DEFAULT_POLICY_FILE), _stat_key(user_path), user_path, home,
           store)
    cache_file = os.path.join(store, CACHE_NAME) if store else None
    if use_cache and cache_file:
        cached = _read_cache(cache_file, key)
        if cached is not None:
            data, source, compiled = cached
            return Policy(data, root, home, source, store, compiled)
    data, source = _load_merged(user_path)
    compiled = compile_classes(data, home, store)
    if use_cache and cache_file:
        _write_cache(cache_file, key, data, source, compiled)
    return Policy(data, root, home, source, store, compiled)


def _read_cache(cache_file: str, key: tuple[Any, ...]) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    try:
        with open(cache_file, "rb") as fh:
            # loads() on the whole file: load() on a file object reads it in tiny pieces.
            blob = marshal.loads(fh.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(blob, tuple) or len(blob) != 4 or blob[0] != key:
        return None
    data, source, compiled = blob[1], blob[2], blob[3]
    if not isinstance(data, dict) or not isinstance(source, str) or not isinstance(compiled, dict):
        return None
    return data, source, compiled


def _write_cache(cache_file: str, key: tuple[Any, ...], data: dict[str, Any], source: str,
                 compiled: dict[str, Any]) -> None:
    folder = os.path.dirname(cache_file)
    if not os.path.isdir(folder):
        return
    from tether.fsutil import atomic_write

    try:
        atomic_write(cache_file, marshal.dumps((key, data, source, compiled)))
    except (OSError, ValueError):
        # The cache only saves time; failing to write it must not fail the check.
        # (contextlib.suppress would cost the hook 4 ms of imports.)
        pass


# ---------------------------------------------------------------------------
# Showing


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v).__name__)


def _toml_key(k: str) -> str:
    if k and all(c.isalnum() or c in "-_" for c in k):
        return k
    return _toml_value(k)


def to_toml(data: dict[str, Any]) -> str:
    """Render merged policy data as TOML (for ``tether policy show``)."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and k != "command"}
    for k, v in scalars.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")

    def table(prefix: str, t: dict[str, Any]) -> None:
        plain = {k: v for k, v in t.items() if not isinstance(v, dict)}
        nested = {k: v for k, v in t.items() if isinstance(v, dict)}
        if plain or not nested:
            lines.append("")
            lines.append(f"[{prefix}]")
            for k, v in plain.items():
                lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in nested.items():
            table(f"{prefix}.{_toml_key(k)}", v)

    for k, v in data.items():
        if isinstance(v, dict):
            table(_toml_key(k), v)
    for c in data.get("command", []):
        lines.append("")
        lines.append("[[command]]")
        for k, v in c.items():
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    return "\n".join(lines).lstrip("\n") + "\n"


