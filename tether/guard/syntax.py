"""The shell's words and commands as the guard sees them, shared by both parsers.

:mod:`tether.guard.shell` (the fast tokenizer) and :mod:`tether.guard.walker`
(the tree-sitter walk) both produce these types; the analysers above read them.
A part of a word known only at run time is the marker ``UNKNOWN``. Nothing here
evaluates anything: the text is data.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 6
MAX_COMMANDS = 2000
# A for loop over literal values is unrolled when it has at most this many.
FOR_VALUES = 16
# Environment variables whose value the guard reads from its own environment.
_KNOWN_ENV = ("HOME", "TMPDIR", "USER", "LOGNAME")
# A stage of a pipeline keeps at most this many of the stages before it as its producers; with
# more, it is marked as fed by unknown commands (a 10,000-stage pipeline stays linear).
MAX_PRODUCERS = 64
# Marks the part of a word that is only known at run time.
UNKNOWN = "\x00"


class Word:
    """One shell word after expansion. ``text`` holds UNKNOWN where a part is only known at run time."""

    __slots__ = ("glob", "inner", "quoted", "raw", "text", "tilde")

    def __init__(self, text: str, raw: str, quoted: bool = False, glob: bool = False,
                 tilde: bool = False) -> None:
        self.text = text
        self.raw = raw
        self.quoted = quoted
        self.glob = glob
        self.tilde = tilde
        # Commands inside $(...) or <(...) in this word: what produced its value.
        self.inner: list[Simple] | None = None

    @property
    def dynamic(self) -> bool:
        return UNKNOWN in self.text

    def __repr__(self) -> str:
        return f"Word({self.text!r})"


class Redirect:
    __slots__ = ("fd", "op", "target", "text")

    def __init__(self, op: str, fd: str | None, target: Word | None, text: str | None = None) -> None:
        self.op = op
        self.fd = fd
        self.target = target
        self.text = text


class Simple:
    """One simple command as it will run."""

    __slots__ = ("argv", "assigns", "cwd", "function", "more_producers", "old_vars", "producers",
                 "redirects", "stdin", "vars")

    def __init__(self, argv: list[Word], cwd: str | None) -> None:
        self.argv = argv
        self.cwd = cwd
        self.assigns: list[tuple[str, Word]] = []
        self.redirects: list[Redirect] = []
        self.stdin: str | None = None
        self.producers: list[Simple] | None = None
        # True when more commands feed this one than `producers` holds.
        self.more_producers = False
        self.function = False
        self.vars: dict[str, str | None] = {}
        self.old_vars: dict[str, str | None] = {}

    def words(self) -> list[str]:
        return [w.text for w in self.argv]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"argv": [w.text.replace(UNKNOWN, "<?>") for w in self.argv],
                               "cwd": self.cwd}
        if self.assigns:
            out["env"] = {k: v.text.replace(UNKNOWN, "<?>") for k, v in self.assigns}
        if self.redirects:
            out["redirects"] = [
                {"op": r.op, "fd": r.fd,
                 "target": r.target.text.replace(UNKNOWN, "<?>") if r.target else None}
                for r in self.redirects]
        if self.stdin is not None:
            out["stdin"] = self.stdin[:200]
        if self.producers:
            out["stdin_from"] = [" ".join(p.words()).replace(UNKNOWN, "<?>")[:80]
                                 for p in self.producers[-5:]]
        return out


class Script:
    """The simple commands of a command line, and what could not be read."""

    __slots__ = ("commands", "fork_bomb", "problems")

    def __init__(self) -> None:
        self.commands: list[Simple] = []
        self.problems: list[str] = []
        self.fork_bomb = False


class ParseState:
    """What the walk knows at a point of the script: the working folder and variables.

    ``inner`` keeps, for a variable whose value came from a command substitution
    (``f=$(find ~ -name id_rsa)``), the commands that produced it, so that a later
    ``cat "$f"`` is judged by where its value comes from. ``patterns`` names the
    variables that stand for one match of a glob (``for d in */build``).
    """

    __slots__ = ("cwd", "inner", "patterns", "vars")

    def __init__(self, cwd: str | None, variables: dict[str, str | None]) -> None:
        self.cwd = cwd
        self.vars = variables
        self.inner: dict[str, list[Simple]] = {}
        self.patterns: set[str] = set()

    def copy(self) -> ParseState:
        st = ParseState(self.cwd, dict(self.vars))
        st.inner = dict(self.inner)
        st.patterns = set(self.patterns)
        return st

    def bind(self, name: str, value: str | None, inner: list[Simple] | None = None,
             pattern: bool = False) -> None:
        self.vars[name] = value
        if inner:
            self.inner[name] = inner
        else:
            self.inner.pop(name, None)
        if pattern:
            self.patterns.add(name)
        else:
            self.patterns.discard(name)


def env_value(name: str, st: ParseState, home: str) -> str | None:
    if name in st.vars:
        return st.vars[name]
    if name == "HOME":
        return home
    if name == "PWD":
        return st.cwd
    if name == "TMPDIR":
        # The convention ${TMPDIR:-/tmp}: an unset TMPDIR means the system temporary folder.
        return os.environ.get("TMPDIR") or "/tmp"
    if name in _KNOWN_ENV:
        return os.environ.get(name)
    return None


_C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
              "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def decode_ansi_c(body: str) -> str:
    """Decode the body of a $'...' string (escapes only; nothing is evaluated)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in _C_ESCAPES:
            out.append(_C_ESCAPES[n])
            i += 2
        elif n == "x":
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(body[i + 2:j], 16)) if j > i + 2 else "\\x")
            i = j
        elif n in "uU":
            width = 4 if n == "u" else 8
            j = i + 2
            while j < len(body) and j < i + 2 + width and body[j] in "0123456789abcdefABCDEF":
                j += 1
            try:
                out.append(chr(int(body[i + 2:j], 16)) if j > i + 2 else "\\" + n)
            except (ValueError, OverflowError):
                out.append(UNKNOWN)
            i = j
        elif n in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1:j], 8) & 0xFF))
            i = j
        elif n == "c" and i + 2 < len(body):
            out.append(chr(ord(body[i + 2]) & 0x1F))
            i += 3
        else:
            out.append("\\" + n)
            i += 2
    return "".join(out)


