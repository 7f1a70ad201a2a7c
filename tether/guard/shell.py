"""Reading a shell command into simple commands.

Every simple command becomes a :class:`Simple` with its words evaluated (parts
known only at run time become the marker ``UNKNOWN``), its redirections, any
here-document text, and the commands whose output feeds its standard input.
The working folder is tracked through ``cd``. Nothing here evaluates the
command; the text is data.

Most commands an agent runs are plain words, quotes, pipes, ``&&`` lists and
simple redirections (``cd src && pytest -x 2>&1 | tail``). Those are read here
by a small tokenizer, which keeps the hook from loading the parser at all.
Anything beyond that subset goes to :mod:`tether.guard.walker`, which walks a
tree-sitter-bash parse tree. The two agree on the subset; a property test
checks it.
"""

from __future__ import annotations

from tether.guard.syntax import (
    MAX_COMMANDS,
    MAX_DEPTH,
    UNKNOWN,
    ParseState,
    Redirect,
    Script,
    Simple,
    Word,
    env_value,
    feed,
    track_cwd,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass


# Characters the fast path reads itself. Anything else ($, `, \\, parentheses, braces, !, #,
# newlines, non-ASCII) sends the command to the tree-sitter parser.
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "_-./=:,@%+~*?^")
# Commands longer than this go straight to the tree walk.
FAST_LIMIT = 65536
# A command with more pipe operators than this is not parsed (see parse()).
PIPE_LIMIT = 3000
_RESERVED = frozenset({"if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while",
                       "until", "do", "done", "in", "function", "time", "coproc", "{", "}", "!",
                       "[[", "]]"})



# ---------------------------------------------------------------------------
# The fast path


class _Fallback(Exception):
    """The command is outside the subset the fast path reads."""


class _Tok:
    """A token of the fast path: a word, an operator (&& || ; & |) or a redirection."""

    __slots__ = ("fd", "kind", "op", "word")

    def __init__(self, kind: str, word: Word | None = None, op: str = "", fd: str | None = None) -> None:
        self.kind = kind
        self.word = word
        self.op = op
        self.fd = fd


def _tokens(command: str) -> list[_Tok]:
    """The tokens of a command in the fast path's subset; raises _Fallback otherwise."""
    out: list[_Tok] = []
    text: list[str] = []
    raw_start = -1
    quoted = glob = started = False
    tilde = False
    i = 0
    n = len(command)

    inner: list[Simple] | None = None

    def end_word(pos: int) -> None:
        nonlocal text, quoted, glob, started, tilde, raw_start, inner
        if started:
            w = Word("".join(text), command[raw_start:pos], quoted, glob, tilde)
            w.inner = inner
            out.append(_Tok("word", w))
        text, quoted, glob, started, tilde, raw_start, inner = [], False, False, False, False, -1, None

    while i < n:
        ch = command[i]
        if ch in " \t":
            end_word(i)
            i += 1
            continue
        if ch == "\n":
            end_word(i)
            if out and out[-1].kind != "op":
                out.append(_Tok("op", op=";"))
            i += 1
            continue
        if ch == "'":
            j = command.find("'", i + 1)
            if j == -1:
                raise _Fallback
            if not started:
                raw_start = i
            started = quoted = True
            text.append(command[i + 1:j])
            i = j + 1
            continue
        if ch == '"':
            if command.startswith('"$(cat <<', i):
                # The commit-message idiom: "$(cat <<'EOF' ... EOF)". Its value is only
                # known at run time; the cat that produces it reads a literal here-document.
                end, body = _cat_heredoc(command, i)
                if started:
                    raise _Fallback
                cat = Simple([Word("cat", "cat")], None)
                cat.redirects.append(Redirect("<<", None, None, body))
                cat.stdin = body
                raw_start, started, quoted, inner = i, True, True, [cat]
                text.append(UNKNOWN)
                i = end
                continue
            j = i + 1
            buf: list[str] = []
            while j < n and command[j] != '"':
                c = command[j]
                if c in "$`":
                    raise _Fallback
                if c == "\\" and j + 1 < n:
                    nxt = command[j + 1]
                    if nxt in '$`"\\':
                        buf.append(nxt)
                        j += 2
                        continue
                    if nxt == "\n":
                        j += 2
                        continue
                buf.append(c)
                j += 1
            if j >= n:
                raise _Fallback
            if not started:
                raw_start = i
            started = quoted = True
            text.append("".join(buf))
            i = j + 1
            continue
        if ch in "|&;<>":
            fd: str | None = None
            if ch in "<>" and started and not quoted and text and "".join(text).isdigit():
                fd = "".join(text)
                text, started, raw_start = [], False, -1
            end_word(i)
            two = command[i:i + 2]
            three = command[i:i + 3]
            if two in ("&&", "||"):
                out.append(_Tok("op", op=two))
                i += 2
            elif two in ("|&", ";;", "<<", "<>", "<&", ">|"):
                raise _Fallback
            elif three == "&>>":
                out.append(_Tok("redir", op="&>>"))
                i += 3
            elif two == "&>":
                out.append(_Tok("redir", op="&>"))
                i += 2
            elif two in (">>", ">&"):
                out.append(_Tok("redir", op=two, fd=fd))
                i += 2
            elif ch in "<>":
                out.append(_Tok("redir", op=ch, fd=fd))
                i += 1
            else:
                out.append(_Tok("op", op=ch))
                i += 1
            continue
        if ch not in _WORD_CHARS:
            raise _Fallback
        if not started:
            raw_start = i
            started = True
            tilde = ch == "~"
        if ch in "*?[":
            glob = True
        text.append(ch)
        i += 1
    end_word(n)
    return out


