"""From simple commands to effects: what a command line would do, and which rule each effect falls under.

The :class:`Analyzer` takes the simple commands that :mod:`tether.guard.shell`
found, peels wrappers (sudo, env, timeout, xargs, bash -c, ...), dispatches each
command to an analyser that knows its options, and records :class:`Effect`
objects: paths deleted, written or read, hosts contacted, shared state changed.
Each effect names a rule id from :mod:`tether.guard.catalog`; the policy turns
rule ids into decisions. Commands it does not know get a generic look: secret
or start-up files named in their arguments, output options, URLs and IP
addresses.
"""

from __future__ import annotations

import os

from tether.guard.base import DANGEROUS_ENV, SHELLS, Cmd, Effect, Unit
from tether.guard.catalog import risk_of
from tether.guard.derive import stand_ins
from tether.guard.globs import name_match
from tether.guard.hosts import host_of_url, is_loopback, looks_like_ip
from tether.guard.paths import (
    HARMLESS_DEVICES,
    Place,
    absolute,
    is_disk_device,
    place,
    within,
)
from tether.guard.policy import Policy
from tether.guard.readonly import is_readonly
from tether.guard.registry import target_of
from tether.guard.shell import parse, split_words
from tether.guard.syntax import UNKNOWN, Script, Simple, Word, command_name, decode_ansi_c

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    Handler: TypeAlias = Callable[["Analyzer", Cmd], None]


# Contact with a host, by kind: the rule it falls under.
KIND_RULE = {"fetch": "net.fetch", "send": "net.send", "raw": "net.raw",
             "shell": "net.remote-shell", "listen": "net.listen", "tunnel": "net.tunnel"}
_OUTPUT_LONG = ("out", "log", "save", "write", "dump", "export", "report", "junit")
# Long options of unknown programs whose value is a command line the program runs.
_PROGRAM_OPTS = ("command", "cmd", "exec", "script", "hook", "editor", "pager", "filter",
                 "shell", "wrapper", "pipe", "program", "helper")
_SHELL_PATHS = ("/bin/sh", "/bin/bash", "/bin/zsh", "/bin/dash", "/bin/ksh", "/bin/csh",
                "/bin/tcsh", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/zsh", "/usr/bin/dash",
                "/usr/local/bin/bash", "/bin/busybox", "/usr/bin/env sh", "/usr/bin/env bash")


