"""Wrappers: programs that run another command (sudo, env, timeout, xargs, parallel, eval, ...).

The wrapper's own options are parsed away and the command it runs is analysed
in its place, with what the wrapper adds: sudo is a privilege change, env -C
and sudo -D change the working folder, xargs and parallel append or substitute
their input (known when it comes from echo or printf), eval and watch run text
as shell.
"""

from __future__ import annotations

from tether.guard import opts
from tether.guard.base import DANGEROUS_ENV, Cmd, static_stdin, static_stdin_words, words
from tether.guard.shell import split_words
from tether.guard.source import judge_program_source, judge_stdin_program
from tether.guard.syntax import UNKNOWN, Simple, Word
from tether.guard.wrapping import RUNNERS, WRAPPERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.analysis import Analyzer


def h_xargs(a: Analyzer, c: Cmd) -> None:
    args = c.args
    i = 0
    replace: str | None = None
    lines = False
    delimiter: str | None = None  # -0 / -d: items are split on this, spaces kept
    arg_file: Word | None = None
    with_value = {"-a", "--arg-file", "-d", "--delimiter", "-E", "-I", "-L", "-n", "--max-args",
                  "-P", "--max-procs", "-s", "--max-chars", "--process-slot-var", "-J", "-R"}
    while i < len(args):
        t = args[i].text
        if t == "--":
            i += 1
            break
        if not t.startswith("-") or t == "-":
            break
        name, eq, val = t.partition("=")
        if t in with_value and i + 1 < len(args):
            if t in ("-I", "-J"):
                replace = args[i + 1].text
            if t in ("-a", "--arg-file"):
                arg_file = args[i + 1]
            if t == "-L":
                lines = True
            if t in ("-d", "--delimiter"):
                delimiter = _unescape(args[i + 1].text)
            i += 2
            continue
        if t in ("-0", "--null"):
            delimiter = "\0"
            i += 1
            continue
        if name == "--delimiter" and eq:
            delimiter = _unescape(val)
            i += 1
            continue
        if t.startswith("-d") and len(t) > 2:
            delimiter = _unescape(t[2:])
            i += 1
            continue
        if name in ("--replace", "-i") or t.startswith("-i"):
            replace = (val if eq else t[2:] if t.startswith("-i") and len(t) > 2 else "") or "{}"
        elif t.startswith(("-I", "-J")) and len(t) > 2:
            replace = t[2:]
        elif name in ("--arg-file",) and eq:
            arg_file = Word(val, args[i].raw)
        elif t.startswith("-a") and len(t) > 2:
            arg_file = Word(t[2:], args[i].raw)
        elif t.startswith(("-L", "-l", "--max-lines")):
            lines = True
        i += 1
    inner = list(args[i:]) or [Word("echo", "echo")]
    if arg_file is not None:
        a.path("read", arg_file, c.cwd, via="xargs -a")
    text = static_stdin(c, a.home) if arg_file is None else None
    if replace:
        # With -I each input line is one argument, spaces included.
        items = [ln.strip() for ln in text.splitlines() if ln.strip()] if text is not None else [UNKNOWN]
        uses = any(replace in w.text for w in inner)
        for item in items[:8]:
            argv = [Word(w.text.replace(replace, item), w.raw, w.quoted, w.glob) for w in inner]
            a.argv(c.sub(argv))
            if not uses:
                break
    else:
        if text is None:
            extra = [UNKNOWN]
        elif delimiter:
            # With -0 or -d an item keeps its spaces: `printf 'rm -rf /' | xargs -0 sh -c` is one argument.
            extra = [x.rstrip("\n") for x in text.split(delimiter) if x.strip()]
        elif lines:
            extra = [ln.strip() for ln in text.splitlines() if ln.strip()]
        else:
            extra = split_words(text)
        a.argv(c.sub(inner + [Word(x, x) for x in extra[:64]]))


def _unescape(delim: str) -> str:
    """xargs -d takes C escapes: '\\n', '\\t', '\\0', '\\x1f'."""
    simple = {"\\n": "\n", "\\t": "\t", "\\0": "\0", "\\r": "\r", "\\\\": "\\"}
    if delim in simple:
        return simple[delim]
    if delim.startswith("\\x") and len(delim) == 4:
        try:
            return chr(int(delim[2:], 16))
        except ValueError:
            return delim
    return delim[:1] or "\n"