def _cat_heredoc(command: str, i: int) -> tuple[int, str]:
    """Read `"$(cat <<'EOF'\\n...\\nEOF\\n)"` at i: (index after it, here-document body)."""
    j = i + len('"$(cat <<')
    rest = command[j:]
    if not rest or rest[0] not in "'\"":
        raise _Fallback
    q = rest[0]
    k = rest.find(q, 1)
    if k == -1:
        raise _Fallback
    delim = rest[1:k]
    if not delim or not all(ch.isalnum() or ch == "_" for ch in delim):
        raise _Fallback
    after = j + k + 1
    if not command.startswith("\n", after):
        raise _Fallback
    lines_start = after + 1
    pos = lines_start
    while True:
        nl = command.find("\n", pos)
        if nl == -1:
            raise _Fallback
        if command[pos:nl] == delim:
            break
        pos = nl + 1
    body = command[lines_start:pos]
    tail = command[nl + 1:]
    if not tail.startswith(')"'):
        raise _Fallback
    return nl + 3, body


def fast_parse(command: str, cwd: str | None, home: str) -> Script | None:
    """Read a command in the simple subset, or None when the parser is needed."""
    if len(command) > FAST_LIMIT:
        # The tokenizer reads everything before it splits; the tree walk stops at
        # MAX_COMMANDS, so a huge script is decided sooner there.
        return None
    try:
        tokens = _tokens(command)
    except _Fallback:
        return None
    if not tokens:
        return None
    script = Script()
    # Split into statements (&& || ; &) and pipeline stages (|).
    statements: list[list[list[_Tok]]] = [[[]]]
    for tok in tokens:
        if tok.kind == "op" and tok.op in ("&&", "||", ";", "&"):
            statements.append([[]])
        elif tok.kind == "op":
            statements[-1].append([])
        else:
            statements[-1][-1].append(tok)
    if statements[-1] == [[]] and len(statements) > 1 and tokens[-1].op in (";", "&"):
        statements.pop()
    for stages in statements:
        producers: list[Simple] = []
        for stage in stages:
            if len(script.commands) >= MAX_COMMANDS:
                # The same limit as the tree walk: beyond it the command is not read further.
                script.problems.append("too many commands to analyse")
                return script
            cmd = _fast_simple(stage, cwd, home)
            if cmd is None:
                return None
            created: list[Simple] = []
            for w in cmd.argv:
                for sub in w.inner or ():
                    sub.cwd = cmd.cwd
                    created.append(sub)
            created.append(cmd)
            for c in created:
                if producers:
                    feed(c, producers)
                script.commands.append(c)
            producers.extend(created)
            if len(stages) == 1:
                cwd = track_cwd(command_word(cmd), cmd.argv, cwd, home)
    return script


def command_word(cmd: Simple) -> str:
    return cmd.argv[0].text if cmd.argv else ""


