"""Files: deleting, writing and reading paths (rm, cp, mv, tee, sed -i, tar, find, ...).

Each analyser knows which operands of its command are read, written or deleted
and hands them to :meth:`Analyzer.path`, which resolves them and applies the
zones (workspace, temporary folders, system folders, elsewhere) and the
sensitive path classes.
"""

from __future__ import annotations

import os

from tether.guard import opts
from tether.guard.base import static_stdin_words
from tether.guard.syntax import UNKNOWN, Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd


def h_rm(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, long_val=frozenset({"interactive"}))
    recursive = p.has("r", "R", "recursive")
    if "no-preserve-root" in p.flags:
        recursive = True
    for w in p.operands:
        a.path("delete", w, c.cwd, recursive=recursive, via=f"{c.name}{' -r' if recursive else ''}")


def h_rmdir(a: Analyzer, c: Cmd) -> None:
    for w in opts.parse(c.args).operands:
        a.path("delete", w, c.cwd, via=c.name)


def h_shred(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="nsx", long_val=frozenset({"iterations", "size", "random-source"}))
    for w in p.operands:
        a.path("delete", w, c.cwd, via="shred")


def h_truncate(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="sr", long_val=frozenset({"size", "reference"}))
    for w in p.operands:
        a.path("write", w, c.cwd, via="truncate")


def h_cp(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="tS", long_val=frozenset({"target-directory", "suffix",
                                                                 "backup", "sparse", "reflink"}))
    ops = list(p.operands)
    target = p.value("t", "target-directory")
    if target is None and ops:
        target = ops.pop()
    recursive = p.has("r", "R", "a", "recursive", "archive")
    for w in ops:
        a.path("read", w, c.cwd, via=c.name, recursive=recursive)
    if target is not None:
        a.path("write", target, c.cwd, via=c.name)
        if c.name == "mv":
            for w in ops:
                a.path("delete", w, c.cwd, via="mv", recursive=True)


def h_ln(a: Analyzer, c: Cmd) -> None:
    """A hard link IS the file it links to: reading or writing it reads or writes the original.

    So a hard link to a secret is a read of the secret, and one to a protected file is a
    change of that file. A symbolic link is remembered for the rest of the command line
    (``ln -s .env e && cat e`` reads .env).
    """
    p = opts.parse(c.args, short_val="tS", long_val=frozenset({"target-directory", "suffix", "backup"}))
    ops = list(p.operands)
    target = p.value("t", "target-directory")
    sources = ops if target is not None else ops[:-1]
    if target is None and len(ops) >= 2:
        target = ops[-1]
    if target is not None:
        a.path("write", target, c.cwd, via="ln")
    symbolic = "s" in p.flags or "symbolic" in p.flags
    for src in sources:
        if not symbolic:
            a.path("read", src, c.cwd, via="a hard link to it")
            a.path("write", src, c.cwd, via="a hard link to it")
        link_at = a.resolve(target, c.cwd) if target is not None else None
        source = a.resolve(src, c.cwd if not symbolic else (
            os.path.dirname(link_at) if link_at else c.cwd))
        if link_at is not None and source is not None:
            into_dir = p.value("t", "target-directory") is not None or len(sources) > 1 or (
                target is not None and target.text.endswith("/"))
            name = os.path.join(link_at, os.path.basename(source)) if into_dir else link_at
            a.links[name] = source


def h_install(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="gmoStT", long_val=frozenset({"group", "mode", "owner",
                                                                     "suffix", "target-directory"}))
    targets = [p.value("t", "target-directory")] if p.value("t", "target-directory") else p.operands[-1:]
    for w in targets:
        if w is not None:
            a.path("write", w, c.cwd, via="install")
    for w in p.operands[:-1]:
        a.path("read", w, c.cwd, via="install")


def h_touch_mkdir(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="mdrtZ", long_val=frozenset({"mode", "date", "reference", "context"}))
    for w in p.operands:
        a.path("write", w, c.cwd, via=c.name)


def h_tee(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, long_val=frozenset({"output-error"}))
    for w in p.operands:
        a.path("write", w, c.cwd, via="tee")


