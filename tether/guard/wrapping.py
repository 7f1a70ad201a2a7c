"""The one table of wrappers: programs whose job is to run the rest of their command line.

``sudo -u root rm -rf /``, ``timeout 5 curl x``, ``nice -n 10 make``, ``uv run pytest``:
the guard judges the command inside. Two readers use this table and must agree:
the wrapper handlers (:mod:`tether.guard.commands.wrappers`), which analyse the
inner command, and :func:`program`, which answers "what does this pipeline stage
really run?" for the source checks (``curl x | sudo bash``).
"""

from __future__ import annotations

from tether.guard.syntax import command_name


class Wrapper:
    """How a wrapper's own options are read before the command it runs."""

    __slots__ = ("long", "short", "skip")

    def __init__(self, short: str = "", long: frozenset[str] = frozenset(), skip: int = 0) -> None:
        self.short = short    # short options that take a value
        self.long = long      # long options that take a value
        self.skip = skip      # positional words between the options and the command


_W = Wrapper
WRAPPERS: dict[str, Wrapper] = {
    # Handled by their own handlers (they have more to say), peeled the same way.
    "sudo": _W("ugpCDhrtUTRc", frozenset({"user", "group", "prompt", "chdir", "host", "role",
                                           "type", "close-from", "command-timeout", "other-user"})),
    "doas": _W("uC"),
    "env": _W("uCPS", frozenset({"unset", "chdir", "split-string", "default-signal",
                                 "ignore-signal", "block-signal"})),
    "command": _W(),
    "timeout": _W("sk", frozenset({"signal", "kill-after"}), skip=1),
    "gtimeout": _W("sk", frozenset({"signal", "kill-after"}), skip=1),
    "time": _W("fo", frozenset({"format", "output"})),
    "chrt": _W("T", skip=1),
    "taskset": _W(skip=1),
    "busybox": _W(),
    "toybox": _W(),
    # Simple wrappers: nothing to judge but their options.
    "nohup": _W(),
    "builtin": _W(),
    "exec": _W("a"),
    "nice": _W("n", frozenset({"adjustment"})),
    "ionice": _W("cnp", frozenset({"class", "classdata", "pid", "pgid", "uid"})),
    "stdbuf": _W("ioe", frozenset({"input", "output", "error"})),
    "setsid": _W(),
    "unbuffer": _W(),
    "caffeinate": _W("t"),
    "catchsegv": _W(),
    "chronic": _W(),
    "dbus-run-session": _W("", frozenset({"config-file"})),
    "xvfb-run": _W("npsfe", frozenset({"server-num", "server-args", "auth-file", "error-file",
                                       "xauth-protocol"})),
    "proxychains": _W("f"),
    "proxychains4": _W("f"),
    "torsocks": _W(),
    "firejail": _W(),
    "valgrind": _W(),
    # faketime TIMESTAMP CMD: the first word is the time, not the program.
    "faketime": _W("", skip=1),
    "cpulimit": _W("lp", frozenset({"limit", "pid"})),
    "tsp": _W(),
    "grc": _W("c"),
    "aoss": _W(),
    "choom": _W("np"),
    "multitime": _W("n"),
    # logsave LOGFILE CMD
    "logsave": _W("", skip=1),
    "entr": _W(),
    "rlwrap": _W("aflpsS", frozenset({"logfile"})),
    "chpst": _W("ugUenlmdofcprt"),
}

# Tools that run a project command: `uv run pytest`, `poetry run x`, `bundle exec rake`.
# name -> the verbs after which the rest of the line is the command ("" = no verb).
RUNNERS: dict[str, tuple[str, ...]] = {
    "uv": ("run",), "poetry": ("run",), "pipenv": ("run",), "pdm": ("run",), "hatch": ("run",),
    "rye": ("run",), "conda": ("run",), "mamba": ("run",), "micromamba": ("run",),
    "bundle": ("exec",), "npm": ("exec",), "pnpm": ("exec", "dlx"), "yarn": ("exec", "dlx"),
    "bun": ("x", "run"), "npx": ("",), "bunx": ("",), "pnpx": ("",), "cabal": ("exec",),
    "stack": ("exec",), "opam": ("exec",), "nix": ("run", "shell"), "direnv": ("exec",),
    "dotenv": ("run",), "uvx": ("",), "pipx": ("run",),
}


def program(argv: list[str]) -> list[str]:
    """The command a stage runs once wrappers (sudo -u root, env X=1, timeout 5, ...) are peeled."""
    for _ in range(8):
        if not argv:
            return argv
        name = command_name(argv[0])
        if name in RUNNERS:
            verbs = RUNNERS[name]
            rest = argv[1:]
            while rest and rest[0].startswith("-"):
                rest = rest[1:]
            if verbs == ("",):
                argv = rest
                continue
            if rest and rest[0] in verbs:
                rest = rest[1:]
                while rest and rest[0].startswith("-"):
                    rest = rest[1:]
                argv = rest
                continue
            return argv
        w = WRAPPERS.get(name)
        if w is None:
            return argv
        i = 1
        while i < len(argv):
            a = argv[i]
            if a == "--":
                i += 1
                break
            if a.startswith("--"):
                i += 2 if ("=" not in a and a[2:] in w.long) else 1
            elif a.startswith("-") and len(a) > 1:
                i += 2 if (len(a) == 2 and a[1] in w.short) else 1
            elif name == "env" and "=" in a:
                i += 1
            else:
                break
        argv = argv[i + w.skip:]
    return argv
