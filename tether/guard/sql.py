"""What a piece of SQL would do to a database: read it, change it, or destroy data.

A small lexer rather than a library: the guard needs statements split on ``;``
outside quotes and comments, the words of each statement with string literals
kept apart, and the bodies of ``DO $$ ... $$`` and ``EXECUTE '...'`` read again
as SQL. sqlparse costs about 25 ms to import and sqlglot about 110 ms, on every
MCP call; this file costs well under one, and neither library looks inside
dynamic SQL.

The lexer follows PostgreSQL and MySQL: ``--`` and ``#``-free line comments,
``/* */`` comments (nested, as PostgreSQL allows), ``'...'`` strings with ``''``
and backslash escapes, ``"..."`` and backquoted identifiers, ``$tag$ ... $tag$``
bodies. Text it cannot close (an unterminated quote) ends the statement, so a
verb can never hide behind a quote the database would read differently: what
follows an open quote is taken as words as well.

:func:`judge` says the strongest thing any statement does: "destroy" (DROP,
TRUNCATE, DELETE or UPDATE without WHERE, ALTER ... DROP), "change" (any other
write, grants, COPY, procedures, server functions that act outside the query),
"read", or None when the text is not SQL at all.
"""

from __future__ import annotations

# A token: ("w", WORD upper-cased) | ("s", string content) | ("i", identifier) | ("p", punctuation)
Token = tuple[str, str]

# First words of statements that only read (or only touch the session).
_READ_FIRST = frozenset({
    "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "PRAGMA",
    "BEGIN", "START", "COMMIT", "ROLLBACK", "END", "ABORT", "SAVEPOINT", "RELEASE", "SET",
    "RESET", "USE", "FETCH", "DECLARE", "CLOSE", "MOVE", "ANALYZE", "ANALYSE", "LISTEN",
    "UNLISTEN", "HELP",
})
# First words of statements that write.
_WRITE_FIRST = frozenset({
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "DROP", "TRUNCATE", "ALTER",
    "CREATE", "GRANT", "REVOKE", "COPY", "CALL", "EXEC", "EXECUTE", "DO", "VACUUM", "REINDEX",
    "CLUSTER", "LOCK", "COMMENT", "SECURITY", "IMPORT", "LOAD", "RENAME", "ATTACH", "DETACH",
    "REFRESH", "PREPARE", "DEALLOCATE", "DISCARD", "NOTIFY", "REASSIGN", "CHECKPOINT",
    "UNLOAD", "PUT", "REMOVE", "OPTIMIZE", "FLUSH", "KILL", "SHUTDOWN", "INSTALL", "UNINSTALL",
    "HANDLER", "REPAIR", "RESTORE", "BACKUP", "BULK", "DBCC", "UNDROP", "RESTART",
})
STATEMENT_WORDS = _READ_FIRST | _WRITE_FIRST
# Words that write wherever they stand in a statement (a data-modifying CTE, EXPLAIN ANALYZE).
_WRITE_ANYWHERE = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "DROP", "TRUNCATE",
                             "ALTER", "CREATE", "GRANT", "REVOKE"})