def h_parallel(a: Analyzer, c: Cmd) -> None:
    args = c.args
    groups: list[list[str]] = []
    template: list[Word] = []
    i = 0
    with_val = {"-j", "--jobs", "-S", "--sshlogin", "--results", "--res", "-N", "-n", "--max-args",
                "-a", "--arg-file", "-d", "--delimiter", "-I", "--colsep", "-C", "--tmpdir",
                "--joblog", "--env", "--workdir", "--wd", "--timeout", "--delay", "-P",
                "--max-procs", "--basefile", "--bf", "--return", "--sshloginfile", "--slf", "-L",
                "--max-lines", "--memfree", "--load", "-l", "--retries", "--transfer-file",
                "--tf", "--halt", "--tag-string", "--tagstring", "-E", "--eof"}
    hosts: list[str] = []
    while i < len(args) and args[i].text.startswith("-") and args[i].text not in (":::", "::::"):
        t = args[i].text
        if t in ("-S", "--sshlogin") and i + 1 < len(args):
            hosts.append(args[i + 1].text)
        if t.startswith("-S") and len(t) > 2:
            hosts.append(t[2:])
        if t in with_val:
            i += 2
        else:
            i += 1
    while i < len(args) and args[i].text not in (":::", "::::", ":::+"):
        template.append(args[i])
        i += 1
    while i < len(args):
        if args[i].text in (":::", ":::+", "::::"):
            groups.append([])
        elif groups:
            groups[-1].append(args[i].text)
        i += 1
    for h in hosts:

        a.contact(h.split("@")[-1], "shell", "parallel --sshlogin")
    if not groups:
        values = static_stdin_words(c, a.home)
        groups = [values if values is not None else [UNKNOWN]]
    combos: list[list[str]] = [[]]
    for g in groups:
        combos = [[*x, v] for x in combos for v in (g or [""])][:16]
    for combo in combos:
        if not template:
            for v in combo:
                a.nested(v, c.cwd, c.depth, "parallel")
            continue
        uses = any("{" in w.text for w in template)
        argv: list[Word] = []
        for w in template:
            t = w.text
            for k, v in enumerate(combo, 1):
                t = t.replace(f"{{{k}}}", v)
            t = t.replace("{}", " ".join(combo)) if "{}" in t else t
            argv.append(Word(t, w.raw, w.quoted, w.glob))
        if not uses:
            argv += [Word(v, v) for v in combo]
        a.argv(c.sub(argv))


def h_simple_wrapper(a: Analyzer, c: Cmd) -> None:
    w = WRAPPERS[c.name]
    p = opts.parse(c.args, short_val=w.short, long_val=w.long, stop=True)
    for values in p.values.values():
        for v in values:
            a.generic_word(v, c, unknown=True)
    logfile = p.value("l", "logfile") if c.name == "rlwrap" else None
    if logfile is not None:
        a.path("write", logfile, c.cwd, via="rlwrap -l")
    if c.name == "exec" and not p.rest:
        return
    rest = p.rest
    if c.name == "logsave" and rest:
        a.path("write", rest[0], c.cwd, via="logsave")
    a.argv(c.sub(rest[w.skip:]))


def h_sudo(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="ugpCDhrtUTRc", long_val=frozenset({
        "user", "group", "prompt", "close-from", "chdir", "host", "role", "type", "other-user",
        "command-timeout", "chroot"}), stop=True)
    interactive = p.has("i", "login", "s", "shell", "e", "edit")
    if not p.rest and not interactive:
        return
    a.add("priv.sudo", f"{c.name} runs the command as another user (root by default); run it "
          "without elevated rights, or ask the user to", c.name)
    if c.name == "sudoedit" or p.has("e", "edit"):
        for w in p.rest:
            a.path("write", w, c.cwd, via=c.name)
        return
    cwd = c.cwd
    chdir = p.value("D", "chdir")
    if chdir is not None:
        cwd = a.resolve(chdir, c.cwd)
    if p.rest:
        if p.has("s", "shell", "i", "login") and len(p.rest) >= 1:
            a.nested(" ".join(w.text for w in p.rest), cwd, c.depth, c.name)
        else:
            a.argv(c.sub(p.rest, cwd) if cwd is not None else Cmd(p.rest, None, c.simple, c.depth))


def h_su(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="cgGs", long_val=frozenset({"command", "group", "shell",
                                                                 "session-command", "supp-group"}))
    a.add("priv.sudo", f"{c.name} runs commands as another user; run it without elevated rights, "
          "or ask the user to", c.name)
    for v in p.all_values("c", "command", "session-command"):
        a.nested(v.text, c.cwd, c.depth, c.name)


