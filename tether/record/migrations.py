"""Schema migrations of the metadata database, applied in order every time it is opened.

Append-only: a migration that has shipped is never edited; a change is a new
migration. Each runs in one transaction together with its "applied" record.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable

from tether import fastjson
from tether.record import journal, rows

Migration = Callable[[sqlite3.Connection], None]


def _script(db: sqlite3.Connection, sql: str) -> None:
    # Not executescript(): it commits first, which would break the migration's transaction.
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            db.execute(buf)
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement: {buf.strip()[:60]}")


def m001_initial(db: sqlite3.Connection) -> None:
    _script(db, """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- One agent conversation.
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        cwd TEXT,
        transcript_path TEXT,
        permission_mode TEXT,
        source TEXT,
        started TEXT NOT NULL,
        ended TEXT,
        end_reason TEXT,
        last_prompt TEXT
    );
    -- One user message that started a turn.
    CREATE TABLE prompts (
        id TEXT PRIMARY KEY,
        session TEXT NOT NULL,
        text TEXT,
        time TEXT NOT NULL
    );
    CREATE INDEX prompts_session ON prompts(session, time);
    -- One recorded change of state: an agent's tool call, or an external change.
    CREATE TABLE steps (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        session TEXT,
        agent TEXT,
        origin TEXT NOT NULL,
        prompt TEXT,
        tool TEXT,
        tool_use_id TEXT,
        input TEXT,
        response TEXT,
        decision TEXT,
        decision_detail TEXT,
        status TEXT NOT NULL,
        error TEXT,
        task TEXT,
        started TEXT NOT NULL,
        ended TEXT
    );
    CREATE INDEX steps_session ON steps(session, seq);
    CREATE INDEX steps_tool_use ON steps(tool_use_id);
    CREATE INDEX steps_prompt ON steps(prompt, seq);
    CREATE INDEX steps_running ON steps(status) WHERE status = 'running';
    -- What each step changed. Paths are raw bytes (file names need not be UTF-8).
    -- ord: the order changes were recorded in, which is the order of each path's chain
    -- (a step of one session can finish after a later step of another).
    CREATE TABLE step_files (
        step INTEGER NOT NULL REFERENCES steps(seq),
        path BLOB NOT NULL,
        ord INTEGER NOT NULL,
        change TEXT NOT NULL,
        old_oid TEXT,
        new_oid TEXT,
        old_mode INTEGER,
        new_mode INTEGER,
        PRIMARY KEY (step, path)
    ) WITHOUT ROWID;
    CREATE INDEX step_files_path ON step_files(path, ord);
    CREATE UNIQUE INDEX step_files_ord ON step_files(ord);
    -- The known state of every workspace file (oid NULL: known to be absent). dirty: changed
    -- by a single-file record (or left to another call) since the last walk, which then
    -- looks at the file itself.
    CREATE TABLE files (
        path BLOB PRIMARY KEY,
        oid TEXT,
        mode INTEGER,
        dirty INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX files_dirty ON files(dirty) WHERE dirty = 1;
    -- Snapshots of the whole workspace taken when recording began or resumed.
    CREATE TABLE baselines (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        tree TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    -- The journal: every hook event, redacted, hash-chained.
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        agent TEXT,
        session TEXT,
        name TEXT NOT NULL,
        step TEXT,
        payload TEXT NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    -- Recording failures, shown by `tether status`.
    CREATE TABLE errors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        event TEXT,
        session TEXT,
        message TEXT NOT NULL
    );
    """)


def m002_history(db: sqlite3.Connection) -> None:
    _script(db, """
    -- Line attribution of each recorded version (see tether.record.attribution):
    -- SQL NULL = not computed yet, JSON null = none (binary).
    ALTER TABLE step_files ADD COLUMN runs TEXT;
    -- A step that records the file changes of one of tether's own operations.
    ALTER TABLE steps ADD COLUMN operation TEXT;
    -- The folder the call was made from (relative paths in its input are relative to it).
    ALTER TABLE steps ADD COLUMN cwd TEXT;
    -- How far the session's transcript has been read for calls no hook reported.
    ALTER TABLE sessions ADD COLUMN transcript_offset INTEGER NOT NULL DEFAULT 0;
    -- Every mutation tether makes to the workspace: rewind, revert, restore, undo.
    CREATE TABLE operations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        target TEXT,
        args TEXT,
        reason TEXT,
        user TEXT,
        host TEXT,
        pid INTEGER,
        command TEXT,
        state TEXT NOT NULL,
        error TEXT,
        undoes TEXT,
        step INTEGER,
        started TEXT NOT NULL,
        ended TEXT
    );
    CREATE INDEX operations_pending ON operations(state) WHERE state = 'pending';
    -- What an operation changes: each path from (oid, mode) to (oid, mode); NULL = absent.
    CREATE TABLE operation_files (
        op INTEGER NOT NULL REFERENCES operations(seq),
        path BLOB NOT NULL,
        from_oid TEXT,
        from_mode INTEGER,
        to_oid TEXT,
        to_mode INTEGER,
        runs TEXT,
        PRIMARY KEY (op, path)
    ) WITHOUT ROWID;
    -- The git commits behind the baseline lines of a file (cache for blame).
    CREATE TABLE baseline_commits (
        path BLOB NOT NULL,
        oid TEXT NOT NULL,
        head TEXT NOT NULL,
        commits TEXT NOT NULL,
        PRIMARY KEY (path, oid, head)
    ) WITHOUT ROWID;
    """)


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def m003_level_early_stores(db: sqlite3.Connection) -> None:
    """Bring stores made while m001 and m002 were still being edited up to today's schema.

    m001 and m002 changed after stores had been made with them (a store records which
    migrations it ran, not what they said then), so such a store can lack a column today's
    code needs, or keep one since dropped:

    - m001 first had no ``step_files.ord`` (and indexed step_files by step);
    - m002 first had no ``steps.cwd``, ``sessions.transcript_offset`` or ``operations.error``;
    - m001 had ``files.walk_oid`` and ``files.walk_mode`` until they were dropped.

    Each is checked on the store itself, so this does nothing to a store made by today's
    m001 and m002. Rather than edit either of them again, this migration settles it.
    """
    if "ord" not in _columns(db, "step_files"):
        # Changes are numbered in step order: the order of recording was not kept, and for
        # the stores of that time (one session at a time) it is the same order.
        _script(db, """
        CREATE TABLE step_files_level (
            step INTEGER NOT NULL REFERENCES steps(seq),
            path BLOB NOT NULL,
            ord INTEGER NOT NULL,
            change TEXT NOT NULL,
            old_oid TEXT,
            new_oid TEXT,
            old_mode INTEGER,
            new_mode INTEGER,
            runs TEXT,
            PRIMARY KEY (step, path)
        ) WITHOUT ROWID;
        INSERT INTO step_files_level(step, path, ord, change, old_oid, new_oid, old_mode, new_mode, runs)
            SELECT step, path, ROW_NUMBER() OVER (ORDER BY step, path), change, old_oid, new_oid, old_mode,
                   new_mode, runs
            FROM step_files;
        DROP TABLE step_files;
        ALTER TABLE step_files_level RENAME TO step_files;
        CREATE INDEX step_files_path ON step_files(path, ord);
        CREATE UNIQUE INDEX step_files_ord ON step_files(ord);
        """)
    if "cwd" not in _columns(db, "steps"):
        db.execute("ALTER TABLE steps ADD COLUMN cwd TEXT")
    if "transcript_offset" not in _columns(db, "sessions"):
        db.execute("ALTER TABLE sessions ADD COLUMN transcript_offset INTEGER NOT NULL DEFAULT 0")
    if "error" not in _columns(db, "operations"):
        # Last rather than after "state" as in a new store; tether names every column it reads.
        db.execute("ALTER TABLE operations ADD COLUMN error TEXT")
    if "walk_oid" in _columns(db, "files"):
        # Rebuilt rather than ALTER TABLE ... DROP COLUMN, which older SQLite builds lack.
        _script(db, """
        CREATE TABLE files_level (
            path BLOB PRIMARY KEY,
            oid TEXT,
            mode INTEGER,
            dirty INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        INSERT INTO files_level(path, oid, mode, dirty) SELECT path, oid, mode, dirty FROM files;
        DROP TABLE files;
        ALTER TABLE files_level RENAME TO files;
        CREATE INDEX files_dirty ON files(dirty) WHERE dirty = 1;
        """)


def m004_row_digests(db: sqlite3.Connection) -> None:
    """The journal commits to the rows of the record (journal.py, rows.py).

    Adds ``events.rows`` and the triggers that note every change to a sealed row, gives
    the store a random id (the name of its anchor outside the store, anchor.py), and
    appends one event that takes every sealed row as it is now. Events before it carry no
    row digests: rows are checked from this event on, as they were when it was written.
    """
    db.execute("ALTER TABLE events ADD COLUMN rows TEXT")
    rows.create_triggers(db)
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('store_id', ?)", (os.urandom(16).hex(),))
    (time,) = db.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()
    journal.seal_all(db, time, fastjson.dumps(
        {"reason": "row digests begin: every row of the record as it was when this store was upgraded"}))


def m005_deliveries(db: sqlite3.Connection) -> None:
    """The hook's id of each event delivery, so that an event is journaled once.

    A hook hands its event to the daemon; when the daemon dies after committing it but
    before answering, the hook does the work itself under the same id, and the recorder
    skips an event whose delivery is already here. Not part of the hash chain: it says
    how the event arrived, not what it was.
    """
    _script(db, """
    ALTER TABLE events ADD COLUMN delivery TEXT;
    CREATE UNIQUE INDEX events_delivery ON events(delivery) WHERE delivery IS NOT NULL;
    """)


MIGRATIONS: list[tuple[str, Migration]] = [
    ("m001_initial", m001_initial),
    ("m002_history", m002_history),
    ("m003_level_early_stores", m003_level_early_stores),
    ("m004_row_digests", m004_row_digests),
    ("m005_deliveries", m005_deliveries),
]


def migrate(db: sqlite3.Connection) -> None:
    """Bring the schema up to date. Cheap when it already is: one pragma read."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version == len(MIGRATIONS):
        return
    if version > len(MIGRATIONS):
        from tether.errors import StoreError

        raise StoreError(
            f"the store was written by a newer tether (schema {version}, this one knows "
            f"{len(MIGRATIONS)}); upgrade tether")
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for index, (name, fn) in enumerate(MIGRATIONS, start=1):
        db.execute("BEGIN IMMEDIATE")
        try:
            done = db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone()
            if not done:
                fn(db)
                db.execute(
                    "INSERT INTO _migrations(name, applied) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                    (name,))
            db.execute(f"PRAGMA user_version = {index}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