# Functions that act outside the query: kill sessions, read or write server files, run
# programs, reach other servers, change configuration or sequences.
_ACTING_FUNCTIONS = frozenset({
    "PG_TERMINATE_BACKEND", "PG_CANCEL_BACKEND", "PG_RELOAD_CONF", "PG_ROTATE_LOGFILE",
    "PG_PROMOTE", "PG_SWITCH_WAL", "PG_CREATE_RESTORE_POINT", "PG_DROP_REPLICATION_SLOT",
    "PG_CREATE_LOGICAL_REPLICATION_SLOT", "PG_CREATE_PHYSICAL_REPLICATION_SLOT",
    "PG_FILE_WRITE", "PG_FILE_UNLINK", "PG_FILE_RENAME", "PG_READ_FILE", "PG_READ_BINARY_FILE",
    "PG_LS_DIR", "PG_STAT_FILE", "LO_IMPORT", "LO_EXPORT", "LO_UNLINK", "LO_PUT", "LO_CREATE",
    "DBLINK", "DBLINK_EXEC", "DBLINK_CONNECT", "SETVAL", "NEXTVAL", "QUERY_TO_XML",
    "LOAD_FILE", "SYS_EXEC", "SYS_EVAL", "LOAD_EXTENSION", "WRITEFILE", "READFILE", "EDIT",
    "XP_CMDSHELL", "SP_CONFIGURE", "SP_EXECUTESQL", "OPENROWSET", "OPENDATASOURCE",
    "OPENQUERY", "SHELL",
})
# Functions whose string arguments are themselves SQL that runs.
_SQL_ARGUMENT_FUNCTIONS = frozenset({"DBLINK", "DBLINK_EXEC", "QUERY_TO_XML", "SP_EXECUTESQL",
                                     "OPENQUERY", "EXEC", "EXECUTE"})
_RANK = {None: 0, "read": 1, "change": 2, "destroy": 3}
_MAX_DEPTH = 4


# How each dialect reads text: (backslash escapes in strings, $tag$ bodies, # comments,
# nested /* */, "--" a comment only before a space). A statement is read in every dialect and
# the strongest reading wins, so text that one database takes as a string and another as a
# statement (``'\'; DROP TABLE x; --'``) is judged as the statement.
_DIALECTS = {
    "postgres": (False, True, False, True, False),
    "mysql": (True, False, True, False, True),
    "ansi": (False, False, False, False, False),
}


def tokens(text: str, dialect: str = "postgres") -> list[list[Token]]:
    """The statements of ``text``, each a list of tokens; comments dropped, empty statements too."""
    backslash, dollar, hash_comment, nest, dash_space = _DIALECTS[dialect]
    out: list[list[Token]] = []
    cur: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif (c == "-" and text.startswith("--", i)
              and (not dash_space or i + 2 >= n or text[i + 2] <= " ")) or (c == "#" and hash_comment):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "/" and text.startswith("/*", i):
            if text.startswith("/*!", i) and dialect == "mysql":
                i += 3  # MySQL runs the text of /*! ... */ comments
                continue
            depth, i = 1, i + 2
            while i < n and depth:
                if nest and text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == ";":
            if cur:
                out.append(cur)
            cur = []
            i += 1
        elif c == "'":
            prefix = cur[-1][1] if cur and cur[-1][0] == "w" and text[i - 1:i].isalpha() else ""
            if prefix in ("E", "N", "X", "B"):
                cur.pop()  # E'...', N'...': the prefix belongs to the string
            escapes = backslash or prefix == "E"
            value, i = _quoted(text, i, "'", escapes)
            cur.append(("s", value))
        elif c in "\"`":
            value, i = _quoted(text, i, c, False)
            cur.append(("i", value))
        elif c == "$" and dollar and (tag_end := _dollar_tag(text, i)) > 0:
            tag = text[i:tag_end]
            close = text.find(tag, tag_end)
            if close < 0:
                i = tag_end  # unclosed: read on as words
                continue
            cur.append(("s", text[tag_end:close]))
            i = close + len(tag)
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            cur.append(("w", text[i:j].upper()))
            i = j
        elif c.isdigit():
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "."):
                j += 1
            cur.append(("n", text[i:j]))
            i = j
        else:
            cur.append(("p", c))
            i += 1
    if cur:
        out.append(cur)
    return out


def _quoted(text: str, i: int, q: str, backslash: bool) -> tuple[str, int]:
    """The content of the quote opening at ``i`` and the index after it.

    An unclosed quote gives back only its opening character, so what follows is read
    as words: the database would reject the text or read it some other way.
    """
    parts: list[str] = []
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\" and backslash and j + 1 < n:
            parts.append(text[j + 1])
            j += 2
        elif c == q:
            if j + 1 < n and text[j + 1] == q:
                parts.append(q)
                j += 2
            else:
                return "".join(parts), j + 1
        else:
            parts.append(c)
            j += 1
    return "", i + 1