def h_runuser(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="ugGcsw", long_val=frozenset({"user", "group", "command",
                                                                    "shell", "supp-group"}), stop=True)
    a.add("priv.sudo", f"{c.name} runs commands as another user", c.name)
    for v in p.all_values("c", "command"):
        a.nested(v.text, c.cwd, c.depth, c.name)
    rest = p.rest[1:] if c.name == "sg" and p.rest else p.rest
    if rest and c.name == "runuser":
        rest = rest[1:] if not p.value("u", "user") else rest
    if rest:
        a.argv(c.sub(rest))


def h_doas(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="uC", stop=True)
    a.add("priv.sudo", f"{c.name} runs the command as another user; run it without elevated rights",
          c.name)
    if p.rest:
        a.argv(c.sub(p.rest))


def h_env(a: Analyzer, c: Cmd) -> None:
    args = list(c.args)
    cwd = c.cwd
    i = 0
    split: list[Word] = []
    assigns: list[tuple[str, Word]] = []
    while i < len(args):
        t = args[i].text
        if t == "--":
            i += 1
            break
        if t in ("-i", "-", "--ignore-environment", "-0", "--null", "-v", "--debug"):
            i += 1
        elif t in ("-u", "--unset", "-C", "--chdir", "-P", "-S", "--split-string"):
            if t in ("-C", "--chdir") and i + 1 < len(args):
                cwd = a.resolve(args[i + 1], cwd)
            if t in ("-S", "--split-string") and i + 1 < len(args):
                split = words(split_words(args[i + 1].text))
            i += 2
        elif t.startswith(("--unset=", "--chdir=", "--split-string=", "--argv0=",
                           "--default-signal", "--ignore-signal", "--block-signal")):
            if t.startswith("--chdir="):
                cwd = a.resolve(t[8:], cwd)
            if t.startswith("--split-string="):
                split = words(split_words(t[15:]))
            i += 1
        elif t.startswith("-") and len(t) > 2 and t[1] in "uCPS":
            if t[1] == "C":
                cwd = a.resolve(t[2:], cwd)
            if t[1] == "S":
                split = words(split_words(t[2:]))
            i += 1
        elif "=" in t and not t.startswith("="):
            name, _, _value = t.partition("=")
            value = Word(t.split("=", 1)[1], args[i].raw)
            assigns.append((name, value))
            if name in DANGEROUS_ENV or name == "LD_PRELOAD":
                a.env_program(name, value, c.simple, c.depth)
            i += 1
        else:
            break
    if split:
        h_env(a, Cmd([Word("env", "env"), *split, *args[i:]], cwd,
                     _with_assigns(c.simple, assigns), c.depth))
        return
    rest = args[i:]
    if not rest:
        a.add("secrets.env-dump", "env prints every environment variable, tokens and keys "
              "included; print only the variable you need (printenv NAME)")
        return
    a.argv(Cmd(rest, cwd, _with_assigns(c.simple, assigns), c.depth))


def _with_assigns(s: Simple, assigns: list[tuple[str, Word]]) -> Simple:
    """The command as the program env runs sees it: env's NAME=value words are its variables
    (GIT_PAGER=..., GIT_CONFIG_KEY_0=... are judged by the program's handler)."""
    if not assigns:
        return s
    copy = Simple(s.argv, s.cwd)
    for slot in Simple.__slots__:
        setattr(copy, slot, getattr(s, slot))
    copy.assigns = [*s.assigns, *assigns]
    return copy


def h_command(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, stop=True)
    if not p.rest:
        return
    if p.has("v", "V"):
        # A lookup only; but a lookup carrying a whole command line is checked as one too,
        # rather than trusting one letter of the flags.
        if len(p.rest) > 1:
            a.argv(c.sub(p.rest))
        return
    a.argv(c.sub(p.rest))


def h_timeout(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="sk", long_val=frozenset({"signal", "kill-after"}), stop=True)
    rest = p.rest[1:] if p.rest else []
    a.argv(c.sub(rest))


def h_time(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="fo", long_val=frozenset({"format", "output"}), stop=True)
    out = p.value("o", "output")
    if out is not None:
        a.path("write", out, c.cwd, via="time -o")
    a.argv(c.sub(p.rest))


