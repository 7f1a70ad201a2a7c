"""What an MCP tool call's arguments mean: SQL, URLs, paths and shell commands, judged like the built-ins.

An MCP tool (``mcp__server__tool``) is opaque: tether sees only its name and its
arguments. The name alone is a weak signal (``query`` reads, yet ``DROP TABLE``
passed to it destroys), so every argument is looked at for what it would do if
the agent had used the equivalent built-in tool:

- SQL (under ``sql``/``statement``, under ``query``/``command`` of a database
  server, or text that reads plainly as SQL) goes to :mod:`tether.guard.sql`:
  destruction is ``db.destroy``, any other write ``db.change``.
- A URL is contact with its host, like WebFetch (``net.fetch``), or ``net.send``
  when the tool posts or sends; a ``file://`` URL is a path.
- A path (under a path-like key, or a value that is an absolute or ``~`` path) is
  read, written or deleted as the tool's verb says, like Read, Write or ``rm``.
- A command given to a tool that runs commands is analysed as a Bash command.

Imported only when an MCP tool is checked, so it costs nothing on the hook's
common paths.
"""

from __future__ import annotations

from tether.guard.hosts import host_of_url
from tether.guard.sql import STATEMENT_WORDS, is_sql, judge, tokens
from tether.guard.syntax import Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tether.guard.analysis import Analyzer

# First words of tool names that read only (matched as prefixes: "summar" is summary, summarize).
READ_VERBS = ("get", "list", "search", "read", "fetch", "find", "query", "describe", "show",
              "view", "lookup", "retrieve", "browse", "check", "count", "status", "inspect",
              "explain", "resolve", "download", "screenshot", "snapshot", "navigate", "hover",
              "wait", "info", "whoami", "validate", "preview", "diff", "compare", "analy",
              "summar", "stat", "ls", "cat", "head", "tail", "grep", "open", "load", "scan")
_DELETE_WORDS = frozenset({"delete", "remove", "rm", "unlink", "trash", "destroy", "drop",
                           "purge", "erase", "rmdir"})
_MOVE_WORDS = frozenset({"move", "rename", "mv"})
_COPY_WORDS = frozenset({"copy", "cp", "duplicate"})
_SEND_WORDS = frozenset({"send", "post", "upload", "publish", "share", "submit", "email", "mail",
                         "notify", "reply", "forward", "tweet", "message", "attach", "webhook",
                         "put", "patch", "request"})
_RUN_WORDS = frozenset({"run", "exec", "execute", "shell", "terminal", "bash", "sh", "zsh",
                        "cmd", "command", "process", "spawn", "powershell", "pwsh", "console"})
_SEARCH_WORDS = frozenset({"search", "find", "grep", "lookup"})
# Server or tool names that hold a database.
_DB_WORDS = frozenset({"sql", "postgres", "postgresql", "pg", "psql", "mysql", "mariadb", "sqlite",
                       "db", "database", "supabase", "bigquery", "snowflake", "duckdb",
                       "clickhouse", "mssql", "sqlserver", "oracle", "redshift", "neon", "turso",
                       "d1", "planetscale", "cockroach", "cockroachdb", "databricks", "trino",
                       "presto", "athena", "timescale", "dbhub"})
# Tool-name words of a tool whose whole effect is the SQL it is given.
_SQL_RUNNER_WORDS = frozenset({"sql", "query", "execute", "exec", "run", "statement",
                               "statements"})

_SQL_KEYS = frozenset({"sql", "sql_query", "query_sql", "raw_sql", "sql_statement", "sqlquery"})
# Keys that hold SQL on a database server's tools, or text that reads plainly as SQL.
_QUERY_KEYS = frozenset({"query", "q", "queries", "statement", "statements", "stmt", "command",
                         "cmd", "input", "script", "code"})
_COMMAND_KEYS = frozenset({"command", "cmd", "script", "commands", "shell_command", "cmdline",
                           "command_line"})
_URL_KEYS = frozenset({"url", "uri", "urls", "uris", "href", "link", "endpoint", "address",
                       "base_url", "baseurl", "webhook", "webhook_url", "callback",
                       "callback_url", "target_url", "website", "page_url", "remote",
                       "remote_url", "api_url", "server_url"})
PATH_KEYS = frozenset({"path", "file_path", "filepath", "file", "filename", "paths", "directory",
                       "dir", "source", "destination", "target", "uri", "notebook_path", "folder",
                       "root", "location", "files", "file_paths", "attachment", "attachments",
                       "src", "dest", "dst", "old_path", "new_path", "source_path",
                       "destination_path", "target_path", "input_path", "output_path", "output",
                       "save_path", "download_path", "image_path", "cwd", "workdir",
                       "working_directory", "dirpath", "dir_path", "folder_path"})
