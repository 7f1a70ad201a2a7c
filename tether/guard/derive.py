"""Where a path known only at run time can point, judged from the commands that produce it.

``rm -f $(find src -name '*.pyc')`` deletes files under ``src``;
``cat $(find ~ -name id_rsa)`` reads private keys; ``tmp=$(mktemp -d); rm -rf "$tmp"``
deletes a fresh temporary folder. The parsers keep, for a word whose value comes
from a command substitution (directly or through a variable), the commands that
produce it (``Word.inner``). This module turns the last of them into stand-ins:
paths, possibly with glob patterns, that cover every value the command can print.
The analyser judges the stand-ins as it judges literal paths, so a deletion under
the workspace stays allowed and a read of a secret is refused. Anything it cannot
follow stays unresolved (and destructive effects on it are asked about).

Nothing runs: this reads the producing command's words, as the rest of the guard does.
"""

from __future__ import annotations

import os

from tether.guard.base import printed_text
from tether.guard.syntax import UNKNOWN, Simple, Word, command_name, expand_user

# Programs that pass lines through (possibly fewer of them): `find ... | head -1`.
_FILTERS = frozenset({"head", "tail", "sort", "uniq", "grep", "egrep", "fgrep", "rg", "shuf",
                      "tac", "cat", "xargs"})
# Options of find that take a value.
_FIND_VALUE = frozenset({"-name", "-iname", "-path", "-ipath", "-regex", "-iregex", "-type",
                         "-maxdepth", "-mindepth", "-newer", "-user", "-group", "-perm", "-size",
                         "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-wholename",
                         "-iwholename", "-samefile", "-links", "-inum", "-fstype", "-printf",
                         "-fprint", "-fprintf", "-fls", "-exec", "-execdir", "-ok", "-okdir"})
_MKTEMP_NAME = "tmp.tether-mktemp"


def stand_ins(word: Word, cwd: str | None, root: str, home: str) -> list[Word] | None:
    """Words that cover every value ``word`` can take, or None when that cannot be told."""
    if word.text.count(UNKNOWN) != 1 or not word.inner:
        return None
    last = _source(word.inner)
    if last is None or not last.argv or any(w.dynamic for w in last.argv):
        return None
    argv = [expand_user(w.text, home) if w.tilde else w.text for w in last.argv]
    values = _values(argv, last.cwd or cwd, root)
    if values is None:
        return None
    head, _, tail = word.text.partition(UNKNOWN)
    out = []
    for value, glob in values:
        text = head + value + tail
        out.append(Word(text, word.raw, word.quoted, glob or word.glob, False))
    return out


def _source(inner: list[Simple]) -> Simple | None:
    """The command whose output the value is: the last one, through any filters."""
    cmd = inner[-1]
    for _ in range(16):
        name = command_name(cmd.argv[0].text) if cmd.argv else ""
        if name not in _FILTERS or not cmd.producers:
            return cmd
        # A filter with a file operand reads that file instead of its input.
        if name in ("cat", "tac") and len(cmd.argv) > 1:
            return cmd
        cmd = cmd.producers[-1]
    return None


def _values(argv: list[str], cwd: str | None, root: str) -> list[tuple[str, bool]] | None:
    name = command_name(argv[0])
    args = argv[1:]
    if name == "mktemp":
        return [(_mktemp(args, cwd), False)]
    if name == "pwd":
        return [(cwd, False)] if cwd is not None else None
    if name == "git" and args[:2] == ["rev-parse", "--show-toplevel"]:
        return [(root, False)]
    if name in ("realpath", "readlink") and args:
        target = [a for a in args if not a.startswith("-")]
        resolved = _absolute(target[0], cwd) if len(target) == 1 else None
        return [(resolved, False)] if resolved else None
    if name == "dirname" and len(args) == 1 and not args[0].startswith("-"):
        path = _absolute(args[0], cwd)
        return [(os.path.dirname(path), False)] if path else None
    if name in ("find", "fd", "fdfind"):
        return _find(name, args, cwd)
    if name == "ls":
        operands = [a for a in args if not a.startswith("-")]
        paths = [_absolute(o, cwd) for o in operands or ["."]]
        if any(p is None for p in paths):
            return None
        # ls DIR prints the names in it; ls FILE or a glob prints the paths themselves.
        return [(p if not os.path.isdir(p) else p + "/*", True) for p in paths if p]
    if name == "git" and args[:1] == ["ls-files"]:
        return [(os.path.join(cwd or root, "**"), True)]
    return None