def h_dd(a: Analyzer, c: Cmd) -> None:
    for w in c.args:
        t = w.text
        if t.startswith("of="):
            a.path("write", Word(t[3:], w.raw), c.cwd, via="dd")
        elif t.startswith("if="):
            a.path("read", Word(t[3:], w.raw), c.cwd, via="dd")


def h_sed(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="efl", long_val=frozenset({"expression", "file", "line-length"}),
                   optional_long=frozenset({"in-place"}))
    scripts = [w.text for w in p.all_values("e", "expression")]
    files = list(p.operands)
    if not scripts and not p.all_values("f", "file") and files:
        scripts.append(files.pop(0).text)
    inplace = p.has("i", "in-place") or any(f.startswith("i") for f in p.flags if len(f) > 1 and f[0] == "i")
    for w in files:
        a.path("write" if inplace else "read", w, c.cwd, via="sed -i" if inplace else "sed")
    for s in scripts:
        sed_script(a, s, c)


def h_sort(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="kotTS", long_val=frozenset({"key", "output", "field-separator",
                                                                    "temporary-directory", "buffer-size",
                                                                    "files0-from", "random-source"}))
    out = p.value("o", "output")
    if out is not None:
        a.mutates()
        a.path("write", out, c.cwd, via="sort -o")
    for w in [*p.operands, *p.all_values("files0-from")]:
        a.path("read", w, c.cwd, via=c.name)


def h_reader(a: Analyzer, c: Cmd) -> None:
    """Programs that print the content of their file operands."""
    short = {"head": "ncq", "tail": "ncsq", "cut": "bcdf", "fold": "w", "nl": "bdfhilnpsvw",
             "od": "AjNSstw", "xxd": "cglos", "hexdump": "efns", "hd": "efns", "pr": "hlwoNs",
             "column": "cstoEHNRlOW", "uniq": "fsw", "join": "aejotv12", "paste": "d",
             "split": "abCdlnt", "strings": "net", "less": "bhjkoOpPtTxyz", "more": "n",
             "expand": "t", "unexpand": "t", "fmt": "wpg", "base64": "w", "base32": "w", "shuf": "ino",
             "iconv": "fto", "diff": "CDFIL", "comm": "", "tac": "s", "look": "t"}.get(c.name, "")
    p = opts.parse(c.args, short_val=short, long_val=frozenset({"lines", "bytes", "delimiter",
                                                                  "fields", "width", "output", "from",
                                                                  "to", "files0-from", "separator"}))
    recursive = p.has("r", "R", "recursive") and c.name in ("diff", "colordiff")
    for w in [*p.operands, *p.all_values("files0-from")]:
        a.path("read", w, c.cwd, via=c.name, recursive=recursive)
    out = p.value("o", "output") if c.name in ("iconv", "uniq", "shuf", "xxd") else None
    if out is not None:
        a.path("write", out, c.cwd, via=c.name)
    if c.name in ("uniq", "xxd") and len(p.operands) >= 2:
        a.path("write", p.operands[1], c.cwd, via=c.name)


def h_search(a: Analyzer, c: Cmd) -> None:
    """grep-like: the first operand is the pattern unless -e/-f gave it."""
    p = opts.parse(c.args, short_val="efmABCdDg" if c.name in ("grep", "egrep", "fgrep") else "efmABCgtTM",
                   long_val=frozenset({"regexp", "file", "max-count", "after-context",
                                       "before-context", "context", "glob", "type", "include",
                                       "exclude", "exclude-dir", "label", "color", "colour",
                                       "max-depth", "type-add", "sort", "sortr", "threads",
                                       "ignore-file", "pre", "replace", "encoding"}))
    ops = list(p.operands)
    if not p.all_values("e", "regexp", "f", "file") and ops:
        ops.pop(0)
    recursive = p.has("r", "R", "recursive", "dereference-recursive") or c.name in ("rg", "ag", "ack")
    for w in [*ops, *p.all_values("f", "file")]:
        a.path("read", w, c.cwd, via=c.name, recursive=recursive)
    pre = p.value("pre")
    if pre is not None:
        a.nested(pre.text, c.cwd, c.depth, f"{c.name} --pre")


