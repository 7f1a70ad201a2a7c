"""Stores made by earlier versions open with today's code: every migration applies, nothing is lost.

Each fixture in old_stores/ is a store made by that commit's own code (old_stores/make.py
says how): its schema version, its database as SQL statements, its objects. m001 and m002
were edited after stores had been made with them; m003 brings such stores level.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support import Session
from tether.cli import cli
from tether.record.migrations import MIGRATIONS
from tether.record.objects import ObjectStore
from tether.record.store import SCHEMA_VERSION, Store

FIXTURES = sorted((Path(__file__).resolve().parent / "old_stores").glob("*.json"))


def _lay_out(root: Path, fixture: dict[str, Any]) -> None:
    """The store exactly as the fixture's commit left it, and the workspace as its store knows it."""
    store = Store.for_root(str(root))
    os.makedirs(store.path)
    ObjectStore(store.objects.path).create()
    objects: dict[str, bytes] = {}
    for oid, (kind, body64) in fixture["objects"].items():
        body = base64.b64decode(body64)
        objects[oid] = body
        path = Path(store.objects.objects, oid[:2], oid[2:])
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(zlib.compress(f"{kind} {len(body)}".encode() + b"\0" + body))
    db = sqlite3.connect(store.db_path)
    for statement in fixture["sql"]:
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {int(fixture['user_version'])}")
    db.commit()
    for rel, oid in db.execute("SELECT path, oid FROM files WHERE oid IS NOT NULL"):
        path = root / os.fsdecode(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(objects[oid])
    db.close()


def _tables(db: sqlite3.Connection) -> list[str]:
    return [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _schema(db: sqlite3.Connection) -> dict[str, Any]:
    """Each table's columns, keys, indexes and foreign keys (column order aside: tether names
    every column it reads, and m003 adds operations.error last)."""
    out: dict[str, Any] = {}
    for table in _tables(db):
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        columns = {r[1]: (r[2].upper(), r[3], r[4], r[5]) for r in db.execute(f"PRAGMA table_info({table})")}
        indexes = {}
        for _, name, unique, origin, partial in db.execute(f"PRAGMA index_list({table})"):
            row = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            where = " ".join(row[0].split()).partition(" WHERE ")[2] if row and row[0] else ""
            key = name if origin == "c" else f"({origin})"
            indexes[key] = (unique, partial, where,
                            [r[2] for r in db.execute(f"PRAGMA index_info({name})")])
        keys = sorted(tuple(r[2:5]) for r in db.execute(f"PRAGMA foreign_key_list({table})"))
        out[table] = (columns, indexes, keys, "WITHOUT ROWID" in sql.upper())
    return out


def _rows(db: sqlite3.Connection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    names = ", ".join(columns)
    return db.execute(f"SELECT {names} FROM {table} ORDER BY {names}").fetchall()


def _tether(root: Path, *args: str) -> Any:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert res.exit_code == 0, (args, res.output, res.stderr)
    return json.loads(res.stdout) if "--json" in args else res


@pytest.fixture
def fresh(tmp_path: Path) -> Store:
    root = tmp_path / "fresh"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return Store.open(str(root), create=True)


def test_there_are_old_stores_of_each_earlier_schema_version() -> None:
    made = {json.loads(f.read_text())["user_version"] for f in FIXTURES}
    # Schema 4 never reached main on its own (row digests and deliveries landed together as 4 and 5).
    assert made == {1, 2, 3} and SCHEMA_VERSION == len(MIGRATIONS) == 5


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_an_old_store_is_upgraded_and_keeps_everything(tmp_path: Path, path: Path, fresh: Store) -> None:
    fixture = json.loads(path.read_text())
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    _lay_out(root, fixture)
    old = sqlite3.connect(":memory:")
    for statement in fixture["sql"]:
        old.execute(statement)

    store = Store.open(str(root))
    db = store.db
    # Every migration is recorded as applied, and the store is at today's version.
    assert [n for (n,) in db.execute("SELECT name FROM _migrations ORDER BY name")] == [n for n, _ in MIGRATIONS]
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # Level with a store made today: nothing missing, nothing left over.
    assert _schema(db) == _schema(fresh.db)
    # Every row of every table survives, in every column that still exists.
    for table in _tables(old):
        kept = [c for c in (r[1] for r in old.execute(f"PRAGMA table_info({table})"))
                if c in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}]
        now, before = _rows(db, table, kept), _rows(old, table, kept)
        if table == "_migrations":
            assert now[:len(before)] == before and len(now) == len(MIGRATIONS)
        elif table == "events":
            # Kept as they were, and one more: the upgrade that begins the row digests.
            assert now[:len(before)] == before and len(now) == len(before) + 1
        elif table == "meta":
            # And the store's new id, the name of its journal's anchor.
            assert [r for r in now if r[0] != "store_id"] == before and len(now) == len(before) + 1
        else:
            assert now == before, table
    old_steps = [r[0] for r in old.execute("SELECT id FROM steps ORDER BY seq")]
    old_events = old.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    operations = old.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'operations'").fetchone()[0]
    store.close()

    log = _tether(root, "log", "--json")
    assert [s["id"] for s in log] == old_steps
    by_tool = {s["tool"]: s for s in log if s["origin"] == "agent" and s["status"] == "ok"}
    assert by_tool["Write"]["files"] == [{"path": "src/hello.py", "change": "added"}]
    assert sorted(f["path"] for f in by_tool["Bash"]["files"]) == ["README.md", "notes.txt"]
    [denied] = [s for s in log if s["status"] == "blocked"]
    assert denied["decision"] == "deny" and denied["files"] == []
    [person] = [s for s in log if s["origin"] == "external" and s["tool"] is None]
    assert person["files"] == [{"path": "src/app.py", "change": "modified"}]
    assert "ghp_" + "a" * 36 not in json.dumps(log), "redacted then, still redacted"
    assert "+def hello():" in _tether(root, "show", by_tool["Write"]["id"], "--json")["diff"]
    report = _tether(root, "verify", "--json")
    assert report["ok"] and report["events"] == old_events + 1 and report["problems"] == []
    assert report["notes"][0].startswith(f"events 1-{old_events} were recorded before row digests")
    assert report["anchor"]["state"] == "ok" and report["rows"] > 0
    blame = _tether(root, "blame", "src/hello.py", "--json")
    assert [e["text"] + "\n" for e in blame] == (root / "src" / "hello.py").read_text().splitlines(keepends=True)
    assert blame[0]["step"] == by_tool["Write"]["id"]

    if operations:
        [rewind] = _tether(root, "ops", "--json")
        assert (rewind["kind"], rewind["state"], rewind["reason"]) == ("rewind", "done", "too loud")
        _tether(root, "undo", "--yes")
        assert (root / "src" / "hello.py").read_text() == "def hello():\n    return 'HI'\n"

    # And recording goes on where it left off.
    store = Store.open(str(root))
    s = Session(store, "after-upgrade")
    s.start()
    s.say("one more")
    s.write("src/more.py", "more = True\n", "w1")
    s.stop()
    store.close()
    log = _tether(root, "log", "--json")
    assert log[-1]["files"] == [{"path": "src/more.py", "change": "added"}]
    assert _tether(root, "verify", "--json")["ok"]