def _dollar_tag(text: str, i: int) -> int:
    """The index after a ``$tag$`` opening at ``i``, or 0 (``$1`` is a parameter)."""
    j = i + 1
    while j < len(text) and (text[j].isalnum() or text[j] == "_"):
        j += 1
    tag = text[i + 1:j]
    if j < len(text) and text[j] == "$" and not tag[:1].isdigit():
        return j + 1
    return 0


def is_sql(text: str, strict: bool = True) -> bool:
    """Whether ``text`` reads as SQL: its first word starts a statement.

    ``strict`` (for text found by its content rather than its key) also wants the
    second word to fit: ``DROP TABLE``, ``DELETE FROM``, ``SELECT ... FROM``.
    """
    stmts = tokens(text)
    if not stmts:
        return False
    first = _first_word(stmts[0])
    if first is None or first not in STATEMENT_WORDS:
        return False
    if not strict:
        return True
    words = [t[1] for t in stmts[0] if t[0] == "w"]
    second = words[1] if len(words) > 1 else ""
    if first in ("DROP", "CREATE", "ALTER", "TRUNCATE"):
        return second in ("TABLE", "DATABASE", "SCHEMA", "VIEW", "INDEX", "USER", "ROLE",
                          "FUNCTION", "PROCEDURE", "TRIGGER", "SEQUENCE", "EXTENSION", "TYPE",
                          "OR", "UNIQUE", "TEMP", "TEMPORARY", "MATERIALIZED", "OWNED") or (
            first == "TRUNCATE" and len(words) == 2)
    if first in ("DELETE", "INSERT", "REPLACE"):
        return second in ("FROM", "INTO")
    if first == "UPDATE":
        return "SET" in words
    if first in ("SELECT", "WITH"):
        return "FROM" in words or len(stmts) > 1
    if first in ("GRANT", "REVOKE"):
        return "ON" in words or "TO" in words or "FROM" in words
    return len(stmts) > 1 and len(words) > 1


def _first_word(stmt: list[Token]) -> str | None:
    for kind, value in stmt:
        if kind == "w":
            return value
        if kind != "p" or value != "(":
            return None
    return None


def judge(text: str, depth: int = 0,
          memo: dict[str, tuple[str | None, str]] | None = None) -> tuple[str | None, str]:
    """The strongest effect of the SQL in ``text`` and the statement that has it.

    Every statement is judged, whatever its first word (one the guard does not
    recognise is a change); (None, "") means there is no statement at all.
    """
    # Each dialect reads a body again; remembering bodies keeps nested EXECUTEs linear.
    memo = {} if memo is None else memo
    if text in memo:
        return memo[text]
    worst: str | None = None
    what = ""
    for dialect in _DIALECTS:
        for stmt in tokens(text, dialect):
            effect, why = _statement(stmt, depth, memo)
            if _RANK[effect] > _RANK[worst]:
                worst, what = effect, why
    memo[text] = (worst, what)
    return worst, what