_SOURCE_KEYS = frozenset({"source", "src", "old_path", "source_path", "from_path", "origin"})
_DEST_KEYS = frozenset({"destination", "dest", "dst", "target", "new_path", "destination_path",
                        "target_path", "to_path"})
# Addresses of cloud storage: a bucket, not a host to hold against the network allowlist.
_STORAGE_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "wasb", "wasbs",
                              "hdfs", "r2"})
_BODY_KEYS = frozenset({"body", "data", "json", "form", "payload", "content"})
_CWD_KEYS = ("cwd", "workdir", "working_directory", "directory", "dir")
# Bounds on how much of an argument tree is looked at: depth, values.
_MAX_DEPTH = 4
_MAX_VALUES = 64


class Reading:
    """What the arguments of one MCP call turned out to do.

    ``readonly``: nothing found changes anything (and the tool's name reads as
    read-only, unless an argument said all the tool does). ``understood``: the
    arguments are the tool's whole effect (a command run like Bash, SQL given to
    a tool that only runs SQL), so its name need not be asked about.
    """

    __slots__ = ("readonly", "understood")

    def __init__(self, readonly: bool, understood: bool) -> None:
        self.readonly = readonly
        self.understood = understood

    def __repr__(self) -> str:
        return f"Reading(readonly={self.readonly}, understood={self.understood})"


def name_words(tool: str) -> tuple[list[str], list[str]]:
    """The words of the server's name and of the tool's name (without the server repeated)."""
    parts = tool.split("__", 2)
    server = parts[1] if len(parts) > 2 else ""
    name = parts[2] if len(parts) > 2 else tool
    server = server.lower().replace("-", "_")
    lname = name.lower().replace("-", "_")
    if server and lname.startswith(server + "_"):
        lname = lname[len(server) + 1:]
    return [w for w in server.split("_") if w], [w for w in lname.split("_") if w]


def reads_only(words: list[str]) -> bool:
    """Whether a tool name (its words) reads as read-only: it starts with a reading verb."""
    return bool(words) and words[0].startswith(READ_VERBS)


def check(an: Analyzer, tool: str, inp: dict[str, Any], cwd: str) -> Reading:
    """Record the effects of one MCP call's arguments on ``an``; say what they amount to."""
    server_words, words = name_words(tool)
    all_words = {*server_words, *words}
    readish = reads_only(words)
    runner = bool(all_words & _RUN_WORDS)
    database = bool(all_words & _DB_WORDS) or any(w.endswith(("sql", "db")) for w in all_words)
    op = _kind(words, readish)
    sending = op == "send" or _posts(inp)
    via = f"the MCP tool {tool}"
    values = _values(inp)
    writes_before = len(an.writes)
    sql_found: list[str | None] = []
    ran: bool | None = None
    for key, value in values:
        lkey = key.lower()
        stripped = value.strip()
        if not stripped:
            continue
        # SQL first: a database tool's "command" holds SQL, not a shell command.
        # A shell tool's command is never taken for SQL by its content: "set -e; rm -rf ~"
        # must reach the shell analysis.
        shell = runner and lkey in _COMMAND_KEYS
        sql_context = lkey in _SQL_KEYS or (lkey in _QUERY_KEYS and database
                                            and _starts_sql(stripped))
        if sql_context or (lkey in _QUERY_KEYS and not shell and not all_words & _SEARCH_WORDS
                           and is_sql(stripped, strict=True)):
            sql_found.append(_sql(an, stripped, via))
            continue
        if shell:
            an.run(_command_line(stripped, inp), _command_cwd(inp, cwd))
            units = an.units
            ran = (ran is not False) and bool(units) and all(u.readonly for u in units)
            continue
        url = _url(stripped, lkey in _URL_KEYS)
        if url is not None:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "file":
                _path(an, _file_url_path(url), url, _path_op(op, lkey), cwd, via)
            elif scheme not in _STORAGE_SCHEMES:
                an.contact(host_of_url(url.replace("\\", "/")) or "",
                           "send" if sending else "fetch", f"{via} is given the address {url:.80}")
            continue
        if lkey in PATH_KEYS and "\n" not in stripped and len(stripped) < 4096:
            _path(an, stripped, value, _path_op(op, lkey), cwd, via)
        elif _looks_like_path(stripped):
            _path(an, stripped, value, "read" if readish else "mention", cwd, via)
    wrote = len(an.writes) > writes_before
    if ran is not None:
        return Reading(ran and not wrote and not any(k != "read" for k in sql_found if k), True)
    if sql_found:
        sql_only = bool(set(words) & _SQL_RUNNER_WORDS)
        reads = all(k in ("read", None) for k in sql_found)
        return Reading(reads and not wrote and (readish or sql_only), sql_only)
    return Reading(readish and not wrote, False)