def h_jq(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="L", long_val=frozenset({"arg", "argjson", "slurpfile",
                                                                "rawfile", "indent", "from-file"}))
    ops = list(p.operands)
    program = ops.pop(0).text if ops and p.value("from-file") is None else ""
    if _reads_environment(program):
        a.add("secrets.env-dump", f"{c.name}'s program reads the environment (env, $ENV), tokens "
              "and keys included; read only the variable you need with $ENV.NAME", program[:60])
    for w in [*ops, *p.all_values("slurpfile", "rawfile")]:
        a.path("read", w, c.cwd, via=c.name)


def _reads_environment(program: str) -> bool:
    """jq's ``env`` builtin or its ``$ENV`` object used whole, not one field (``$ENV.HOME``)."""
    n = len(program)
    i = 0
    while i < n:
        hits = [x for x in (program.find("$ENV", i), program.find("env", i)) if x >= 0]
        if not hits:
            return False
        start = min(hits)
        end = start + (4 if program.startswith("$ENV", start) else 3)
        before = program[start - 1] if start else " "
        after = program[end] if end < n else " "
        whole_word = not (after.isalnum() or after == "_") and (
            program.startswith("$ENV", start) or not (before.isalnum() or before in "_$."))
        if whole_word and after not in ".[":
            return True
        i = end
    return False


def h_editor(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="cSTuiw" if c.name in ("vi", "vim", "nvim", "ex", "view") else "")
    for w in p.operands:
        a.path("read", w, c.cwd, via=c.name)
        if c.name not in ("view",):
            a.path("write", w, c.cwd, via=c.name)
    for cmdw in [*p.all_values("c"), *[w for w in c.args if w.text.startswith("+")]]:
        body = cmdw.text.lstrip("+:").strip()
        if body.startswith("!"):
            a.nested(body[1:], c.cwd, c.depth, c.name)
        elif body.startswith(("sh", "shell", "terminal", "term")):
            a.add("exec.shell-escape", f"{c.name} {cmdw.text} opens a shell the guard cannot follow",
                  cmdw.text[:40])
        writes = "redir" in body or body.startswith(("w", "sav", "x"))
        for tok in body.replace("|", " ").replace(">", " ").replace("!", " ").split():
            if tok.startswith(("/", "~")):
                a.path("write" if writes else "mention", Word(tok, tok, tilde=tok.startswith("~")),
                       c.cwd, via=c.name)


def h_metadata(a: Analyzer, c: Cmd) -> None:
    """ls, stat, du and friends show names and sizes, never contents."""


def h_history(a: Analyzer, c: Cmd) -> None:
    args = [w for w in c.args]
    texts = [w.text for w in args]
    if not texts or texts[0].lstrip("-").isdigit() or texts == ["-c"]:
        return
    mode = texts[0]
    files = [w for w in args[1:] if not w.text.startswith("-")]
    for w in files:
        if mode in ("-w", "-a"):
            a.path("write", w, c.cwd, via=f"history {mode}")
        elif mode in ("-r", "-n"):
            a.path("read", w, c.cwd, via=f"history {mode}")


def h_cpio(a: Analyzer, c: Cmd) -> None:
    """cpio -o and -p take the names of the files to copy on standard input."""
    p = opts.parse(c.args, short_val="FIOEHMRC", long_val=frozenset({
        "file", "pattern-file", "format", "owner", "rsh-command", "message"}))
    names = static_stdin_words(c, a.home)
    out_mode = p.has("o", "create")
    pass_mode = p.has("p", "pass-through")
    if out_mode or pass_mode:
        if names is None:
            a.add("fs.write.unresolved" if pass_mode else "secrets.mention",
                  "cpio copies files named on its input, which the guard cannot see", None)
        for n in names or []:
            a.path("read", Word(n, n), c.cwd, via="cpio")
        if pass_mode and p.operands:
            a.path("write", p.operands[-1], c.cwd, via="cpio -p")
    else:
        a.mutates()
        a.path("write", Word(".", "."), c.cwd, via="cpio -i")
        if p.has("d") or p.has("u"):
            a.add("fs.write.unresolved", "cpio -i writes the paths stored in the archive, "
                  "which may lie outside the workspace", None)
    for v in p.all_values("F", "file", "I", "O", "E", "pattern-file"):
        a.path("read", v, c.cwd, via="cpio")
    rsh = p.value("rsh-command")
    if rsh is not None:
        a.nested(rsh.text, c.cwd, c.depth, "cpio --rsh-command")