def track_cwd(name: str, argv: list[Word], cwd: str | None, home: str) -> str | None:
    """The working folder after a command (cd, pushd, popd); None when it cannot be known."""
    while name in ("builtin", "command") and len(argv) > 1:
        argv = argv[1:]
        name = argv[0].text
    if name in ("cd", "pushd", "chdir"):
        args = [w for w in argv[1:] if not (w.text.startswith("-") and w.text != "-")]
        if not args:
            return home if name == "cd" else None
        target = args[0]
        if target.dynamic or target.text == "-" or target.glob:
            return None
        path = target.text
        if path.startswith("~") and target.tilde:
            path = home + path[1:]
        if not path.startswith("/"):
            if cwd is None:
                return None
            path = cwd.rstrip("/") + "/" + path
        return os.path.normpath(path)
    if name == "popd":
        return None
    return cwd


def command_name(text: str) -> str:
    base = text.rsplit("/", 1)[-1] if "/" in text else text
    base = base.lower()
    if base.endswith(".exe"):
        base = base[:-4]
    return base


def feed(cmd: Simple, producers: list[Simple]) -> None:
    """Record that everything in ``producers`` (earlier stages of a pipeline) feeds ``cmd``.

    Everything earlier feeds a stage, directly or through the stages between
    (``curl x | tee f | sh`` runs what curl fetched). Only the nearest
    MAX_PRODUCERS are kept; ``more_producers`` says when there were more.
    """
    known = cmd.producers or []
    tail = producers[-MAX_PRODUCERS:]
    merged = [*tail, *(p for p in known if p not in tail)]
    cmd.more_producers = cmd.more_producers or len(producers) > MAX_PRODUCERS
    cmd.producers = merged


def expand_user(text: str, home: str) -> str:
    """Expand ``~`` and ``~user`` the way the shell does at the start of a word."""
    if not text.startswith("~"):
        return text
    head, sep, tail = text.partition("/")
    # Another user's home (~user): its exact place is not known, but it is outside the
    # workspace and beside ours, which is what the judgement needs.
    base = home if head == "~" else os.path.join(os.path.dirname(home.rstrip("/")) or "/", head[1:])
    return base + (sep + tail if sep else "")