class Analyzer:
    def __init__(self, policy: Policy, cwd: str | None) -> None:
        self.policy = policy
        self.root = policy.root
        self.home = policy.home
        self.cwd = cwd
        self.effects: list[Effect] = []
        self.problems: list[str] = []
        self.units: list[Unit] = []
        self.unit: Unit = Unit()
        self.writes: list[str | None] = []
        self.parsed: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str | None]] = set()
        self._places: dict[tuple[str, bool], list[Place]] = {}
        self.git_remotes: dict[str, str] = {}
        # Aliases defined earlier in this command line: `alias ls='rm -rf ~'; ls` runs rm.
        self.aliases: dict[str, str] = {}
        # Links made earlier in this command line (link -> what it points to): a path through
        # one is also judged as the file it leads to, which does not exist on disk yet.
        self.links: dict[str, str] = {}
        # Files this command line writes with literal content (echo ... > f, cat > f <<EOF):
        # when a later command runs one of them, its content is what gets analysed.
        self.written: dict[str, str] = {}

    # -- recording --------------------------------------------------------

    def add(self, rule: str, reason: str, target: str | None = None,
            decision: str | None = None) -> None:
        key = (rule, target)
        if key in self._seen:
            return
        self._seen.add(key)
        risk = risk_of(rule, self.policy.class_risks)
        if decision is None:
            decision = self.policy.decide(rule, risk)
        self.effects.append(Effect(rule, risk, decision, reason, target))

    def mutates(self) -> None:
        self.unit.readonly = False

    def contact(self, host: str, kind: str, what: str) -> None:
        """Record contact with a host unless it is this machine or on the allowlist.

        Sending is not fetching: data sent to a host needs the host on [network] send; being
        on [network] allow (hosts to fetch from) is not enough.
        """
        host = host.strip().strip("[]").lower()
        rule = KIND_RULE[kind]
        if not host or UNKNOWN in host:
            self.add(rule, f"{what}: the host is only known at run time, so it cannot be checked "
                     "against the network allowlist", "?")
            return
        if is_loopback(host) or (host in ("0.0.0.0", "::") and kind != "listen"):
            return
        sending = kind == "send"
        if self.policy.host_allowed(host, send=sending):
            return
        verb = {"fetch": "contacts", "send": "sends data to", "raw": "opens a raw connection to",
                "shell": "opens a remote session on", "listen": "listens for connections on",
                "tunnel": "exposes this machine through"}[kind]
        if sending:
            self.add(rule, f"{what}: it {verb} {host}; data leaving the machine needs the user's "
                     "approval (a host to fetch from is not thereby one to send to); add the host "
                     "to [network] send in .tether/policy.toml if it is expected", host)
            return
        self.add(rule, f"{what}: it {verb} {host}, which is not on the network allowlist; add the "
                 "host to [network] allow in .tether/policy.toml if it is expected", host)

    def dispatch(self, name: str, cmd: Cmd) -> bool:
        """Hand a command to the handler of another program name (``python -m pip`` is pip).

        Handlers reach each other only through here, so no handler module imports another.
        """
        handler = handler_for(name)
        if handler is None:
            return False
        handler(self, cmd)
        return True

    # -- entry points -----------------------------------------------------

    def run(self, command: str, cwd: str | None, depth: int = 0) -> None:
        script = parse(command, cwd, self.home, depth)
        self.script(script, depth)

    def script(self, script: Script, depth: int) -> None:
        for p in script.problems:
            self.problems.append(p)
            self.add("unparsed.syntax", f"the guard could not read the command completely "
                     f"({p}); write it without the unusual syntax so it can be checked", None)
        if script.fork_bomb:
            self.add("sys.fork-bomb", "a function that spawns itself without end (a fork bomb) "
                     "would exhaust the machine's processes")
        for s in script.commands:
            self.simple(s, depth)

    def nested(self, text: str, cwd: str | None, depth: int, what: str) -> None:
        """Analyse text that a shell will run (bash -c, eval, ssh host CMD, system() ...)."""
        if UNKNOWN in text:
            self.add("exec.dynamic", f"{what} runs a command that is only known at run time; "
                     "write the command out literally so it can be checked")
        text = text.replace(UNKNOWN, "UNKNOWN_VALUE")
        if not text.strip():
            return
        saved = self.unit
        self.run(text, cwd, depth + 1)
        self.unit = saved

    def simple(self, s: Simple, depth: int) -> None:
        saved = self.unit
        self.unit = Unit()
        self.units.append(self.unit)
        if depth == 0:
            self.parsed.append(s.to_json())
        for name, value in s.assigns:
            if (name in DANGEROUS_ENV or name.startswith("GIT_CONFIG") or name == "LD_PRELOAD"
                    or name.endswith(("_COMMAND", "_CMD", "PAGER", "EDITOR", "ASKPASS"))):
                self.env_program(name, value, s, depth)
        self.redirects(s, depth)
        if s.argv and not s.function:
            self.argv(Cmd(s.argv, s.cwd, s, depth))
            if s.assigns and any(s.vars.get(k) != s.old_vars.get(k) for k in s.vars):
                self.prefix_vars_again(s, depth)
        elif s.argv:
            self.unit.texts.append(" ".join(w.text for w in s.argv))
        self.unit = saved

    def prefix_vars_again(self, s: Simple, depth: int) -> None:
        """`TMPDIR=/x rm -rf $TMPDIR/y`: the shell expands $TMPDIR with its old value, but the
        guard also checks the new one rather than lean on that subtle ordering."""
        uses = [k for k in s.vars if any(f"${k}" in w.raw or "${" + k in w.raw for w in s.argv)]
        if not uses:
            return
        text = " ".join(w.raw for w in s.argv)
        again = parse(text, s.cwd, self.home, depth + 1, variables=dict(s.vars))
        for cmd in again.commands:
            if cmd.argv:
                self.argv(Cmd(cmd.argv, cmd.cwd, s, depth))

    def env_program(self, name: str, value: Word, s: Simple, depth: int) -> None:
        if name == "LD_PRELOAD":
            self.add("exec.dynamic", "LD_PRELOAD loads a library into the program; the guard "
                     "cannot see what it does", value.text)
            return
        if name.startswith("GIT_CONFIG"):
            return
        text = value.text.lstrip("|").strip()
        if text:
            self.nested(text, s.cwd, depth, f"the variable {name}")
            dummy = Cmd([Word(name, name)], s.cwd, s, depth)
            for part in split_words(text):
                self.generic_word(Word(part, part), dummy, unknown=True)

    def redirects(self, s: Simple, depth: int) -> None:
        shell_like = bool(s.argv) and command_name(s.argv[0].text) in SHELLS | {"exec"}
        for r in s.redirects:
            if r.target is None:
                continue
            t = r.target.text
            op = r.op
            if (op in (">&", "<&", "&>") and t.isdigit()) or t == "-":
                continue
            if op.startswith("<") and op not in ("<>",):
                if t.startswith("/dev/tcp/") or t.startswith("/dev/udp/"):
                    self.dev_net(t, shell_like)
                    continue
                self.path("read", r.target, s.cwd, via="a < redirection")
                continue
            if t.startswith("/dev/tcp/") or t.startswith("/dev/udp/"):
                self.dev_net(t, shell_like)
                continue
            self.path("write", r.target, s.cwd, via="a > redirection")
            if r.fd in (None, "1") and op in (">", ">>", ">|", "&>"):
                self.remember_written(s, r.target, append=op == ">>")

    def remember_written(self, s: Simple, target: Word, append: bool) -> None:
        path = self.resolve(target, s.cwd)
        if path is None or not s.argv:
            return
        name = command_name(s.argv[0].text)
        content: str | None = None
        if name in ("echo", "printf"):
            args = [w.text for w in s.argv[1:]]
            escapes = name == "printf"
            while name == "echo" and args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
                escapes = escapes or "e" in args[0]
                args.pop(0)
            content = " ".join(args)
            if escapes:
                content = decode_ansi_c(content)
        elif name in ("cat", "tee") and s.stdin is not None:
            content = s.stdin
        if content is None or UNKNOWN in content:
            return
        self.written[path] = (self.written.get(path, "") + "\n" + content) if append else content

    def script_text(self, word: Word, cwd: str | None, from_disk: bool) -> str | None:
        """The content of a script about to run: written earlier in this command line, or a
        small text file on disk."""
        path = self.resolve(word, cwd)
        if path is None:
            return None
        if path in self.written:
            return self.written[path]
        if not from_disk:
            return None
        try:
            if not os.path.isfile(path) or os.path.getsize(path) > 65536:
                return None
            with open(path, "rb") as fh:
                data = fh.read(65537)
        except OSError:
            return None
        if b"\0" in data:
            return None
        return data.decode("utf-8", "replace")

    def run_script(self, c: Cmd, word: Word, lang: str | None, what: str) -> None:
        """Analyse the script a command runs (bash x.sh, ./x.sh, python x.py, go run x.go)."""
        text = self.script_text(word, c.cwd, from_disk=lang in (None, "shell"))
        if text is None or c.depth >= 3:
            return
        if lang is None:
            first = text.split("\n", 1)[0]
            if first.startswith("#!"):
                interp = command_name(first[2:].split()[-1] if "env" in first else first[2:].split()[0]) if first[2:].split() else "sh"
                from tether.guard.source import language_of

                lang = language_of(interp)
            else:
                lang = "shell"
        if lang is None:
            return
        if lang == "shell":
            self.nested(text, c.cwd, c.depth, what)
        else:
            from tether.guard.source import analyse_code

            analyse_code(self, c, lang, text, what)

    def dev_net(self, target: str, shell_like: bool) -> None:
        parts = target.split("/")
        host = parts[3] if len(parts) > 3 else ""
        if shell_like:
            self.add("net.reverse-shell", f"a shell wired to {target} hands control of this "
                     "machine to whoever is at the other end", target)
            return
        self.contact(host, "raw", f"a connection through {target}")

    # -- dispatch ---------------------------------------------------------

    def argv(self, cmd: Cmd) -> None:
        if not cmd.argv:
            return
        text = cmd.text()
        self.unit.texts.append(text)
        first = cmd.argv[0]
        if first.dynamic:
            self.mutates()
            self.add("exec.dynamic", "the command's name is only known at run time "
                     f"({first.raw!r}); name the program literally so it can be checked", first.raw)
            for w in cmd.args:
                self.generic_word(w, cmd, unknown=True)
            return
        for rule in self.policy.commands:
            if rule.matches(text):
                self.add(rule.id, rule.reason or f"the policy rule {rule.id} matches this command",
                         text, rule.decision)
                if rule.decision != "allow":
                    self.mutates()
                return
        name = cmd.name
        if name == "alias":
            for w in cmd.args:
                key, eq, value = w.text.partition("=")
                if eq and key and UNKNOWN not in key:
                    self.aliases[key] = value
        elif first.text in self.aliases and not first.quoted and cmd.depth < 6:
            # The alias's text replaces the word; the rest of the line follows it.
            expansion = self.aliases.pop(first.text)  # an alias does not expand within itself
            try:
                self.nested(" ".join([expansion, *(w.raw for w in cmd.args)]), cmd.cwd,
                            cmd.depth, f"the alias {first.text}")
            finally:
                self.aliases[first.text] = expansion
            return
        if not is_readonly(name, [w.text for w in cmd.args]):
            self.mutates()
        if "/" in first.text:
            # Running a file reads it: a secret or start-up file run as a program is flagged,
            # and a script's content is analysed.
            self.path("mention", first, cmd.cwd, via=f"running {first.text}")
            if not (name == "tether" and _is_tether_entry(self.resolve(first, cmd.cwd))):
                self.run_script(cmd, first, None, f"the script {first.text}")
        handler = handler_for(name)
        if handler is None:
            stripped = name.rstrip("0123456789.-")
            handler = handler_for(stripped) if stripped != name else None
        if handler is not None:
            handler(self, cmd)
        else:
            self.generic(cmd)

    # -- paths ------------------------------------------------------------

    def resolve(self, word: Word | str, cwd: str | None) -> str | None:
        if isinstance(word, Word):
            text = word.text
            if text.startswith("~") and not word.tilde:
                text = "./" + text
        else:
            text = word
        return absolute(text, cwd, self.home)

    def path(self, op: str, word: Word | str, cwd: str | None, *, recursive: bool = False,
             via: str = "") -> None:
        """Record reading, writing, deleting or mentioning a path.

        "mention" is a path handed to a program the guard does not know: a secret file
        given to it is asked about rather than denied.
        """
        raw = word.text if isinstance(word, Word) else word
        if op in ("write", "delete"):
            self.mutates()
        if UNKNOWN in raw:
            alternatives = stand_ins(word, cwd, self.root, self.home) if isinstance(word, Word) else None
            if alternatives:
                # The commands that produce the value say where it can point.
                for alt in alternatives:
                    self.path(op, alt, cwd, recursive=recursive, via=via)
                return
            if op in ("read", "mention") and isinstance(word, Word):
                # A read of `$HOME/.ssh/$KEY` or /proc/$$/environ: the unknown part stands for
                # any name, and the places it can be are judged (no class is assumed for it).
                pattern = self.resolve(Word(raw.replace(UNKNOWN, "*"), word.raw, word.quoted,
                                            True, word.tilde), cwd)
                if pattern is not None:
                    for pl in self.places(pattern, True):
                        self.judge(op, pl, recursive, via)
                return
            if op in ("write", "delete"):
                self.writes.append(None)
                rule = "fs.delete.unresolved" if op == "delete" else "fs.write.unresolved"
                self.add(rule, f"{via or 'the command'} would {op} a path that is only known at "
                         "run time; name the path literally so it can be checked",
                         raw.replace(UNKNOWN, "?"))
            return
        abs_path = self.resolve(word, cwd)
        if abs_path is None:
            if op in ("write", "delete"):
                self.writes.append(None)
                rule = "fs.delete.unresolved" if op == "delete" else "fs.write.unresolved"
                self.add(rule, f"{via or 'the command'} would {op} {raw!r} relative to a folder "
                         "the guard cannot determine; use an absolute path or cd to a literal "
                         "folder", raw)
            return
        glob = isinstance(word, Word) and word.glob and any(c in raw for c in "*?[")
        if glob and op == "delete":
            self.glob_delete(abs_path, recursive, via)
        if glob and op in ("read", "mention"):
            # A pattern reads whatever matches it: judge the folder it starts from as read
            # whole, so `cat ~/.aws/cred*` is a read of what ~/.aws holds.
            fixed = abs_path.split("/")
            cut = next((i for i, s in enumerate(fixed) if any(ch in s for ch in "*?[")), None)
            if cut is not None:
                for pl in self.places("/".join(fixed[:cut]) or "/", True):
                    if not pl.inside:
                        self.judge(op, pl, True, via)
        if op in ("write", "delete"):
            self.writes.append(abs_path)
        for pl in self.places(abs_path, op not in ("delete", "mention")):
            self.judge(op, pl, recursive, via)
        linked = self.links.get(abs_path)
        if linked is not None and op != "delete":
            for pl in self.places(linked, True):
                self.judge(op, pl, recursive, via or f"a link to {linked}")
        if glob:
            for match in expand_glob(abs_path):
                for pl in self.places(match, op not in ("delete", "mention")):
                    self.judge(op, pl, recursive, via)

    def places(self, abs_path: str, follow_last: bool) -> list[Place]:
        """place(), remembered for this check: a long script names the same paths again and again."""
        key = (abs_path, follow_last)
        found = self._places.get(key)
        if found is None:
            found = self._places[key] = place(abs_path, self.policy, follow_last=follow_last)
        return found

    def glob_delete(self, abs_path: str, recursive: bool, via: str) -> None:
        parent, name = os.path.split(abs_path)
        if name not in ("*", ".*", "*.*", "{*,.*}", "[!.]*") and not (name.startswith("*") and name.endswith("*") and len(name) <= 3):
            return
        pl = Place(parent, self.policy)
        if pl.abs == self.root:
            self.add("fs.delete.workspace-all", f"{via or 'the command'} would delete everything "
                     "in the workspace root; delete the specific files or folders instead", abs_path)
        elif pl.temp_root:
            self.add("fs.delete.temp-root", f"{via or 'the command'} would empty {parent}, which "
                     "other programs use too; delete your own files under it instead", abs_path)
        elif recursive and (pl.top_level or pl.workspace_root_or_above):
            self.add("fs.delete.catastrophic", f"{via or 'the command'} would delete everything "
                     f"under {parent or '/'}; this cannot be undone", abs_path)

    def judge(self, op: str, pl: Place, recursive: bool, via: str) -> None:
        target = pl.abs
        who = via or "the command"
        for c in pl.classes:
            self.class_effect(op, c.name, c.decisions, target, who)
        if op == "delete":
            if pl.workspace_root_or_above or (recursive and pl.top_level):
                self.add("fs.delete.catastrophic", f"{who} would delete {target}, which holds "
                         "the workspace or the whole system; this cannot be undone", target)
            elif pl.inside:
                self.add("fs.delete.workspace", f"{who} deletes {pl.rel} inside the workspace",
                         target)
                if recursive:
                    for c in pl.covered_classes(self.policy):
                        self.class_effect("delete", c.name, c.decisions, target, who)
            elif pl.system:
                self.add("fs.delete.system", f"{who} would delete {target} in a system folder; "
                         "leave system files to the package manager", target)
            elif pl.temp_root and recursive:
                self.add("fs.delete.temp-root", f"{who} would delete {target}, which other "
                         "programs use too; delete your own files under it instead", target)
            elif pl.temp:
                pass
            else:
                self.add("fs.delete.outside", f"{who} would delete {target}, outside the "
                         "workspace; confine deletions to the workspace or a temporary folder",
                         target)
        elif op in ("read", "mention") and (recursive or op == "mention") and not pl.inside:
            # A folder read as a whole (grep -r, tar, diff -r) or handed to an unknown program
            # takes in the secrets stored under it.
            for c in pl.covered_classes(self.policy):
                if c.decisions["read"] != "allow":
                    self.class_effect(op, c.name, c.decisions, target + "/", who)
        elif op == "write":
            if target in HARMLESS_DEVICES or target.startswith("/dev/fd/") or target.startswith("/proc/self/fd/"):
                return
            if is_disk_device(target):
                self.add("disk.destroy", f"{who} would write straight to the device {target}, "
                         "destroying its file system", target)
            elif pl.inside or pl.temp:
                pass
            elif pl.system or target.startswith("/dev/"):
                self.add("fs.write.system", f"{who} would write {target} in a system folder; "
                         "system files are not the agent's to change", target)
            else:
                self.add("fs.write.outside", f"{who} would write {target}, outside the "
                         "workspace; keep changes inside the workspace or a temporary folder",
                         target)

    def class_effect(self, op: str, name: str, decisions: dict[str, str], target: str, who: str) -> None:
        if op == "mention":
            if decisions["read"] != "allow":
                self.add("secrets.mention", f"{who} is given {target}, a {name} file; the guard "
                         "cannot tell whether it reads it: keep secrets out of commands", target)
            elif decisions["write"] == "deny":
                rule = "fs.write.outside" if not within(target, self.root) else f"path.{name}.write"
                self.add(rule, f"{who} is given {target}, a protected {name} file it may change",
                         target)
            return
        rule = f"path.{name}.{op}"
        decision = self.policy.rules.get(rule) or decisions[op]
        if decision == "allow":
            return
        verb = {"read": "read", "write": "change", "delete": "delete"}[op]
        hint = {
            "secrets": "secrets must not reach the agent or its logs; ask the user for the "
                       "value you need or use a placeholder",
            "tether": "tether's policy, store and hook settings are not the agent's to change",
            "persistence": "this file runs code at log-in or on a schedule",
            "git": "use git commands rather than editing the repository's internals",
        }.get(name, f"{name} files are sensitive; say why the change is needed")
        self.add(rule, f"{who} would {verb} {target} ({name}): {hint}", target, decision)

    # -- generic look at unknown programs ---------------------------------

    def generic(self, cmd: Cmd) -> None:
        args = cmd.args
        i = 0
        while i < len(args):
            w = args[i]
            t = w.text
            if t.startswith("-") and len(t) > 1:
                name, eq, val = t.lstrip("-").partition("=")
                long_opt = t.startswith("--")
                is_out = (t in ("-o", "-O") or (long_opt and any(k in name.lower() for k in _OUTPUT_LONG))
                          or (not long_opt and len(name) > 1 and name.lower().startswith(("o", "out"))
                              and "=" in t))
                runs = any(k in name.lower() for k in _PROGRAM_OPTS) and long_opt
                if runs and (eq or i + 1 < len(args)):
                    value = val if eq else args[i + 1].text
                    self.nested(value.lstrip("!|"), cmd.cwd, cmd.depth,
                                f"{cmd.name} --{name}")
                if eq:
                    vw = Word(val, w.raw)
                    if is_out:
                        self.path("write", vw, cmd.cwd, via=cmd.name)
                    self.generic_word(vw, cmd, unknown=True)
                elif is_out and i + 1 < len(args):
                    self.path("write", args[i + 1], cmd.cwd, via=cmd.name)
                    self.generic_word(args[i + 1], cmd, unknown=True)
                    i += 2
                    continue
                elif not long_opt and len(t) > 2 and t[2] in "/~":
                    self.generic_word(Word(t[2:], w.raw), cmd, unknown=True)
                i += 1
                continue
            self.generic_word(w, cmd, unknown=True)
            i += 1

    def generic_word(self, w: Word, cmd: Cmd, unknown: bool) -> None:
        """Look at one argument of a program for secret files, start-up files and hosts."""
        t = w.text
        if not t or UNKNOWN in t:
            return
        if unknown and (t in _SHELL_PATHS or t.startswith(tuple(p + " " for p in _SHELL_PATHS))):
            self.add("exec.shell-escape", f"{cmd.name} is handed a shell ({t[:30]}) to run, which "
                     "the guard cannot follow; run the commands directly", t[:60])
        if "://" in t:
            scheme, _, rest = t.partition("://")
            if scheme.lower() == "file":
                self.path("read" if not unknown else "mention", Word("/" + rest.lstrip("/"), w.raw),
                          cmd.cwd, via=cmd.name)
                return
            host = host_of_url(t)
            if host:
                self.contact(host, "fetch", f"{cmd.name} is given the address {t}")
            return
        candidates = [t]
        if t.startswith("@"):
            candidates.append(t[1:])
        if ":" in t and not t.startswith("/"):
            tail = t.partition(":")[2]
            if tail.startswith("/") or tail.startswith("~"):
                candidates.append(tail)
        if "=" in t:
            candidates.append(t.split("=", 1)[1])
        for c in candidates:
            if c.startswith("/") or c.startswith("~") or c.startswith(".") or "/" in c or "." in c:
                self.path("mention" if unknown else "read",
                          Word(c, w.raw, w.quoted, False, w.tilde and c is t), cmd.cwd, via=cmd.name)
        if unknown and looks_like_ip(t.split(":")[0]):
            self.contact(t.split(":")[0], "raw", f"{cmd.name} is given the address {t}")