def _statement(stmt: list[Token], depth: int,
               memo: dict[str, tuple[str | None, str]]) -> tuple[str, str]:
    first = _first_word(stmt) or ""
    shown = " ".join(v for _k, v in stmt[:8])[:80]
    if first in _READ_FIRST:
        worst, why = "read", shown
    elif first in _WRITE_FIRST:
        worst, why = "change", shown
    else:
        worst, why = "change", f"{shown} (not a statement the guard recognises)"

    def raise_to(effect: str, reason: str) -> None:
        nonlocal worst, why
        if _RANK[effect] > _RANK[worst]:
            worst, why = effect, reason

    words = [v if k == "w" else "" for k, v in stmt]
    if first == "EXPLAIN" and "ANALYZE" not in words and "ANALYSE" not in words:
        return "read", shown  # EXPLAIN only plans, unless ANALYZE makes it run the statement
    if first == "SET" and len(words) > 1 and words[1] in ("GLOBAL", "PERSIST", "PERSIST_ONLY"):
        raise_to("change", f"{shown} (changes the server's settings for everyone)")
    if first == "PRAGMA" and ("p", "=") in stmt:
        raise_to("change", shown)
    if first == "COPY":
        if "PROGRAM" in words:
            raise_to("change", f"{shown} (runs a shell command on the database server)")
        elif "TO" in words and "STDOUT" in words:
            worst = "read"
    for i, (kind, value) in enumerate(stmt):
        prev = words[i - 1] if i else ""
        nxt = stmt[i + 1] if i + 1 < len(stmt) else ("", "")
        if kind == "s":
            if depth < _MAX_DEPTH and _runs_string(i, words, first):
                inner, inner_why = judge(value, depth + 1, memo)
                if inner is not None:
                    raise_to(inner, inner_why)
            continue
        if kind != "w":
            continue
        if value in _WRITE_ANYWHERE:
            if value == "UPDATE" and prev in ("FOR", "KEY", "ON", "DO"):
                continue  # SELECT ... FOR UPDATE, ON UPDATE CASCADE, ON CONFLICT DO UPDATE
            if value == "DELETE" and prev == "ON":
                continue
            if value == "INSERT" and nxt == ("p", "("):
                continue  # MySQL's string function of that name
            raise_to(*_verb(stmt, i, value, shown))
        elif value == "INTO" and first in ("SELECT", "WITH", "TABLE", "VALUES"):
            if nxt[1] in ("OUTFILE", "DUMPFILE"):
                raise_to("change", f"{shown} (writes a file on the database server)")
            elif nxt[0] in ("w", "i"):
                raise_to("change", f"{shown} (SELECT INTO creates a table)")
        elif value in _ACTING_FUNCTIONS and nxt == ("p", "("):
            raise_to("change", f"{shown} (calls {value.lower()}, which acts outside the query)")
        elif value in ("EXECUTE", "EXEC", "PREPARE"):
            raise_to("change", shown)
    return worst, why


def _runs_string(i: int, words: list[str], first: str) -> bool:
    """Whether the string literal at ``i`` is code the database runs."""
    if first in ("DO", "CREATE"):
        return True  # DO $$ ... $$, CREATE FUNCTION ... AS $$ ... $$
    for back in range(i - 1, max(-1, i - 4), -1):
        w = words[back]
        if w in ("EXECUTE", "EXEC", "IMMEDIATE", "FROM") and (w != "FROM" or first == "PREPARE"):
            return True
        if w in _SQL_ARGUMENT_FUNCTIONS:
            return True
    return False


def _verb(stmt: list[Token], i: int, verb: str, shown: str) -> tuple[str, str]:
    """What one write verb at ``i`` does: destroy or change."""
    rest = _same_level(stmt, i + 1)
    if verb in ("DROP", "TRUNCATE"):
        return "destroy", shown
    if verb == "ALTER":
        return ("destroy" if "DROP" in rest else "change"), shown
    if verb in ("DELETE", "UPDATE"):
        if "WHERE" not in rest:
            return "destroy", f"{shown} (no WHERE: every row)"
        after = rest[rest.index("WHERE") + 1:]
        if after[:1] == ["TRUE"] or (len(after) >= 3 and after[1] == "=" and after[0] == after[2]):
            return "destroy", f"{shown} (a WHERE that holds for every row)"
    return "change", shown


def _same_level(stmt: list[Token], start: int) -> list[str]:
    """Word and punctuation values after ``start`` until the enclosing parenthesis closes."""
    depth = 0
    out: list[str] = []
    for kind, value in stmt[start:]:
        if kind == "p" and value == "(":
            depth += 1
        elif kind == "p" and value == ")":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0:
            out.append(value if kind in ("w", "p", "n") else "'" + value)
    return out