def _fast_simple(stage: list[_Tok], cwd: str | None, home: str) -> Simple | None:
    argv: list[Word] = []
    assigns: list[tuple[str, Word]] = []
    redirects: list[Redirect] = []
    i = 0
    while i < len(stage):
        tok = stage[i]
        if tok.kind == "redir":
            nxt = stage[i + 1] if i + 1 < len(stage) else None
            if nxt is None or nxt.word is None:
                return None
            target = nxt.word
            if tok.op == ">&" and not (target.text.isdigit() or target.text == "-"):
                return None
            redirects.append(Redirect(tok.op, tok.fd, target))
            i += 2
            continue
        w = tok.word
        if w is None:
            return None
        if not argv and "=" in w.raw and not _is_name(w.raw.split("=", 1)[0]):
            # `1A=2 cmd`, `--x=y`: bash runs a command of that odd name; the grammar
            # reads an assignment. Leave such lines to the parser's error handling.
            return None
        if not argv and "=" in w.raw and _is_name(w.raw.split("=", 1)[0]):
            name, value_text = w.text.split("=", 1)
            assigns.append((name, Word(value_text, w.raw, w.quoted, False, False)))
        else:
            argv.append(w)
        i += 1
    if not argv or argv[0].text in _RESERVED or argv[0].raw.startswith("-"):
        # A command named like an option is left to the parser, which has its own view.
        return None
    cmd = Simple(argv, cwd)
    cmd.redirects = redirects
    cmd.assigns = assigns
    if assigns:
        st = ParseState(cwd, {})
        cmd.old_vars = {k: env_value(k, st, home) for k, _ in assigns}
        cmd.vars = {k: v.text for k, v in assigns}
    return cmd


# ---------------------------------------------------------------------------
# Entry point


def parse(command: str, cwd: str | None, home: str, depth: int = 0,
          variables: dict[str, str | None] | None = None) -> Script:
    """Read a command line into its simple commands. Never raises on any input text."""
    if depth > MAX_DEPTH:
        s = Script()
        s.problems.append("commands nested too deeply to analyse")
        return s
    if not variables:
        fast = fast_parse(command, cwd, home)
        if fast is not None:
            return fast
    if len(command) > FAST_LIMIT and count_pipes(command, PIPE_LIMIT) > PIPE_LIMIT:
        # tree-sitter-bash takes time quadratic in a pipeline's length (seconds at 8,000
        # stages); a pipeline this long has more stages than the guard reads anyway.
        s = Script()
        s.problems.append("too many commands to analyse")
        return s
    from tether.guard.walker import parse_tree

    return parse_tree(command, cwd, home, depth, variables)


def count_pipes(text: str, stop: int) -> int:
    """Pipe operators in a command, outside quotes, comments and here-documents.

    An upper bound good enough to refuse absurdly long pipelines before parsing them;
    counting stops once past ``stop``.
    """
    n = 0
    i = 0
    end = len(text)
    heredocs: list[str] = []
    at_word_start = True
    while i < end and n <= stop:
        c = text[i]
        if c == "\\":
            i += 2
            at_word_start = False
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = end if j < 0 else j + 1
            at_word_start = False
            continue
        if c == '"':
            j = i + 1
            while j < end and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            at_word_start = False
            continue
        if c == "#" and at_word_start:
            j = text.find("\n", i)
            i = end if j < 0 else j
            continue
        if c == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
            j = i + 2
            if j < end and text[j] == "-":
                j += 1
            while j < end and text[j] in " \t":
                j += 1
            k = j
            while k < end and text[k] not in " \t\n;&|<>()":
                k += 1
            word = text[j:k].strip("'\"")
            if word:
                heredocs.append(word)
            i = k
            at_word_start = False
            continue
        if c == "\n" and heredocs:
            # Skip the bodies of the here-documents started on this line.
            i += 1
            for word in heredocs:
                while i < end:
                    j = text.find("\n", i)
                    line = text[i:end if j < 0 else j]
                    i = end if j < 0 else j + 1
                    if line.strip("\t") == word:
                        break
            heredocs = []
            at_word_start = True
            continue
        if c == "|":
            if text.startswith("||", i):
                i += 2
            else:
                n += 1
                i += 1
            at_word_start = True
            continue
        at_word_start = c in " \t\n;&()"
        i += 1
    return n


def _is_name(s: str) -> bool:
    return bool(s) and (s[0].isalpha() or s[0] == "_") and all(c.isalnum() or c == "_" for c in s)


def split_words(text: str) -> list[str]:
    """Split text on blanks, honouring simple quotes (for env -S, watch and similar)."""
    out: list[str] = []
    cur: list[str] = []
    quote = ""
    started = False
    for c in text:
        if quote:
            if c == quote:
                quote = ""
            else:
                cur.append(c)
        elif c in "'\"":
            quote = c
            started = True
        elif c.isspace():
            if started or cur:
                out.append("".join(cur))
                cur = []
                started = False
        else:
            cur.append(c)
    if cur or started:
        out.append("".join(cur))
    return out
