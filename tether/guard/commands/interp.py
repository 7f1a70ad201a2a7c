"""Shells and interpreters: code passed on the command line, on standard input or in a here-document.

Shell text (``bash -c``, ``eval``, a here-document fed to ``sh``) is parsed and
analysed like any command line. Code for other languages (``python -c``,
``node -e``, ``perl -e``, awk programs, ...) is not parsed: it is scanned for
the calls that matter (running a shell command, deleting or writing files,
opening sockets, evaluating decoded text) and its string literals are taken as
the arguments of those calls. A shell command found in a literal given to
``os.system``, ``execSync`` or the like is analysed in turn. A destructive
file call in a one-liner is asked about whatever its target, because the
target may be built at run time; a target that is plainly catastrophic is
denied.

Programs arriving through a pipe are judged by their source: downloaded
(``curl ... | sh``) or decoded (``base64 -d | sh``) code is denied, literal
text from echo or printf is analysed, anything else is asked about.
"""

from __future__ import annotations

from tether.guard import opts
from tether.guard.derive import literal_value
from tether.guard.source import (
    INTERPRETERS,
    analyse_code,
    judge_program_source,
    judge_stdin_program,
)
from tether.guard.syntax import Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd


# ---------------------------------------------------------------------------
# Shells


def h_shell(a: Analyzer, c: Cmd) -> None:
    args = c.args
    command_mode = False
    stdin_mode = False
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "--" or t == "-":
            i += 1
            if t == "-":
                stdin_mode = True
            break
        if t in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if t.startswith("--"):
            i += 1
            continue
        if t.startswith(("-", "+")) and len(t) > 1:
            if "c" in t[1:] and t[0] == "-":
                command_mode = True
            if "s" in t[1:] and t[0] == "-":
                stdin_mode = True
            i += 1
            continue
        break
    rest = args[i:]
    if command_mode:
        if not rest:
            return
        w = rest[0]
        if w.inner and judge_program_source(a, w.inner, f"{c.name} -c"):
            return
        literal = literal_value(w, a.home)
        a.nested(w.text if literal is None else literal, c.cwd, c.depth, f"{c.name} -c")
        return
    if rest and not stdin_mode:
        script = rest[0]
        if script.inner is not None:
            if not judge_program_source(a, script.inner, f"{c.name} <(...)"):
                a.add("exec.dynamic", f"{c.name} runs a script produced at run time; save it to a "
                      "file first", script.raw)
            return
        if script.dynamic:
            a.add("exec.dynamic", f"{c.name} runs a script whose name is only known at run time",
                  script.raw)
            return
        if script.text in ("/dev/stdin", "/proc/self/fd/0"):
            judge_stdin_program(a, c, "shell", c.name)
            return
        a.path("read", script, c.cwd, via=c.name)
        a.run_script(c, script, "shell", f"the script {script.text}")
        return
    judge_stdin_program(a, c, "shell", c.name)


# ---------------------------------------------------------------------------
# Interpreters


def h_interp(a: Analyzer, c: Cmd) -> None:
    name = c.name
    key = name if name in INTERPRETERS else name.rstrip("0123456789.-")
    lang, code_opts, short_val = INTERPRETERS[key]
    args = c.args
    codes: list[Word] = []
    i = 0
    script: Word | None = None
    module: str | None = None
    listen_ruby = False
    while i < len(args):
        w = args[i]
        t = w.text
        if t == "--":
            i += 1
            if i < len(args) and script is None and not codes:
                script = args[i]
                i += 1
            break
        if t in code_opts or (t.lower() in code_opts):
            if i + 1 < len(args):
                codes.append(args[i + 1])
            i += 2
            continue
        if lang == "python" and t.startswith("-c") and len(t) > 2:
            codes.append(Word(t[2:], w.raw))
            i += 1
            continue
        if lang in ("perl", "ruby") and t.startswith("-") and not t.startswith("--") and len(t) > 2 and t[-1] in "eE" and all(ch.isalpha() for ch in t[1:]):
            # perl -ne 'code', ruby -pe 'code': flags bundled with -e.
            if i + 1 < len(args):
                codes.append(args[i + 1])
            if "i" in t[1:-1]:
                a.mutates()
            i += 2
            continue
        if lang == "python" and t == "-m" and i + 1 < len(args):
            module = args[i + 1].text
            i += 2
            break
        if lang == "ruby" and t == "-run":
            listen_ruby = True
            i += 1
            continue
        if lang == "php" and t == "-S" and i + 1 < len(args):

            a.contact(args[i + 1].text.rsplit(":", 1)[0] or "0.0.0.0", "listen", "php -S")
            i += 2
            continue
        if key == "deno" and t in ("run", "x") and i + 1 < len(args):
            target = [x for x in args[i + 1:] if not x.text.startswith("-")]
            if target and "://" in target[0].text:
                from tether.guard.hosts import host_of_url

                a.contact(host_of_url(target[0].text) or "", "fetch", f"deno {t} {target[0].text}")
            return
        if t.startswith("-") and len(t) > 1:
            if len(t) == 2 and t[1] in short_val and i + 1 < len(args):
                i += 2
            else:
                i += 1
            continue
        if script is None and not codes:
            script = w
            i += 1
            break
        break
    operands = args[i:]
    if listen_ruby and any(x.text == "httpd" for x in codes + operands):

        a.contact("0.0.0.0", "listen", "ruby -run -e httpd")
        return
    if module is not None:
        _python_module(a, c, module, operands)
        return
    if lang in ("perl", "ruby") and codes:
        for w in operands:
            a.path("read", w, c.cwd, via=c.name)
    if key == "gdb":
        for w in codes:
            _gdb_command(a, c, w.text)
        if any(x.text in ("-p", "--pid") or x.text.startswith("--pid=") for x in args):
            a.add("secrets.mention", "gdb attached to a running process can read its memory, "
                  "keys and tokens included", "gdb -p")
        return
    for w in codes:
        if w.inner and judge_program_source(a, w.inner, f"{c.name} code"):
            continue
        if key in ("pwsh", "powershell") and any(x.text.lower() in ("-encodedcommand", "-e", "-ec")
                                                 for x in args):
            a.add("exec.decoded", "powershell -EncodedCommand runs an encoded payload that cannot "
                  "be reviewed; pass the command in plain text", w.text[:40])
            continue
        analyse_code(a, c, lang, w.text, f"{c.name} code")
    if codes:
        return
    if script is not None:
        if script.inner is not None:
            if not judge_program_source(a, script.inner, f"{c.name} <(...)"):
                a.add("exec.dynamic", f"{c.name} runs a program produced at run time", script.raw)
            return
        if script.text in ("-", "/dev/stdin"):
            judge_stdin_program(a, c, lang, c.name)
            return
        a.path("read", script, c.cwd, via=c.name)
        a.run_script(c, script, lang, f"the {lang} script {script.text}")
        if lang == "python" and script.text.endswith("manage.py"):
            _django(a, operands)
        if lang == "php" and script.text.endswith("artisan"):
            a.dispatch("artisan", c.sub([Word("artisan", "artisan"), *operands]))
        if "://" in script.text:
            from tether.guard.hosts import host_of_url

            a.contact(host_of_url(script.text) or "", "fetch", f"{c.name} {script.text}")
        if key in ("gdb",):
            return
        return
    if key in ("gdb", "gnuplot", "bpftrace", "dc") and not codes:
        return
    judge_stdin_program(a, c, lang, c.name)