def _is_tether_entry(path: str | None) -> bool:
    """Whether a program path is the `tether` command installed beside this interpreter."""
    if path is None:
        return False
    import sys

    installed = os.path.join(os.path.dirname(sys.executable), "tether")
    try:
        return os.path.realpath(path) == os.path.realpath(installed)
    except (OSError, ValueError):
        return False


def expand_glob(pattern: str, limit: int = 200) -> list[str]:
    """Expand a glob in the last path component against the file system, as the shell would."""
    parent, name = os.path.split(pattern)
    if any(c in parent for c in "*?["):
        return []
    try:
        entries = os.listdir(parent or "/")
    except OSError:
        return []
    out: list[str] = []
    for e in entries:
        if e.startswith(".") and not name.startswith("."):
            continue
        if name_match(name, e):
            out.append(os.path.join(parent, e))
            if len(out) >= limit:
                break
    return out


# ---------------------------------------------------------------------------
# Standard input


_RESOLVED: dict[str, Handler | None] = {}


def handler_for(name: str) -> Handler | None:
    """The analyser for a command name, importing its module on first use."""
    if name in _RESOLVED:
        return _RESOLVED[name]
    target = target_of(name)
    fn: Handler | None = None
    if target is not None:
        module_name, func = target.split(".", 1)
        module = __import__(f"tether.guard.commands.{module_name}", fromlist=[func])
        fn = getattr(module, func)
    _RESOLVED[name] = fn
    return fn


