"""Walking a tree-sitter-bash parse tree into simple commands.

The tree is walked in execution order while tracking what the guard can know
statically: the working folder (``cd`` and ``pushd``), variables assigned
earlier with literal values, and a few well-known environment variables.
Commands inside substitutions, conditions, loops and function bodies are
collected too: they run as well. Nothing is evaluated.

Loading tree-sitter through its package ``__init__`` imports ``typing`` and
``importlib.resources``; the compiled extension modules are loaded directly
instead, which keeps the hook's start-up cost down.
"""

from __future__ import annotations

import sys

from tether.guard.syntax import (
    FOR_VALUES,
    MAX_COMMANDS,
    UNKNOWN,
    ParseState,
    Redirect,
    Script,
    Simple,
    Word,
    decode_ansi_c,
    env_value,
    expand_user,
    feed,
    track_cwd,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_lock: Any = None
_parser: Any = None


# ---------------------------------------------------------------------------
# Loading tree-sitter


def _load_extension(package: str, name: str) -> Any:
    full = f"{package}.{name}"
    module = sys.modules.get(full)
    if module is not None:
        return module
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(package)
    sub = PathFinder.find_spec(full, list(spec.submodule_search_locations))
    if sub is None or sub.loader is None:
        raise ImportError(full)
    module = sub.loader.create_module(sub)
    if module is None:
        raise ImportError(full)
    sys.modules[full] = module
    sub.loader.exec_module(module)
    return module


def get_parser() -> Any:
    global _parser, _lock
    if _parser is None:
        try:
            ts = _load_extension("tree_sitter", "_binding")
            tsb = _load_extension("tree_sitter_bash", "_binding")
        except ImportError:
            import tree_sitter as ts
            import tree_sitter_bash as tsb
        import _thread

        _lock = _thread.allocate_lock()
        _parser = ts.Parser(ts.Language(tsb.language()))
    return _parser


def _unescape_word(raw: str) -> tuple[str, bool]:
    """Remove backslash quoting from an unquoted word; report unquoted glob characters."""
    out: list[str] = []
    glob = False
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
            continue
        if c in "*?[":
            glob = True
        out.append(c)
        i += 1
    return "".join(out), glob


def _unescape_dq(raw: str) -> str:
    """Backslash handling inside double quotes: only $ ` \" \\ and newline are special."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw) and raw[i + 1] in '$`"\\\n':
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _Walker:
    def __init__(self, home: str, depth: int) -> None:
        self.home = home
        self.depth = depth
        self.script = Script()
        self.functions: dict[str, int] = {}
        self.current_function: str | None = None
        self.self_calls = 0
        self.self_spawn = False
        self.in_pipeline = 0
        self.ignored_missing: set[int] = set()
        self.data: bytes | None = None
        # Filled while one word is evaluated: commands behind the variables it expands,
        # and whether it expands a variable that stands for a glob's match.
        self.var_inner: list[Simple] = []
        self.pattern_seen = False

    # -- words ------------------------------------------------------------

    def text(self, node: Any) -> str:
        # Sliced from the original bytes: the parser saw non-ASCII bytes replaced (see parse_tree).
        data = self.data or b""
        return data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def word(self, node: Any, st: ParseState) -> list[Word]:
        """Evaluate one argument node; unquoted expansions may split into several words."""
        start = len(self.script.commands)
        saved = self.var_inner, self.pattern_seen
        self.var_inner, self.pattern_seen = [], False
        try:
            out = self._word(node, st)
            inner = [*self.script.commands[start:], *self.var_inner]
            for w in out:
                if inner:
                    w.inner = inner
                if self.pattern_seen:
                    w.glob = True
        finally:
            self.var_inner, self.pattern_seen = saved
        return out

    def _word(self, node: Any, st: ParseState) -> list[Word]:
        t = node.type
        if t in ("simple_expansion", "expansion"):
            value = self.expansion(node, st)
            if value is None:
                return [Word(UNKNOWN, self.text(node))]
            parts = value.split()
            return [Word(p, self.text(node), glob=any(c in p for c in "*?[")) for p in parts] or []
        text, quoted, glob, tilde = self.parts(node, st)
        return [Word(text, self.text(node), quoted, glob, tilde)]

    def parts(self, node: Any, st: ParseState) -> tuple[str, bool, bool, bool]:
        """(text, quoted, glob, tilde) for a word-like node."""
        t = node.type
        if t == "word" or t == "number":
            raw = self.text(node)
            text, glob = _unescape_word(raw)
            return text, False, glob, raw.startswith("~")
        if t == "raw_string":
            raw = self.text(node)
            return raw[1:-1] if len(raw) >= 2 else "", True, False, False
        if t == "ansi_c_string":
            raw = self.text(node)
            return decode_ansi_c(raw[2:-1]), True, False, False
        if t in ("string", "translated_string"):
            out: list[str] = []
            for c in node.children:
                ct = c.type
                if ct == "string_content":
                    out.append(_unescape_dq(self.text(c)))
                elif ct in ("simple_expansion", "expansion"):
                    v = self.expansion(c, st)
                    out.append(UNKNOWN if v is None else v)
                elif ct in ("command_substitution", "arithmetic_expansion", "process_substitution"):
                    self.substitution(c, st)
                    out.append(UNKNOWN)
                elif ct in ('"', '$"'):
                    continue
                else:
                    out.append(self.text(c))
            return "".join(out), True, False, False
        if t == "concatenation":
            texts: list[str] = []
            quoted = glob = False
            tilde = False
            for i, c in enumerate(node.children):
                if c.type in ("simple_expansion", "expansion"):
                    v = self.expansion(c, st)
                    texts.append(UNKNOWN if v is None else v)
                    continue
                ct, cq, cg, ctilde = self.parts(c, st)
                texts.append(ct)
                quoted = quoted or cq
                glob = glob or cg
                if i == 0:
                    tilde = ctilde
            return "".join(texts), quoted, glob, tilde
        if t in ("simple_expansion", "expansion"):
            v = self.expansion(node, st)
            return (UNKNOWN if v is None else v), False, False, False
        if t in ("command_substitution", "process_substitution", "arithmetic_expansion"):
            self.substitution(node, st)
            return UNKNOWN, False, False, False
        if t == "brace_expression":
            return UNKNOWN, False, True, False
        # Anything else (regex, arrays, ...) is looked into for substitutions and left unknown.
        self.scan(node, st)
        return UNKNOWN, False, False, False

    def expansion(self, node: Any, st: ParseState) -> str | None:
        name: str | None = None
        operator: str | None = None
        default: Any = None
        simple = True
        for c in node.children:
            ct = c.type
            if ct == "variable_name":
                name = self.text(c)
            elif ct == "special_variable_name":
                return None
            elif ct in ("$", "${", "}"):
                continue
            elif c.is_named and operator is not None and default is None:
                default = c
            elif not c.is_named:
                operator = self.text(c)
                simple = False
            else:
                simple = False
                self.scan(c, st)
        if name is None:
            return None
        value = env_value(name, st, self.home)
        if value is None and name in st.inner:
            self.var_inner.extend(st.inner[name])
        if name in st.patterns:
            self.pattern_seen = True
        if simple:
            return value
        if operator in (":-", "-", ":=", "="):
            if value:
                return value
            if value is None:
                # Unset here, but the environment the command runs in may set it to anything:
                # ${BUILD_DIR:-build} is not known to be build.
                if default is not None:
                    self.scan(default, st)
                return None
            if default is not None:
                text, _q, _g, _t = self.parts(default, st)
                return text
            return value
        if default is not None:
            self.scan(default, st)
        return None

    def substitution(self, node: Any, st: ParseState) -> None:
        """Commands inside $(...), `...`, <(...), >(...) and $((...)) run too."""
        inner = st.copy()
        for c in node.children:
            if c.is_named:
                self.statement(c, inner)

    def scan(self, node: Any, st: ParseState) -> None:
        """Find and walk substitutions nested anywhere inside an expression node."""
        t = node.type
        if t in ("command_substitution", "process_substitution"):
            self.substitution(node, st)
            return
        for c in node.children:
            if c.child_count or c.type in ("command_substitution", "process_substitution"):
                self.scan(c, st)

    # -- statements -------------------------------------------------------

    def statement(self, node: Any, st: ParseState) -> None:
        if len(self.script.commands) >= MAX_COMMANDS:
            if "too many commands to analyse" not in self.script.problems:
                self.script.problems.append("too many commands to analyse")
            return
        t = node.type
        if t == "command":
            self.command(node, st, [])
        elif t == "redirected_statement":
            self.redirected(node, st)
        elif t in ("program", "compound_statement", "do_group", "list"):
            for c in node.children:
                if c.is_named:
                    self.statement(c, st)
                elif c.type == ";;" and t == "program":
                    self.script.problems.append("syntax error near ';;'")
        elif t == "subshell":
            inner = st.copy()
            for c in node.children:
                if c.is_named:
                    self.statement(c, inner)
        elif t == "pipeline":
            self.pipeline(node, st)
        elif t == "variable_assignment" and not _is_valid_assignment(self.text(node)):
            # `--flag=v` alone: not a name, so bash runs a command of that name.
            self.script.commands.append(Simple([Word(self.text(node), self.text(node))], st.cwd))
        elif t == "variable_assignment":
            self.assignment(node, st)
        elif t == "variable_assignments":
            for c in node.children:
                if c.type == "variable_assignment":
                    self.assignment(c, st)
        elif t == "declaration_command":
            self.declaration(node, st)
        elif t == "unset_command":
            for c in node.children:
                if c.type in ("variable_name", "word"):
                    st.vars[self.text(c)] = ""
        elif t == "negated_command":
            for c in node.children:
                if c.is_named:
                    self.statement(c, st)
        elif t == "for_statement":
            self.for_loop(node, st)
        elif t == "function_definition":
            self.function(node, st)
        elif t in ("if_statement", "while_statement", "until_statement", "case_statement",
                   "c_style_for_statement", "elif_clause", "else_clause", "case_item"):
            self.branching(node, st)
        elif t in ("test_command", "arithmetic_expansion"):
            self.scan(node, st)
        elif t == "comment":
            return
        elif t == "ERROR":
            self.problem(node)
            for c in node.children:
                if c.is_named:
                    self.statement(c, st)
        elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
            # `$(<file)` and a redirection standing alone: bash opens the file all the same.
            holder = Simple([], st.cwd)
            self.script.commands.append(holder)
            self.redirect(node, st, holder, [])
        elif t in ("heredoc_body", "heredoc_start", "heredoc_end"):
            self.scan(node, st)
        elif t in ("word", "string", "raw_string", "concatenation", "simple_expansion", "expansion",
                   "command_substitution", "process_substitution", "number"):
            # A bare word where a statement was expected (error recovery): treat it as a command.
            if node.type in ("command_substitution", "process_substitution"):
                self.substitution(node, st)
            else:
                self.scan(node, st)
        else:
            for c in node.children:
                if c.is_named:
                    self.statement(c, st)

    def problem(self, node: Any) -> None:
        snippet = self.text(node).strip().replace("\n", " ")[:40]
        self.script.problems.append(f"cannot parse {snippet!r}" if snippet else "incomplete command")

    def branching(self, node: Any, st: ParseState) -> None:
        """Conditions and loops: every branch may run; a cd inside one leaves the folder unknown."""
        inner = st.copy()
        for c in node.children:
            if c.is_named:
                self.statement(c, inner)
        if inner.cwd != st.cwd:
            st.cwd = None
        for k, v in inner.vars.items():
            if st.vars.get(k, v) != v or k not in st.vars:
                st.vars[k] = None

    def for_loop(self, node: Any, st: ParseState) -> None:
        var: str | None = None
        values: list[Word] = []
        body: list[Any] = []
        literal = True
        for i in range(node.child_count):
            c = node.children[i]
            field = node.field_name_for_child(i)
            if field == "variable":
                var = self.text(c)
            elif field == "value":
                ws = self.word(c, st)
                values.extend(ws)
                if any(w.dynamic for w in ws):
                    literal = False
            elif field == "body" or c.type == "do_group":
                body.append(c)
        # Each value in turn; a glob stands for each of its matches (the variable is then a
        # pattern); values known only at run time leave the variable unknown, with the
        # commands that produce them.
        bindings: list[tuple[str | None, list[Simple] | None, bool]]
        if not literal or not values or len(values) > FOR_VALUES:
            produced = [s for w in values for s in (w.inner or ())]
            bindings = [(None, produced, False)]
        else:
            bindings = [(expand_user(w.text, self.home) if w.tilde else w.text, None, w.glob)
                        for w in values]
        before = st.cwd
        changed = False
        for value, produced_by, pattern in bindings:
            inner = st.copy()
            if var:
                inner.bind(var, value, produced_by, pattern)
            for b in body:
                self.statement(b, inner)
            changed = changed or inner.cwd != before
        if changed:
            st.cwd = None
        if var:
            st.bind(var, None)

    def function(self, node: Any, st: ParseState) -> None:
        name = None
        body = None
        for i in range(node.child_count):
            field = node.field_name_for_child(i)
            if field == "name":
                name = self.text(node.children[i])
            elif field == "body":
                body = node.children[i]
        if name is None or body is None:
            return
        self.functions[name] = 1
        outer = (self.current_function, self.self_calls, self.self_spawn)
        self.current_function, self.self_calls, self.self_spawn = name, 0, False
        self.statement(body, st.copy())
        if self.self_calls >= 2 or (self.self_calls and self.self_spawn):
            self.script.fork_bomb = True
        self.current_function, self.self_calls, self.self_spawn = outer

    def assignment(self, node: Any, st: ParseState) -> None:
        name = None
        value: str | None = ""
        inner: list[Simple] = []
        for i in range(node.child_count):
            c = node.children[i]
            field = node.field_name_for_child(i)
            if field == "name":
                name = self.text(c)
            elif field == "value":
                if c.type == "array":
                    self.scan(c, st)
                    value = None
                else:
                    ws = self.word(c, st)
                    # An assignment expands ~ at the start of its value (D=~ is the home folder).
                    value = " ".join(expand_user(w.text, self.home) if w.tilde else w.text
                                     for w in ws)
                    inner = [s for w in ws for s in (w.inner or ())]
                    if UNKNOWN in value:
                        value = None
            elif c.is_named and c.type not in ("variable_name", "subscript"):
                self.scan(c, st)
        if name is not None:
            st.bind(name, value, inner if value is None else None)

    def declaration(self, node: Any, st: ParseState) -> None:
        argv: list[Word] = []
        for c in node.children:
            if not c.is_named:
                argv.append(Word(self.text(c), self.text(c)))
            elif c.type == "variable_assignment":
                self.assignment(c, st)
                argv.append(Word(self.text(c), self.text(c)))
            elif c.type == "variable_name":
                argv.append(Word(self.text(c), self.text(c)))
            else:
                argv.extend(self.word(c, st))
        cmd = Simple(argv, st.cwd)
        self.script.commands.append(cmd)

    def _hoist(self, node: Any, st: ParseState) -> Any:
        """Run all but the last element of a list in the current shell; return the last.

        The grammar reads `cd src && make 2>&1 | tail` as `(cd src && make 2>&1) | tail`,
        where bash pipes only `make`: `|` binds tighter than `&&`.
        """
        while node.type == "list":
            named = [c for c in node.children if c.is_named]
            for c in named[:-1]:
                self.statement(c, st)
            node = named[-1]
        return node

    def pipeline(self, node: Any, st: ParseState) -> None:
        producers: list[Simple] = []
        stages = [c for c in node.children if c.is_named]
        first = stages[0] if stages else None
        if first is not None and first.type == "list":
            stages[0] = self._hoist(first, st)
        elif first is not None and first.type == "redirected_statement":
            body = first.child_by_field_name("body")
            if body is not None and body.type == "list":
                last = self._hoist(body, st)
                redirects = [first.children[i] for i in range(first.child_count)
                             if first.field_name_for_child(i) == "redirect"]
                self.in_pipeline += 1
                start = len(self.script.commands)
                if last.type == "command":
                    self.command(last, st.copy(), redirects)
                else:
                    inner = st.copy()
                    self.statement(last, inner)
                    created = self.script.commands[start:]
                    holder = created[-1] if created else Simple([], inner.cwd)
                    for r in redirects:
                        self.redirect(r, inner, holder, [])
                producers.extend(self.script.commands[start:])
                self.in_pipeline -= 1
                stages = stages[1:]
        # The grammar also reads `a | b | c && d` as `a | (b | c && d)`: the list's first
        # element continues the pipeline and the rest runs after it, in this shell.
        after: list[Any] = []
        while stages and stages[-1].type == "list":
            named = [c for c in stages[-1].children if c.is_named]
            after = named[1:] + after
            stages[-1] = named[0]
        flat: list[Any] = []
        for stage in stages:
            if stage.type == "pipeline":
                flat.extend(c for c in stage.children if c.is_named)
            else:
                flat.append(stage)
        stages = flat
        self.in_pipeline += 1
        for stage in stages:
            start = len(self.script.commands)
            self.statement(stage, st.copy())
            created = self.script.commands[start:]
            if producers:
                # Everything earlier in the pipeline feeds this stage, directly or through
                # the stages between (curl x | tee f | sh runs what curl fetched).
                for cmd in created:
                    feed(cmd, producers)
            producers.extend(created)
        self.in_pipeline -= 1
        for node_after in after:
            self.statement(node_after, st)

    def redirected(self, node: Any, st: ParseState) -> None:
        body = None
        redirects: list[Any] = []
        for i in range(node.child_count):
            c = node.children[i]
            field = node.field_name_for_child(i)
            if field == "body":
                body = c
            elif field == "redirect" or c.type.endswith("_redirect"):
                redirects.append(c)
        if body is not None and body.type == "list":
            # `a && b > f` is read as `(a && b) > f`; bash redirects only b.
            body = self._hoist(body, st)
        start = len(self.script.commands)
        trailing: list[Any] = []
        if body is not None and body.type == "command":
            self.command(body, st, redirects, trailing)
        else:
            if body is not None:
                self.statement(body, st)
            target = Simple([], st.cwd)
            created = self.script.commands[start:]
            holder = created[-1] if created else target
            for r in redirects:
                self.redirect(r, st, holder, trailing, own=False)
            if not created:
                self.script.commands.append(target)
        # Statements that the grammar hangs under a here-document (cmd <<EOF | sh, <<EOF && x).
        heredoc_cmd = self.script.commands[start] if len(self.script.commands) > start else None
        for extra, piped in trailing:
            begin = len(self.script.commands)
            self.statement(extra, st if not piped else st.copy())
            if piped and heredoc_cmd is not None:
                for cmd in self.script.commands[begin:begin + 1]:
                    cmd.producers = [heredoc_cmd]

    def redirect(self, node: Any, st: ParseState, cmd: Simple, trailing: list[Any],
                 own: bool = True) -> None:
        """Attach a redirection to cmd; ``own`` is False when cmd was only guessed as its owner."""
        t = node.type
        if t == "file_redirect":
            op = ""
            fd = None
            target: Word | None = None
            for i in range(node.child_count):
                c = node.children[i]
                field = node.field_name_for_child(i)
                if field == "descriptor":
                    fd = self.text(c)
                elif field == "destination":
                    ws = self.word(c, st)
                    if target is None:
                        target = ws[0] if ws else Word(UNKNOWN, self.text(c))
                    elif cmd.argv and own:
                        # `cmd >out -- x`: the grammar hangs words after a redirection on it,
                        # but the shell passes them to the command as arguments.
                        cmd.argv.extend(ws)
                    else:
                        self.script.problems.append(
                            f"words after a redirection in an unusual place ({self.text(c)[:20]!r})")
                elif c.type == "ERROR":
                    self.problem(c)
                elif not c.is_named:
                    op += self.text(c)
            cmd.redirects.append(Redirect(op, fd, target))
        elif t == "heredoc_redirect":
            body_text = ""
            for i in range(node.child_count):
                c = node.children[i]
                ct = c.type
                field = node.field_name_for_child(i)
                if ct == "heredoc_body":
                    body_text = self.text(c)
                    self.scan(c, st)
                elif ct == "file_redirect":
                    self.redirect(c, st, cmd, trailing)
                elif ct in ("pipeline", "list", "command", "redirected_statement", "subshell",
                            "compound_statement") or field == "right":
                    piped = ct == "pipeline" and self.text(c).lstrip().startswith("|")
                    if ct == "list" and c.children and c.children[0].type == "pipeline":
                        piped = self.text(c).lstrip().startswith("|")
                    trailing.append((c, piped))
            cmd.stdin = body_text
            cmd.redirects.append(Redirect("<<", None, None, body_text))
        elif t == "herestring_redirect":
            text = ""
            for c in node.children:
                if c.is_named:
                    ws = self.word(c, st)
                    # A here-string expands ~ like any word (`xargs rm -rf <<< ~`).
                    text = " ".join(expand_user(w.text, self.home) if w.tilde else w.text
                                    for w in ws)
            cmd.stdin = text
            cmd.redirects.append(Redirect("<<<", None, None, text))
        else:
            self.scan(node, st)

    def command(self, node: Any, st: ParseState, redirects: list[Any], trailing: list[Any] | None = None) -> None:
        argv: list[Word] = []
        prefix: list[tuple[str, Word]] = []
        cmd = Simple(argv, st.cwd)
        cmd_redirects: list[Any] = list(redirects)
        prev_end = -1
        for i in range(node.child_count):
            c = node.children[i]
            field = node.field_name_for_child(i)
            ct = c.type
            if prev_end >= 0 and self.data is not None:
                gap = self.data[prev_end:c.start_byte]
                if b"\n" in gap.replace(b"\\\n", b""):
                    # The grammar can join the next line to a command's words
                    # (`a | b | c<newline>rm -rf / && x`); bash runs it as a command.
                    self.script.problems.append("the parser joined two lines into one command")
            prev_end = c.end_byte
            if ct == "variable_assignment" and not _is_valid_assignment(self.text(c)):
                # `1A=2 cmd`: not a name, so bash runs a command called "1A=2".
                argv.append(Word(self.text(c), self.text(c)))
            elif ct == "variable_assignment":
                local = st.copy()
                self.assignment(c, local)
                name = next((self.text(x) for x in c.children if x.type == "variable_name"), "")
                val = local.vars.get(name)
                prefix.append((name, Word(UNKNOWN if val is None else val, self.text(c))))
            elif field == "name":
                if c.is_missing or (c.child_count == 1 and c.children[0].is_missing):
                    if argv:
                        # The grammar wants a name after `1A=2`; bash already has one.
                        self.ignored_missing.add(c.start_byte)
                    continue
                for n in c.children if ct == "command_name" else [c]:
                    argv.extend(self.word(n, st))
            elif field == "argument":
                argv.extend(self.word(c, st))
            elif field == "redirect" or ct.endswith("_redirect"):
                cmd_redirects.append(c)
            elif ct == "ERROR":
                self.problem(c)
            elif ct in ("subshell", "compound_statement", "command", "pipeline", "list"):
                # `name (args)` is a syntax error to bash, though the grammar accepts it.
                self.script.problems.append(
                    f"syntax error near {self.text(c).strip()[:30]!r}")
                self.statement(c, st.copy())
            elif c.is_named:
                self.scan(c, st)
        if argv and not argv[0].quoted and argv[0].text in _MISPLACED:
            # `sudo if x; then y; fi`: bash rejects the line; the grammar reads commands.
            self.script.problems.append(f"syntax error near {argv[0].text!r}")
        cmd.assigns = prefix
        if prefix:
            cmd.old_vars = {k: env_value(k, st, self.home) for k, _ in prefix}
            cmd.vars = {k: (None if w.dynamic else w.text) for k, w in prefix}
        self.script.commands.append(cmd)
        pending: list[Any] = [] if trailing is None else trailing
        for r in cmd_redirects:
            self.redirect(r, st, cmd, pending)
        if trailing is None:
            for extra, _piped in pending:
                self.statement(extra, st)
        name = argv[0].text if argv else ""
        if name in self.functions:
            cmd.function = True
        if self.current_function is not None and name == self.current_function:
            self.self_calls += 1
            if self.in_pipeline:
                self.self_spawn = True
        self.track_cwd(name, argv, st)

    def track_cwd(self, name: str, argv: list[Word], st: ParseState) -> None:
        st.cwd = track_cwd(name, argv, st.cwd, self.home)


_MISPLACED = frozenset({"then", "fi", "do", "done", "esac", "elif", "else", "in", "}", "]]"})


_ASCII_ONLY = bytes(range(128)) + b"a" * 128


def _is_valid_assignment(text: str) -> bool:
    name = text.split("=", 1)[0].split("[", 1)[0].rstrip("+")
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(
        ch.isalnum() or ch == "_" for ch in name)


def parse_tree(command: str, cwd: str | None, home: str, depth: int,
               variables: dict[str, str | None] | None) -> Script:
    parser = get_parser()
    data = command.encode("utf-8", "surrogatepass")
    # tree-sitter-bash 0.25 crashes the process on some non-ASCII input (`È{` followed by a
    # character outside the BMP). A crashed hook would let the call through, so the parser
    # only ever sees ASCII: every byte of a multi-byte character becomes "a". Bash treats
    # those bytes as word characters, so the structure is the same, and byte offsets are
    # kept, so every text is sliced from the original.
    safe = data if command.isascii() else data.translate(_ASCII_ONLY)
    with _lock:
        tree = parser.parse(safe)
    walker = _Walker(home, depth)
    walker.data = data
    root = tree.root_node
    st = ParseState(cwd, dict(variables or {}))
    try:
        walker.statement(root, st)
    except RecursionError:
        walker.script.problems.append("command nested too deeply to analyse")
    if not walker.script.problems:
        skipped = _skipped_text(root, safe)
        if skipped:
            walker.script.problems.append(f"the parser skipped {skipped!r}")
    if root.has_error and not walker.script.problems:
        problem = _first_error(root, walker.ignored_missing, data)
        if problem is not None:
            walker.script.problems.append(problem)
    return walker.script


def _skipped_text(root: Any, data: bytes) -> str | None:
    """Text no node covers: the grammar's error recovery can drop a word silently
    (`- a=b` parses as the assignment alone), and a dropped word must not go unchecked."""
    covered = bytearray(len(data))
    stack = [root]
    while stack:
        n = stack.pop()
        if n.child_count == 0 or n.type in ("heredoc_body", "heredoc_content", "string_content",
                                            "raw_string", "comment", "regex"):
            covered[n.start_byte:n.end_byte] = b"\x01" * (n.end_byte - n.start_byte)
            if n.child_count == 0:
                continue
        stack.extend(n.children)
    for i, byte in enumerate(data):
        if not covered[i] and byte not in b" \t\r\n\\;":
            end = i
            while end < len(data) and not covered[end] and data[end] not in b" \t\r\n":
                end += 1
            return data[i:end].decode("utf-8", "replace")[:30]
    return None


def _first_error(root: Any, ignored: set[int], data: bytes) -> str | None:
    stack = [root]
    while stack:
        n = stack.pop()
        if n.is_missing and n.start_byte in ignored:
            continue
        if n.type == "ERROR" or n.is_missing:
            snippet = data[n.start_byte:n.end_byte].decode("utf-8", "replace").strip().replace("\n", " ")[:40]
            if n.is_missing:
                return f"incomplete command: missing {n.type!r}"
            return f"cannot parse {snippet!r}" if snippet else "incomplete command"
        stack.extend(reversed(n.children))
    return None
