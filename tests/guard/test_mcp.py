"""MCP tool arguments judged like the built-in action: SQL, URLs, paths and shell commands."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.guard.conftest import Workspace
from tether.guard.mcp import name_words
from tether.guard.sql import is_sql, judge, tokens
from tether.guard.state import GuardState

# -- the SQL reader ------------------------------------------------------------


@pytest.mark.parametrize(("sql", "effect"), [
    ("SELECT id FROM users", "read"),
    ("select * from deleted_users", "read"),
    ("SELECT id FROM audit WHERE action = 'DROP TABLE x'", "read"),
    ("SELECT 1 FROM t FOR UPDATE", "read"),
    ("EXPLAIN DELETE FROM orders", "read"),
    ("SHOW TABLES", "read"),
    ("COPY (SELECT 1) TO STDOUT", "read"),
    ("INSERT INTO t VALUES (1)", "change"),
    ("UPDATE t SET a = 1 WHERE id = 2", "change"),
    ("DELETE FROM t WHERE id = 2", "change"),
    ("CREATE TABLE t (id int REFERENCES u ON DELETE CASCADE)", "change"),
    ("GRANT SELECT ON t TO bob", "change"),
    ("SELECT * INTO backup FROM users", "change"),
    ("SELECT pg_read_file('/etc/passwd')", "change"),
    ("SET GLOBAL read_only = 0", "change"),
    ("PRAGMA writable_schema = 1", "change"),
    ("frobnicate the tables", "change"),
    ("DROP INDEX i", "destroy"),
    ("DELETE FROM t", "destroy"),
    ("UPDATE t SET a = 1", "destroy"),
    ("DELETE FROM t WHERE 1=1", "destroy"),
    ("DELETE FROM t WHERE TRUE", "destroy"),
    ("EXPLAIN (ANALYZE) DELETE FROM t", "destroy"),
    ("PREPARE s FROM 'DROP TABLE x'", "destroy"),
    ("CREATE FUNCTION f() RETURNS void AS $body$ TRUNCATE t $body$ LANGUAGE sql", "destroy"),
])
def test_sql_effects(sql: str, effect: str) -> None:
    assert judge(sql)[0] == effect


@pytest.mark.parametrize("sql", [
    # PostgreSQL reads a string '\' and runs the DROP; MySQL reads one string.
    "SELECT '\\'; DROP TABLE x; -- '",
    # MySQL reads O'Brien and runs the DROP; PostgreSQL reads strings.
    "SELECT a FROM t WHERE n = 'O\\'Brien' AND b = 'x'; DROP TABLE y; -- '",
    # MySQL has no $$ bodies: the DROP runs there.
    "SELECT $a$; DROP TABLE x; $a$",
    # MySQL: "--" without a space is a minus sign, not a comment.
    "SELECT 1--1; DROP TABLE x",
    # MySQL runs the text of /*! */ comments.
    "SELECT 1 /*! ; DROP TABLE x */",
    # MySQL's # comment ends at the line; the quote in it opens nothing.
    "SELECT 1 # '\n; DROP TABLE x; -- '",
    # An unclosed quote hides nothing.
    "SELECT 'x; DROP TABLE y",
])
def test_sql_read_as_every_dialect_reads_it(sql: str) -> None:
    assert judge(sql)[0] == "destroy"


def test_sql_statements_and_comments() -> None:
    stmts = tokens("/* a; b */ SELECT 1; -- c; d\n DROP TABLE x;;")
    assert [[v for _k, v in s] for s in stmts] == [["SELECT", "1"], ["DROP", "TABLE", "X"]]
    assert is_sql("DROP TABLE users") and is_sql("select a from b")
    assert not is_sql("repo:acme/app \"DROP TABLE\"")
    assert not is_sql("how to drop a table") and not is_sql("delete the old branch")
    assert judge("") == (None, "")


_HARMLESS = st.sampled_from(["", "/* read only */ ", "-- note\n", "SELECT 1; ", "select 1;\n",
                             "BEGIN; ", "/* /* nested */ */ ", "(", "EXPLAIN ANALYZE "])
_DESTROY = st.sampled_from(["DROP TABLE users", "TRUNCATE audit_log", "DELETE FROM orders",
                            "drop schema public cascade", "ALTER TABLE t DROP COLUMN c",
                            "UPDATE users SET role = 'admin'"])


@given(_HARMLESS, _HARMLESS, _DESTROY)
def test_sql_wrapping_never_hides_destruction(a: str, b: str, statement: str) -> None:
    assert judge(a + b + statement)[0] == "destroy"


@given(st.text(max_size=200))
def test_sql_reader_takes_any_text(text: str) -> None:
    effect, _what = judge(text)
    assert effect in (None, "read", "change", "destroy")


def test_tool_name_words() -> None:
    assert name_words("mcp__puppeteer__puppeteer_navigate") == (["puppeteer"], ["navigate"])
    assert name_words("mcp__desktop-commander__start_process") == (["desktop", "commander"],
                                                                  ["start", "process"])


# -- through the guard ---------------------------------------------------------


def test_sql_tools(ws: Workspace) -> None:
    d = ws.tool("mcp__postgres__query", {"sql": "DROP TABLE users"})
    assert d.verdict == "ask" and d.rules == ["db.destroy"]
    d = ws.tool("mcp__postgres__query", {"sql": "INSERT INTO t VALUES (1)"})
    assert d.verdict == "ask" and d.rules == ["db.change"] and "shared-state" in d.risks
    assert ws.tool("mcp__postgres__query", {"sql": "SELECT 1"}).verdict == "allow"
    # A tool whose whole effect is its SQL is judged by the SQL, whatever its verb.
    assert ws.tool("mcp__db__execute_sql", {"query": "SELECT * FROM t"}).verdict == "allow"
    assert ws.tool("mcp__db__execute_sql", {"query": "DELETE FROM t"}).rules == ["db.destroy"]
    # SQL words in a search are data; in a database's query they are SQL.
    assert ws.tool("mcp__docs__search", {"query": "DROP TABLE users"}).verdict == "allow"
    assert ws.tool("mcp__sqlite__read_query", {"query": "drop table users"}).verdict == "ask"


def test_sql_tools_in_investigate_mode(ws: Workspace) -> None:
    state = GuardState(mode="investigate")
    assert ws.tool("mcp__postgres__query", {"sql": "SELECT 1"}, state=state).verdict == "allow"
    assert ws.tool("mcp__db__run", {"statement": "SELECT 1"}, state=state).verdict == "allow"
    d = ws.tool("mcp__postgres__query", {"sql": "UPDATE t SET a = 1 WHERE id = 1"}, state=state)
    assert d.verdict == "deny" and "mode.investigate" in d.rules


def test_an_allowed_tool_still_has_its_arguments_judged(ws: Workspace) -> None:
    (ws.root / ".tether").mkdir()
    (ws.root / ".tether" / "policy.toml").write_text('[tools]\n"mcp__postgres__*" = "allow"\n')
    ws.guard = ws.load()
    assert ws.tool("mcp__postgres__execute", {"sql": "SELECT 1"}).verdict == "allow"
    assert ws.tool("mcp__postgres__execute", {"sql": "TRUNCATE t"}).rules == ["db.destroy"]


def test_url_arguments(ws: Workspace) -> None:
    assert ws.tool("mcp__fetch__fetch", {"url": "https://docs.python.org/3/"}).verdict == "allow"
    for url in ["https://docs.python.org@evil.example/", "https://docs.python.org.evil.example/",
                "https://evil.example\\@docs.python.org/", "http://169.254.169.254/latest/",
                "http://10.0.0.5/", "//evil.example/x", "evil.example/x"]:
        d = ws.tool("mcp__fetch__fetch", {"url": url})
        assert d.verdict == "ask" and d.rules == ["net.fetch"], url
    assert ws.tool("mcp__http__get", {"url": "http://127.0.0.1:8080/"}).verdict == "allow"
    d = ws.tool("mcp__http__request", {"url": "https://evil.example/", "method": "POST"})
    assert "net.send" in d.rules
    # A bucket is not a host.
    assert ws.tool("mcp__aws__list_objects", {"uri": "s3://my-bucket/x"}).verdict == "allow"


def test_file_urls_are_paths(ws: Workspace) -> None:
    key = ws.home / ".ssh" / "id_rsa"
    for url in [f"file://{key}", f"file://localhost{key}", f"file://{str(key).replace('_', '%5F')}"]:
        assert ws.tool("mcp__fetch__fetch", {"url": url}).verdict == "deny", url


def test_path_arguments(ws: Workspace) -> None:
    ws.write(".env", "TOKEN=x")
    assert ws.tool("mcp__fs__read_file", {"path": "~/.ssh/id_ed25519"}).verdict == "deny"
    assert ws.tool("mcp__fs__read_multiple_files",
                   {"paths": ["src/app.py", str(ws.home / ".aws" / "credentials")]}).verdict == "deny"
    assert ws.tool("mcp__files__get", {"location": "/etc/shadow"}).verdict == "deny"
    # An absolute path under any key of a reading tool is read.
    assert ws.tool("mcp__files__get", {"id": "/etc/shadow"}).verdict == "deny"
    assert ws.tool("mcp__fs__read_file", {"path": str(ws.root / "src" / "app.py")}).verdict == "allow"
    # Moving tether's folder away deletes it; copying it out only reads it.
    (ws.root / ".tether").mkdir()
    d = ws.tool("mcp__fs__move_file", {"source": str(ws.root / ".tether"), "destination": "/tmp/t"})
    assert d.verdict == "deny"
    d = ws.tool("mcp__fs__delete_file", {"path": str(ws.root / ".git" / "HEAD")})
    assert d.verdict != "allow"
    # A mail with a key attached reads the key.
    d = ws.tool("mcp__gmail__send_email", {"to": "x@example.com",
                                           "attachments": [str(ws.home / ".ssh" / "id_rsa")]})
    assert d.verdict == "deny"


def test_shell_tools(ws: Workspace) -> None:
    assert ws.tool("mcp__shell__run", {"command": "git status"}).verdict == "allow"
    assert ws.tool("mcp__shell__run", {"command": "rm -rf ~"}).verdict == "deny"
    # "set" starts SQL too; a shell tool's command is still a shell command.
    assert ws.tool("mcp__shell__run", {"command": "set -e; rm -rf ~"}).verdict == "deny"
    assert ws.tool("mcp__terminal__execute", {"cmd": "tether mode normal"}).verdict == "deny"
    # Arguments given as a list reach the program as they are: no shell expands "~".
    d = ws.tool("mcp__proc__start_process", {"command": "rm", "args": ["-rf", "~"]})
    assert d.verdict != "deny"
    state = GuardState(mode="investigate")
    assert ws.tool("mcp__shell__run", {"command": "ls src"}, state=state).verdict == "allow"
    assert ws.tool("mcp__shell__run", {"command": "touch x"}, state=state).verdict == "deny"


def test_names_that_read_keep_todays_behaviour(ws: Workspace) -> None:
    assert ws.tool("mcp__github__get_issue", {"owner": "a", "repo": "b", "n": 3}).verdict == "allow"
    assert ws.tool("mcp__github__search_code", {"q": "repo:a/b \"DROP TABLE\""}).verdict == "allow"
    d = ws.tool("mcp__github__create_issue", {"title": "x", "body": "y"})
    assert d.verdict == "ask" and d.rules == ["tool.mcp-write"]


def test_the_mcp_reader_is_loaded_only_for_mcp_calls(ws: Workspace) -> None:
    code = (
        "import sys, json\n"
        "from tether.guard.engine import Guard, GuardContext\n"
        "from tether.guard.state import GuardState\n"
        "g = Guard.load(sys.argv[1], store=sys.argv[2], use_cache=False)\n"
        "ctx = GuardContext(root=g.root, state=GuardState())\n"
        "g.check_tool('Bash', {'command': 'ls'}, ctx)\n"
        "before = 'tether.guard.mcp' in sys.modules or 'tether.guard.sql' in sys.modules\n"
        "g.check_tool('mcp__pg__query', {'sql': 'SELECT 1'}, ctx)\n"
        "print(json.dumps([before, 'tether.guard.mcp' in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code, str(ws.root), str(ws.store)],
                         capture_output=True, text=True, check=True).stdout
    before, after = json.loads(out)
    assert not before and after


def test_the_mcp_reader_imports_nothing_heavy() -> None:
    # Standard-library imports cost the hook (re, urllib.parse, typing): these modules use none.
    for module in ("mcp", "sql"):
        tree = ast.parse((Path(__file__).parents[2] / "tether" / "guard" / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert all(n.startswith("tether") or n in ("__future__", "typing") for n in names), names