def h_chrt_taskset(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="T" if c.name == "chrt" else "", stop=True)
    if p.has("p", "pid"):
        return
    rest = p.rest[1:] if p.rest else []
    a.argv(c.sub(rest))


def h_flock(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="wEc", long_val=frozenset({"timeout", "wait", "conflict-exit-code",
                                                                 "command"}), stop=True)
    for v in p.all_values("c", "command"):
        a.nested(v.text, c.cwd, c.depth, "flock -c")
    rest = p.rest[1:] if p.rest else []
    if rest:
        a.argv(c.sub(rest))


def h_watch(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="nqd", long_val=frozenset({"interval", "differences"}),
                   stop=True, optional_long=frozenset({"differences"}))
    if p.has("x", "exec"):
        a.argv(c.sub(p.rest))
    elif p.rest:
        a.nested(" ".join(w.text for w in p.rest), c.cwd, c.depth, "watch")


def h_trace(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="abeEIoOpPsSuUX", long_val=frozenset({"output", "trace",
                                                                           "signal", "attach"}),
                   stop=True)
    out = p.value("o", "output")
    if out is not None:
        a.path("write", out, c.cwd, via=f"{c.name} -o")
    if p.value("p", "attach") is not None:
        a.add("exec.dynamic", f"{c.name} -p attaches to a running process and can read its memory",
              None)
    if p.rest:
        a.argv(c.sub(p.rest))


def h_script(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="cEIOBTtm", long_val=frozenset({"command", "log-in", "log-out",
                                                                       "log-io", "log-timing"}))
    for v in p.all_values("c", "command"):
        a.nested(v.text, c.cwd, c.depth, "script -c")
    for w in [*p.operands, *p.all_values("O", "I", "B", "log-out", "log-in", "log-io")]:
        a.path("write", w, c.cwd, via="script")


def h_runner(a: Analyzer, c: Cmd) -> None:
    """`uv run pytest`, `bundle exec rspec`: the rest of the line is the command."""
    verbs = RUNNERS.get(c.name, ())
    args = c.args
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        i += 1
    if verbs == ("",):
        p = opts.parse(args, short_val="pc", long_val=frozenset({"package", "call"}), stop=True)
        for v in p.all_values("c", "call"):
            a.nested(v.text, c.cwd, c.depth, f"{c.name} -c")
        # npx, bunx, uvx fetch the package they run: the package managers' handler judges where
        # it comes from and then analyses the command.
        if not a.dispatch("npm", c) and p.rest:
            a.argv(c.sub(p.rest))
        return
    if i < len(args) and args[i].text in verbs:
        if c.name == "uv":
            a.dispatch("pip", c)  # `uv run --with PKG`: packages from outside the project
        rest = args[i + 1:]
        p = opts.parse(rest, short_val="npe" if c.name in ("conda", "mamba", "micromamba") else "",
                       long_val=frozenset({"name", "prefix", "with", "python", "env", "package",
                                           "directory", "project", "group", "extra"}), stop=True)
        if p.rest:
            if p.rest[0].text == "--":
                p.rest = p.rest[1:]
            a.argv(c.sub(p.rest))
        return
    a.dispatch("pip", c)  # `uv add`, `poetry add`: a package manager's own verbs


def h_busybox(a: Analyzer, c: Cmd) -> None:
    if c.args:
        a.argv(c.sub(c.args))


def h_eval(a: Analyzer, c: Cmd) -> None:
    text = " ".join(w.text for w in c.args)
    for w in c.args:
        if w.dynamic:
            # eval "$(curl ...)" runs what the substitution fetched.
            if w.inner and judge_program_source(a, w.inner, "eval"):
                return
            a.add("exec.dynamic", "eval runs text that is only known at run time; run the "
                  "command directly so it can be checked", w.raw)
            return
    a.nested(text, c.cwd, c.depth, "eval")


def h_source(a: Analyzer, c: Cmd) -> None:
    if not c.args:
        return
    w = c.args[0]
    if w.text in ("/dev/stdin", "-", "/proc/self/fd/0"):
        judge_stdin_program(a, c, "shell", c.name)
        return
    if w.dynamic:
        a.add("exec.dynamic", f"{c.name} runs a file whose name is only known at run time",
              w.raw)
        return
    a.path("read", w, c.cwd, via=c.name)


def h_alias(a: Analyzer, c: Cmd) -> None:
    for w in c.args:
        if "=" in w.text:
            a.nested(w.text.split("=", 1)[1], c.cwd, c.depth, "an alias")