def _find(name: str, args: list[str], cwd: str | None) -> list[tuple[str, bool]] | None:
    roots: list[str] = []
    names: list[str] = []
    i = 0
    if name == "find":
        while i < len(args) and args[i] in ("-H", "-L", "-P"):
            i += 1
        while i < len(args) and not args[i].startswith(("-", "(", "!")):
            roots.append(args[i])
            i += 1
        while i < len(args):
            a = args[i]
            if a in ("-name", "-iname") and i + 1 < len(args):
                names.append(args[i + 1])
            if a in _FIND_VALUE:
                i += 2
            else:
                i += 1
    else:
        operands = [a for a in args if not a.startswith("-")]
        if operands:
            names.append("*" + operands[0] + "*")
        roots.extend(operands[1:2])
    out: list[tuple[str, bool]] = []
    for r in roots or ["."]:
        base = _absolute(r, cwd)
        if base is None:
            return None
        for n in names or ["*"]:
            # `**` stands for any depth; a name pattern also stands for its plain forms, so
            # that '.env*' is judged like .env and .env.local.
            for variant in _variants(n):
                out.append((base.rstrip("/") + "/**/" + variant, True))
    return out


def _variants(pattern: str) -> list[str]:
    if "*" not in pattern:
        return [pattern]
    out = [pattern, pattern.replace("*", ""), pattern.replace("*", ".local")]
    return list(dict.fromkeys(v for v in out if v))


def _mktemp(args: list[str], cwd: str | None) -> str:
    folder = os.environ.get("TMPDIR") or "/tmp"
    template: str | None = None
    i = 0
    tmpdir_opt = False
    while i < len(args):
        a = args[i]
        if a in ("-p", "--tmpdir") and i + 1 < len(args):
            folder = args[i + 1]
            tmpdir_opt = True
            i += 2
            continue
        if a.startswith("--tmpdir="):
            folder = a.split("=", 1)[1]
            tmpdir_opt = True
        elif a in ("-t",):
            tmpdir_opt = True
        elif not a.startswith("-"):
            template = a
        i += 1
    if template is not None:
        if "/" in template:
            return os.path.join(os.path.dirname(_absolute(template, cwd) or template), _MKTEMP_NAME)
        if not tmpdir_opt:
            # A bare template names a file in the working folder.
            return os.path.join(cwd or folder, _MKTEMP_NAME)
    return os.path.join(folder, _MKTEMP_NAME)


def _absolute(text: str, cwd: str | None) -> str | None:
    if text.startswith("/"):
        return os.path.normpath(text)
    if cwd is None:
        return None
    return os.path.normpath(os.path.join(cwd, text))


def literal_value(word: Word, home: str) -> str | None:
    """The value of a word whose one unknown part is an echo or printf of literal words.

    ``sh -c "$(echo tether uninstall)"`` runs exactly ``tether uninstall``.
    """
    if word.text.count(UNKNOWN) != 1 or not word.inner:
        return None
    last = word.inner[-1]
    if not last.argv or any(w.dynamic for w in last.argv) or last.producers:
        return None
    text = printed_text(last, home)
    if text is None:
        return None
    head, _, tail = word.text.partition(UNKNOWN)
    # A command substitution drops the trailing newlines of what it captured.
    return head + text.rstrip("\n") + tail