def h_make(a: Analyzer, c: Cmd) -> None:
    """make runs the project's Makefile (ordinary work); --eval adds code that may run anything."""
    p = opts.parse(c.args, short_val="CfIoWEjlO", long_val=frozenset({
        "directory", "file", "makefile", "include-dir", "old-file", "assume-old", "what-if",
        "new-file", "assume-new", "eval", "jobs", "load-average", "output-sync"}))
    for v in p.all_values("E", "eval"):
        make_code(a, c, v.text)
    for v in p.all_values("f", "file", "makefile"):
        a.path("read", v, c.cwd, via="make -f")


def make_code(a: Analyzer, c: Cmd, code: str) -> None:
    i = code.find("$(")
    while i != -1:
        j = code.find(")", i)
        body = code[i + 2:j if j != -1 else len(code)]
        fn, _, rest = body.partition(" ")
        if fn == "shell":
            a.nested(rest, c.cwd, c.depth, "make $(shell)")
        elif fn == "file":
            target = rest.split(",", 1)[0].strip()
            if target.startswith(">"):
                a.path("write", Word(target.lstrip("> "), target), c.cwd, via="make $(file)")
            elif target.startswith("<"):
                a.path("read", Word(target.lstrip("< "), target), c.cwd, via="make $(file)")
        i = code.find("$(", i + 2)


def h_tex(a: Analyzer, c: Cmd) -> None:
    r"""TeX reads files named in its source (\input, \verbatiminput) and may run commands (\write18)."""
    for w in c.args:
        if w.text.startswith("-"):
            continue
        if "\\" in w.text or "{" in w.text:
            tex_code(a, c, w.text)
        else:
            a.path("read", w, c.cwd, via=c.name)
            content = a.written.get(a.resolve(w, c.cwd) or "")
            if content is not None:
                tex_code(a, c, content)


def tex_code(a: Analyzer, c: Cmd, code: str) -> None:
    for macro in ("input", "include", "verbatiminput", "lstinputlisting", "openin", "includegraphics",
                  "VerbatimInput", "read"):
        start = 0
        needle = "\\" + macro
        while True:
            i = code.find(needle, start)
            if i == -1:
                break
            j = code.find("{", i)
            k = code.find("}", j)
            if j != -1 and k != -1 and j - i < len(needle) + 20:
                target = code[j + 1:k]
                a.path("read", Word(target, target), c.cwd, via=f"{c.name} \\{macro}")
            start = i + len(needle)
    i = code.find("write18{")
    if i != -1:
        # Honoured only with --shell-escape (or a restricted list), but checked regardless.
        k = code.find("}", i)
        a.nested(code[i + 8:k if k != -1 else len(code)], c.cwd, c.depth, f"{c.name} \\write18")


def h_memory(a: Analyzer, c: Cmd) -> None:
    a.add("secrets.mention", f"{c.name} dumps or exposes a running process's memory, which holds "
          "its keys and tokens; ask the user", c.name)


def h_chmod(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, long_val=frozenset({"reference"}))
    ops = list(p.operands)
    # Modes such as -w or -x look like options; chmod takes them as the mode.
    mode = None
    short_modes = [f for f in p.flags if len(f) <= 3 and set(f) <= set("rwxXst")]
    if short_modes and not p.value("reference"):
        mode = "-" + short_modes[0]
    elif ops and not p.value("reference"):
        mode = ops.pop(0).text
    recursive = "R" in p.flags or "recursive" in p.flags
    if mode is not None and _loose_mode(mode):
        a.add("priv.chmod", f"chmod {mode} makes files world-writable or setuid; grant the "
              "narrowest permission that works (for a script, chmod +x or 755)", mode)
    for w in ops:
        a.path("write", w, c.cwd, via=f"chmod{' -R' if recursive else ''}", recursive=recursive)


def _loose_mode(mode: str) -> bool:
    if mode.isdigit():
        digits = mode[-4:] if len(mode) >= 4 else mode
        if len(mode) >= 4 and mode[-4] in "1234567" and mode[-4] not in "1":
            return True
        return digits[-1] in "2367" or (len(digits) >= 2 and digits[-2] in "2367" and digits[-1] in "2367")
    return ("s" in mode and "+" in mode) or any(
        part.startswith(("o+", "a+", "+")) and "w" in part.split("+", 1)[1]
        for part in mode.split(",")) or (mode.startswith("o=") and "w" in mode)


