"""The analysis base: what a command is (:class:`Cmd`) and what it would do (:class:`Effect`).

Shared by the analyser, the source scanner and every command handler, and
importing nothing above the parsers and the wrapper table.
"""

from __future__ import annotations

from tether.guard.shell import split_words
from tether.guard.syntax import UNKNOWN, Simple, Word, command_name, decode_ansi_c, expand_user
from tether.guard.wrapping import program

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Variables whose value is a command line some program runs.
DANGEROUS_ENV = frozenset({"PAGER", "GIT_PAGER", "EDITOR", "VISUAL", "GIT_EDITOR", "LESSOPEN",
                            "LESSCLOSE", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_EXTERNAL_DIFF",
                            "BASH_ENV", "ENV", "PROMPT_COMMAND", "MANPAGER", "SYSTEMD_PAGER",
                            "GIT_ASKPASS", "SSH_ASKPASS", "CRASHPAGER", "SUDO_ASKPASS"})


class Effect:
    """One thing a tool call would do, the rule it falls under and that rule's decision."""

    __slots__ = ("decision", "reason", "risk", "rule", "target")

    def __init__(self, rule: str, risk: str, decision: str, reason: str, target: str | None) -> None:
        self.rule = rule
        self.risk = risk
        self.decision = decision
        self.reason = reason
        self.target = target

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "risk": self.risk, "decision": self.decision,
                "reason": self.reason, "target": self.target}


class Cmd:
    """A command about to be analysed: its words, where it runs, what feeds its input."""

    __slots__ = ("argv", "cwd", "depth", "name", "simple")

    def __init__(self, argv: list[Word], cwd: str | None, simple: Simple, depth: int) -> None:
        self.argv = argv
        self.cwd = cwd
        self.simple = simple
        self.depth = depth
        self.name = command_name(argv[0].text) if argv else ""

    @property
    def args(self) -> list[Word]:
        return self.argv[1:]

    def text(self) -> str:
        return " ".join(w.text for w in self.argv).replace(UNKNOWN, "?")

    def sub(self, argv: list[Word], cwd: str | None = None) -> Cmd:
        return Cmd(argv, self.cwd if cwd is None else cwd, self.simple, self.depth)


class Unit:
    """One simple command as task scope sees it: its text at each wrapper level."""

    __slots__ = ("readonly", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.readonly = True


def words(texts: list[str]) -> list[Word]:
    return [Word(t, t) for t in texts]


def static_stdin_words(c: Cmd, home: str) -> list[str] | None:
    text = static_stdin(c, home)
    if text is None:
        return None
    return split_words(text)


def static_stdin(c: Cmd, home: str) -> str | None:
    """The text on a command's standard input when it is known literally (echo/printf, heredoc)."""
    s = c.simple
    if s.stdin is not None:
        return s.stdin
    if not s.producers or s.more_producers:
        return None
    texts: list[str] = []
    for p in s.producers:
        printed = printed_text(p, home)
        if printed is None and p.argv and command_name(p.argv[0].text) in ("cat", "tee"):
            printed = p.stdin
        if printed is None:
            return None
        texts.append(printed)
    text = "\n".join(texts)
    return None if UNKNOWN in text else text


def printed_text(s: Simple, home: str) -> str | None:
    """What an echo or printf of known words prints (wrappers peeled), or None for anything else.

    ``echo ~`` prints the home folder: the shell expanded the tilde before echo ran.
    """
    argv = program([expand_user(w.text, home) if w.tilde else w.text for w in s.argv])
    if not argv:
        return None
    name = command_name(argv[0])
    args = argv[1:]
    if name == "echo":
        while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
            args = args[1:]
        return " ".join(args)
    if name == "printf":
        if args and args[0] == "--":
            args = args[1:]
        if not args:
            return ""
        fmt = decode_ansi_c(args[0])
        return (fmt.replace("%s", " ".join(args[1:])) if "%s" in fmt else
                fmt + (" " + " ".join(args[1:]) if args[1:] else ""))
    return None


SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "yash", "fish", "csh",
                    "tcsh", "elvish", "posh", "rbash", "pdksh", "oksh", "loksh", "nu", "xonsh"})
