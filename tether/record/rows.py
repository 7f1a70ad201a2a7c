"""Row digests: what the journal commits to about the rows of the record.

The sealed tables (``SEALED``) are the record a person reads: sessions, prompts, steps,
what each step changed with its line attribution (``step_files``), tether's own
operations and their files, and the baselines. Each of them has three triggers
(``trigger_sql``) that note, in ``seal_pending``, every row a transaction inserts,
updates or deletes, with the row's image as it was before the transaction's first
change to it (an insert notes "absent"). Before the transaction commits, the journal
(journal.py) turns those notes into entries ``[table, key, before, after]``, where
``before`` and ``after`` are digests of the row's image (None: absent), and puts them
in the hash-chained event it appends. Only tether's connections ever seal: a note
left by a write from outside (another program on the database, with the triggers in
place) is discarded when tether next opens a transaction (``discard_foreign``), so
such a write is never sealed as tether's own.

The invariant `tether verify` checks: replaying the entries in journal order, each
entry's ``before`` equals the ``after`` of the previous entry for the same row (or the
row was unknown), and at the end every row of every sealed table has exactly the
digest of the last entry for it, and every row the journal last saw present exists.
An edit, insert or delete of a sealed row by anything other than tether breaks it:
at the row itself, or, when tether changed that row again afterwards, at the entry
whose ``before`` no longer matches.

A digest is ``<32 hex>.<4 hex per column>``: the first part is SHA-256 (truncated to
128 bits) over the table's name and every column, each encoded with its type and
length; the second, a CRC of each column, only tells a person *which* columns
differ. A migration that changes a sealed table's columns must widen ``SEALED``,
recreate the triggers (``create_triggers``) and append an event that re-seals every
row of that table as it is (``journal.seal_all``).
"""

from __future__ import annotations

import zlib

from tether.record.digest import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Sequence

class Table:
    """A sealed table: its columns, in digest order, and the columns of its key."""

    def __init__(self, name: str, key: tuple[str, ...], columns: tuple[str, ...]) -> None:
        self.name = name
        self.key = key
        self.columns = columns
        self.key_index = tuple(columns.index(k) for k in key)
        cols = ", ".join(columns)
        self.select_all = f"SELECT {cols} FROM {name}"
        self.select_one = f"SELECT {cols} FROM {name} WHERE " + " AND ".join(f"{k} = ?" for k in key)

    def key_of(self, row: Sequence[object]) -> str:
        """The row's key as the journal writes it: ``12``, ``abc…``, or ``12:<path as hex>``."""
        return ":".join(_key_part(row[i]) for i in self.key_index)


def _key_part(value: object) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)


_T = Table
SEALED: dict[str, Table] = {t.name: t for t in (
    _T("sessions", ("id",), ("id", "agent", "cwd", "transcript_path", "permission_mode", "source", "started",
                             "ended", "end_reason", "last_prompt", "transcript_offset")),
    _T("prompts", ("id",), ("id", "session", "text", "time")),
    _T("steps", ("seq",), ("seq", "id", "session", "agent", "origin", "prompt", "tool", "tool_use_id", "input",
                           "response", "decision", "decision_detail", "status", "error", "task", "started", "ended",
                           "operation", "cwd")),
    _T("step_files", ("step", "path"), ("step", "path", "ord", "change", "old_oid", "new_oid", "old_mode",
                                        "new_mode", "runs")),
    _T("operations", ("seq",), ("seq", "id", "kind", "target", "args", "reason", "user", "host", "pid", "command",
                                "state", "error", "undoes", "step", "started", "ended")),
    _T("operation_files", ("op", "path"), ("op", "path", "from_oid", "from_mode", "to_oid", "to_mode", "runs")),
    _T("baselines", ("seq",), ("seq", "time", "tree", "reason")),
)}
# Image columns of seal_pending: as many as the widest sealed table has.
WIDTH = max(len(t.columns) for t in SEALED.values())
_IMAGE = ", ".join(f"c{i}" for i in range(WIDTH))


# -- the schema ---------------------------------------------------------------------


def create_triggers(db: sqlite3.Connection) -> None:
    """(Re)create ``seal_pending`` and every sealed table's triggers, as the current columns need."""
    db.execute("DROP TABLE IF EXISTS seal_pending")
    db.execute(f"CREATE TABLE seal_pending (tbl TEXT NOT NULL, k1 NOT NULL, k2 NOT NULL, had INTEGER NOT NULL, "
               f"{_IMAGE}, PRIMARY KEY (tbl, k1, k2)) WITHOUT ROWID")
    for name, sql in trigger_sql().items():
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute(sql)