def _gdb_command(a: Analyzer, c: Cmd, text: str) -> None:
    t = text.strip()
    if t.startswith("!") or t.startswith("shell "):
        a.nested(t[1:] if t.startswith("!") else t[6:], c.cwd, c.depth, "gdb shell")
    elif t.startswith(("dump ", "append ")):
        parts = t.split()
        if len(parts) >= 3:
            target = parts[2] if parts[1] in ("memory", "value", "binary", "ihex", "srec",
                                              "tekhex", "verilog") else parts[1]
            if parts[1] in ("binary", "ihex", "srec", "tekhex", "verilog") and len(parts) >= 4:
                target = parts[3]
            a.path("write", Word(target, target), c.cwd, via="gdb dump")
    elif t.startswith(("python ", "pi ", "py ")):
        analyse_code(a, c, "python", t.split(None, 1)[1] if " " in t else "", "gdb python")
    elif "system(" in t or t.startswith("call "):
        analyse_code(a, c, "c", t, "gdb call")


def _django(a: Analyzer, operands: list[Word]) -> None:
    verb = operands[0].text if operands else ""
    if verb in ("flush", "sqlflush", "reset_db", "drop_test_database"):
        a.add("db.destroy", f"manage.py {verb} deletes the database's data; ask the user", verb)


def _python_module(a: Analyzer, c: Cmd, module: str, operands: list[Word]) -> None:
    if module in ("tether", "tether.cli", "tether.__main__"):
        # `python -m tether X` is `tether X`, whatever interpreter runs it.
        a.dispatch("tether", c.sub([Word("tether", "tether"), *operands]))
        return
    if module.startswith("tether."):
        a.add("self.tether-cli", f"python -m {module} runs tether's internals; the agent may not "
              "drive tether except through its read-only commands", module)
        return
    if module in ("http.server", "SimpleHTTPServer", "CGIHTTPServer", "pydoc", "smtpd",
                  "aiosmtpd", "pyftpdlib", "uploadserver", "wsgiref.simple_server", "xmlrpc.server"):
        if module == "pydoc" and not any(o.text.startswith("-p") or o.text == "-b" for o in operands):
            return
        bind = "0.0.0.0"
        texts = [o.text for o in operands]
        for k, t in enumerate(texts):
            if t in ("-b", "--bind") and k + 1 < len(texts):
                bind = texts[k + 1]
            elif t.startswith("--bind="):
                bind = t.split("=", 1)[1]
        a.contact(bind, "listen", f"python -m {module}")
        return
    if module == "pip":
        a.dispatch("pip", c.sub([Word("pip", "pip"), *operands]))
        return
    if module in ("venv", "virtualenv") and operands:
        a.path("write", operands[-1], c.cwd, via=f"python -m {module}")
        return
    if module == "webbrowser" and operands:
        a.generic_word(operands[-1], c, unknown=True)
        return
    if module in ("base64",) and any(o.text in ("-d", "--decode") for o in operands):
        return
    if module in ("json.tool", "zipfile", "tarfile", "gzip"):
        for o in operands:
            a.generic_word(o, c, unknown=False)


# ---------------------------------------------------------------------------
# awk and sed


def h_awk(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="fvFeiElW", long_val=frozenset({
        "file", "assign", "field-separator", "source", "include", "exec", "load"}))
    programs = [w.text for w in p.all_values("e", "source")]
    files = list(p.operands)
    if not programs and not p.all_values("f", "file", "E", "exec") and files:
        programs.append(files.pop(0).text)
    for w in p.all_values("f", "file", "E", "exec", "i", "include"):
        a.path("read", w, c.cwd, via=c.name)
    for w in files:
        if "=" in w.text and not w.text.startswith(("/", ".")):
            continue
        a.path("read", w, c.cwd, via=c.name)
    for prog in programs:
        analyse_code(a, c, "awk", prog, c.name)