def h_chown(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, long_val=frozenset({"reference", "from"}))
    ops = list(p.operands)
    owner = ops.pop(0).text if ops and not p.value("reference") else ""
    a.add("priv.chown", f"{c.name} changes who owns files; ownership is the user's decision", owner)
    for w in ops:
        a.path("write", w, c.cwd, via=c.name, recursive="R" in p.flags)


def h_find(a: Analyzer, c: Cmd) -> None:
    args = c.args
    i = 0
    while i < len(args) and args[i].text in ("-H", "-L", "-P", "-O0", "-O1", "-O2", "-O3", "-D"):
        i += 2 if args[i].text == "-D" else 1
    starts: list[Word] = []
    while i < len(args) and not (args[i].text.startswith("-") or args[i].text in ("(", "!", ")", ",")):
        starts.append(args[i])
        i += 1
    if not starts:
        starts = [Word(".", ".")]
    names: list[str] = []
    j = i
    while j < len(args):
        t = args[j].text
        if t in ("-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex",
                 "-iregex", "-lname", "-ilname") and j + 1 < len(args):
            val = args[j + 1].text
            if val not in ("*", "*.*", ".*") and not (j > 0 and args[j - 1].text in ("!", "-not")):
                names.append(val if t in ("-name", "-iname") else "")
            j += 2
            continue
        j += 1
    filtered = bool(names)
    literal_names = [n for n in names if n and not any(ch in n for ch in "*?[")]
    shallow = any(args[k].text == "-maxdepth" and args[k + 1].text == "1"
                  for k in range(len(args) - 1))
    name_pattern = next((n for n in names if n), None)
    while i < len(args):
        t = args[i].text
        if t == "-delete":
            for s in starts:
                if filtered:
                    base = a.resolve(s, c.cwd)
                    if base is not None:
                        for n in literal_names or ["\x01"]:
                            a.path("delete", Word(f"{base}/{n}" if n != "\x01" else base + "/x",
                                                  s.raw), c.cwd, via="find -delete")
                    else:
                        a.path("delete", s, c.cwd, via="find -delete")
                else:
                    _find_all(a, s, c, "find -delete")
            i += 1
        elif t in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            inner: list[Word] = []
            while j < len(args) and args[j].text not in (";", "+"):
                inner.append(args[j])
                j += 1
            for s in starts[:4]:
                base = a.resolve(s, c.cwd)
                if base is None:
                    rep = Word(UNKNOWN, "{}")
                elif filtered:
                    # {} is each match of the name filter, under the start folder.
                    n = literal_names[0] if literal_names else (name_pattern or "*")
                    where = base if shallow else f"{base}/**"
                    rep = Word(f"{where}/{n}", "{}", glob=not literal_names or not shallow)
                elif s.text.rstrip("/") in (".", ""):
                    # find . passes "." and then everything under it; rm refuses ".", so
                    # the effect is on everything inside the folder.
                    rep = Word(base.rstrip("/") + "/*", "{}", glob=True)
                else:
                    rep = Word(base, "{}")
                argv = [Word(w.text.replace("{}", rep.text), w.raw, w.quoted, rep.glob)
                        if "{}" in w.text else w for w in inner]
                if argv:
                    a.argv(c.sub(argv))
            i = j + 1
        elif t in ("-fprint", "-fprint0", "-fls", "-fprintf") and i + 1 < len(args):
            a.path("write", args[i + 1], c.cwd, via=f"find {t}")
            i += 3 if t == "-fprintf" else 2
        else:
            i += 1


def _find_all(a: Analyzer, start: Word, c: Cmd, via: str) -> None:
    base = a.resolve(start, c.cwd)
    if base is None:
        a.path("delete", start, c.cwd, recursive=True, via=via)
        return
    if base == a.root:
        a.add("fs.delete.workspace-all", f"{via} in the workspace root would delete every file "
              "in it, .git included; delete the specific files or folders instead", base)
        return
    a.path("delete", Word(base, start.raw), c.cwd, recursive=True, via=via)