def trigger_sql() -> dict[str, str]:
    """The name and SQL of every trigger that notes changes to sealed rows."""
    out: dict[str, str] = {}
    for t in SEALED.values():
        note_new = _note(t, "NEW", "")
        note_old = _note(t, "OLD", "".join(f", OLD.{c}" for c in t.columns))
        out[f"tether_seal_{t.name}_insert"] = (
            f"CREATE TRIGGER tether_seal_{t.name}_insert AFTER INSERT ON {t.name} BEGIN {note_new} END")
        out[f"tether_seal_{t.name}_update"] = (
            f"CREATE TRIGGER tether_seal_{t.name}_update AFTER UPDATE ON {t.name} BEGIN {note_old} {note_new} END")
        out[f"tether_seal_{t.name}_delete"] = (
            f"CREATE TRIGGER tether_seal_{t.name}_delete AFTER DELETE ON {t.name} BEGIN {note_old} END")
    return out


def _note(t: Table, row: str, image: str) -> str:
    # The first note of a row in a transaction wins: it holds the row as it was before. (Not
    # INSERT OR IGNORE: an upsert that fires the trigger imposes its own conflict handling on
    # the statements inside it.)
    k1 = f"{row}.{t.key[0]}"
    k2 = f"{row}.{t.key[1]}" if len(t.key) > 1 else "''"
    cols = "".join(f", c{i}" for i in range(len(t.columns))) if image else ""
    return (f"INSERT INTO seal_pending(tbl, k1, k2, had{cols}) SELECT '{t.name}', {k1}, {k2}, "
            f"{1 if image else 0}{image} WHERE NOT EXISTS (SELECT 1 FROM seal_pending WHERE "
            f"tbl = '{t.name}' AND k1 = {k1} AND k2 = {k2});")


# -- digests ------------------------------------------------------------------------


def _encode(value: object) -> bytes:
    # Type and length are part of every column, so no two different rows encode alike.
    if value is None:
        return b"n"
    if isinstance(value, bytes):
        data, tag = value, b"b"
    elif isinstance(value, str):
        data, tag = value.encode("utf-8", "surrogatepass"), b"s"
    elif isinstance(value, int):
        data, tag = str(value).encode(), b"i"
    else:
        data, tag = repr(value).encode(), b"f"
    return tag + str(len(data)).encode() + b":" + data


def digest(table: str, row: Sequence[object]) -> str:
    parts = [_encode(value) for value in row]
    full = sha256(table.encode() + b"\0" + b"".join(parts)).hexdigest()[:32]
    return full + "." + "".join([format(zlib.crc32(p) & 0xFFFF, "04x") for p in parts])


def differing(table: str, a: str, b: str) -> list[str]:
    """The columns whose hints differ between two digests of a row of ``table``."""
    columns = SEALED[table].columns if table in SEALED else ()
    ha, hb = a.partition(".")[2], b.partition(".")[2]
    out = [columns[i // 4] if i // 4 < len(columns) else f"column {i // 4 + 1}"
           for i in range(0, max(len(ha), len(hb)), 4) if ha[i:i + 4] != hb[i:i + 4]]
    return out


# -- sealing and reading ---------------------------------------------------------------

# [table, key, before digest | None, after digest | None]
Entry = list[str | None]


def discard_foreign(db: sqlite3.Connection) -> None:
    """Drop notes a transaction of tether did not make (a write from outside, with the
    triggers in place), so that they are never sealed as tether's own changes."""
    if db.execute("SELECT 1 FROM seal_pending LIMIT 1").fetchone() is not None:
        db.execute("DELETE FROM seal_pending")


def collect(db: sqlite3.Connection) -> list[Entry]:
    """The entries for every row this transaction changed; the notes are cleared."""
    notes = db.execute(f"SELECT tbl, k1, k2, had, {_IMAGE} FROM seal_pending").fetchall()
    if not notes:
        return []
    db.execute("DELETE FROM seal_pending")
    entries: list[Entry] = []
    for name, k1, k2, had, *image in notes:
        t = SEALED.get(name)
        if t is None:
            continue
        key_values = (k1, k2)[:len(t.key)]
        before = digest(name, image[:len(t.columns)]) if had else None
        now = db.execute(t.select_one, key_values).fetchone()
        after = None if now is None else digest(name, now)
        if before != after:
            entries.append([name, ":".join(_key_part(v) for v in key_values), before, after])
    entries.sort(key=lambda e: (e[0], e[1]))
    return entries


def rows(db: sqlite3.Connection, table: str) -> Iterator[tuple[str, str, tuple[object, ...]]]:
    """(key, digest, row) of every row of a sealed table as it is now."""
    t = SEALED[table]
    for row in db.execute(t.select_all):
        yield t.key_of(row), digest(table, row), tuple(row)