def _values(inp: dict[str, Any]) -> list[tuple[str, str]]:
    """(innermost key, string value) for the strings in an argument tree, bounded."""
    out: list[tuple[str, str]] = []

    def walk(key: str, value: Any, depth: int) -> None:
        if len(out) >= _MAX_VALUES or depth > _MAX_DEPTH:
            return
        if isinstance(value, str):
            out.append((key, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(str(k), v, depth + 1)
        elif isinstance(value, list):
            for v in value[:_MAX_VALUES]:
                walk(key, v, depth + 1)

    walk("", inp, 0)
    return out


def _posts(inp: dict[str, Any]) -> bool:
    """Whether a request-like tool sends data: a writing method or a body."""
    method = inp.get("method")
    if isinstance(method, str) and method.upper() not in ("GET", "HEAD", "OPTIONS"):
        return True
    return any(k.lower() in _BODY_KEYS and v not in (None, "", {}, []) for k, v in inp.items())


def _starts_sql(text: str) -> bool:
    stmts = tokens(text)
    if not stmts:
        return False
    kind, value = stmts[0][0]
    return kind == "w" and value in STATEMENT_WORDS


def _sql(an: Analyzer, text: str, via: str) -> str | None:
    effect, what = judge(text)
    if effect == "destroy":
        an.add("db.destroy", f"{via} would run `{what}`, which drops or empties data; back it "
               "up and ask the user", what)
    elif effect == "change":
        an.add("db.change", f"{via} would run `{what}`, which changes the database; ask the "
               "user", what)
    return effect


def _command_line(command: str, inp: dict[str, Any]) -> str:
    """The command with its ``args`` list, each quoted: the program gets them as they are."""
    args = inp.get("args") or inp.get("arguments")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return command
    return " ".join([command, *("'" + a.replace("'", "'\\''") + "'" for a in args)])


def _command_cwd(inp: dict[str, Any], cwd: str) -> str:
    for key in _CWD_KEYS:
        value = inp.get(key)
        if isinstance(value, str) and value.startswith("/"):
            return value
    return cwd


def _url(text: str, url_key: bool) -> str | None:
    """``text`` as a URL when it is one (a scheme and ``://``, no spaces); None otherwise."""
    if any(c.isspace() for c in text):
        return None
    scheme, sep, _rest = text.partition("://")
    if sep and scheme and scheme[0].isalpha() and all(c.isalnum() or c in "+.-" for c in scheme):
        return text
    if url_key and text.startswith("//"):
        return "https:" + text
    if url_key and not text.startswith(("/", ".", "~")) and "." in text.split("/", 1)[0]:
        return "https://" + text
    return None


def _file_url_path(url: str) -> str:
    rest = url[5:]
    if rest.startswith("//"):
        # file://host/path: the host is this machine (or another one's share); the path counts.
        rest = rest[2:]
        rest = rest[rest.find("/"):] if "/" in rest else ""
    return "/" + _unquote(rest.split("?", 1)[0].split("#", 1)[0]).lstrip("/")


def _unquote(text: str) -> str:
    """Percent-decoding without urllib.parse (which imports re)."""
    if "%" not in text:
        return text
    out = bytearray()
    raw = text.encode()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25 and _is_hex(raw[i + 1:i + 3]):
            out.append(int(raw[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode(errors="replace")


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(chr(b) in "0123456789abcdefABCDEF" for b in pair)


def _kind(words: list[str], readish: bool) -> str:
    """What the tool does with the paths it is given, by the words of its name."""
    named = set(words)
    if readish:
        return "read"
    for kind, verbs in (("delete", _DELETE_WORDS), ("move", _MOVE_WORDS), ("copy", _COPY_WORDS),
                        ("send", _SEND_WORDS)):
        if named & verbs:
            return kind
    return "write"


def _path_op(kind: str, key: str) -> str:
    """read, write or delete: what a tool of ``kind`` does to the path under ``key``."""
    if kind in ("read", "send"):
        return "read"  # what is sent is read first
    if kind in ("move", "copy"):
        if key in _DEST_KEYS:
            return "write"
        if key in _SOURCE_KEYS:
            return "delete" if kind == "move" else "read"
        return "write"
    return kind


def _looks_like_path(text: str) -> bool:
    return ((text.startswith("/") and not text.startswith("//")) or text == "~"
            or text.startswith("~/")) and len(text) < 4096 and not any(c.isspace() for c in text)


def _path(an: Analyzer, text: str, raw: str, op: str, cwd: str, via: str) -> None:
    an.path(op, Word(text, raw, quoted=True, tilde=text == "~" or text.startswith("~/")), cwd,
            via=via)