def h_tar(a: Analyzer, c: Cmd) -> None:
    args = c.args
    first = args[0].text if args else ""
    if first and not first.startswith("-") and set(first) <= set("cxtrufvzjJpPaOkmwhSZC"):
        args = [Word("-" + first, args[0].raw), *args[1:]]
    p = opts.parse(args, short_val="fCTXIKNLFbgV", long_val=frozenset({
        "file", "directory", "files-from", "exclude-from", "use-compress-program", "to-command",
        "rsh-command", "transform", "xform", "checkpoint-action", "owner", "group", "mode",
        "newer", "after-date", "exclude", "label", "info-script", "new-volume-script"}))
    for key in ("I", "use-compress-program", "to-command", "info-script", "new-volume-script",
                "rsh-command"):
        v = p.value(key)
        if v is not None:
            a.nested(v.text, c.cwd, c.depth, f"tar --{key}")
    for v in p.all_values("checkpoint-action"):
        if v.text.startswith("exec="):
            a.nested(v.text[5:], c.cwd, c.depth, "tar --checkpoint-action")
    archive = p.value("f", "file")
    extract = p.has("x", "extract", "get")
    create = p.has("c", "create", "r", "append", "u", "update")
    if archive is not None and ":" in archive.text and not archive.text.startswith("/"):

        a.contact(archive.text.split(":")[0].split("@")[-1], "shell", "tar with a remote archive")
    if extract:
        a.mutates()
        dest = p.value("C", "directory")
        if p.has("P", "absolute-names") or p.value("transform", "xform") is not None:
            a.add("fs.write.unresolved", "tar would extract to paths the archive chooses "
                  "(--absolute-names or --transform); extract into a folder of the workspace",
                  archive.text if archive else None)
        a.path("write", dest if dest is not None else Word(".", "."), c.cwd, via="tar -x")
    if create:
        if archive is not None and archive.text != "-":
            a.path("write", archive, c.cwd, via="tar -c")
        for w in p.operands:
            a.path("read", w, c.cwd, via="tar -c", recursive=True)
    elif archive is not None:
        a.path("read", archive, c.cwd, via="tar")


def h_archive(a: Analyzer, c: Cmd) -> None:
    """zip, unzip, 7z, gzip...: writes archives or extracts; reads what it packs."""
    p = opts.parse(c.args, short_val="dxio" if c.name == "unzip" else "")
    if c.name == "unzip":
        if p.has("l", "Z", "v", "t", "p", "c"):
            return
        a.mutates()
        dest = p.value("d")
        a.path("write", dest if dest is not None else Word(".", "."), c.cwd, via="unzip")
        return
    a.mutates()
    for w in p.operands:
        a.path("read", w, c.cwd, via=c.name, recursive=True)


def sed_script(a: Analyzer, script: str, c: Cmd) -> None:
    """GNU sed can write files (w), read them (r) and run commands (e)."""
    for raw in script.replace(";", "\n").splitlines():
        s = raw.strip()
        while s and (s[0].isdigit() or s[0] in "$,~!+ "):
            s = s[1:]
        if s.startswith("/"):
            end = s.find("/", 1)
            s = s[end + 1:].lstrip(",0123456789$!/ ") if end != -1 else ""
        if not s:
            continue
        cmd = s[0]
        arg = s[1:].strip()
        if cmd in "wW" and arg:
            a.path("write", Word(arg, arg), c.cwd, via="sed w")
            a.mutates()
        elif cmd in "rR" and arg:
            a.path("read", Word(arg, arg), c.cwd, via="sed r")
        elif cmd == "e":
            a.add("exec.dynamic", "sed's e command runs shell commands", raw.strip()[:60])
        elif cmd == "s" and len(s) > 1:
            delim = s[1]
            parts = s[2:].split(delim)
            if len(parts) >= 3:
                flags = delim.join(parts[2:])
                if "w" in flags:
                    target = flags[flags.index("w") + 1:].strip()
                    if target:
                        a.path("write", Word(target, target), c.cwd, via="sed s///w")
                        a.mutates()
                if "e" in flags.split("w")[0]:
                    a.add("exec.dynamic", "sed's s///e flag runs the result as a shell command",
                          raw.strip()[:60])
