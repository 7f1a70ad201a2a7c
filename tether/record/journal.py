"""The journal: every hook event, redacted, in a hash chain that also commits to the record's rows.

Each row's hash covers the previous row's hash and its own fields, so removing or
editing any event breaks the chain from there on. Since schema 4 an event also
carries ``rows``: the digests of every sealed row (rows.py) that the transaction
appending it changed, before and after, and its hash covers them (and the event's
agent and step). Every transaction of the store ends with such an event when it
changed a sealed row (``seal``; the recorder's own event does it for a hook event),
so the journal holds the whole history of every sealed row. Events from before
schema 4 have ``rows`` NULL and are hashed as they always were.

The head of the chain is also kept outside the store (anchor.py), so that events
cut off the end are found too. The recorder appends to the journal; `tether verify`
(verify.py) recomputes it. Both use ``chain_hash`` below, so the two can never
disagree about what is hashed.
"""

from __future__ import annotations

from tether import fastjson
from tether.record import rows as sealed
from tether.record.digest import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

# The "previous hash" of the first event.
GENESIS = "0" * 64
# The names of the events that tether itself appends (every other name is a hook event's).
SEAL = "tether:write"
UPGRADE = "tether:row-digests"


def chain_hash(prev: str, time: str, name: str, session: str | None, payload: str,
               agent: str | None = None, step: str | None = None, rows: str | None = None) -> str:
    h = sha256()
    parts: tuple[str, ...] = (prev, time, name, session or "", payload)
    if rows is not None:
        # Schema 4 on: the row digests, and the two fields the first chain left out.
        parts += ("rows", agent or "", step or "", rows)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def head(db: sqlite3.Connection) -> tuple[int, str] | None:
    """(seq, hash) of the last event."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def append(db: sqlite3.Connection, time: str, agent: str | None, session: str | None, name: str,
           step: str | None, payload: str, delivery: str | None = None) -> None:
    """Add one event (its payload already redacted and serialised) at the end of the chain,
    with the digests of every sealed row this transaction changed so far.

    ``delivery`` is the hook's id for this event (see ``delivered``); it is not hashed: it
    says how the event arrived, not what it was.
    """
    _append(db, time, agent, session, name, step, payload, sealed.collect(db), delivery)


def seal(db: sqlite3.Connection, time: str, payload: Callable[[], str]) -> bool:
    """Before a commit: if the transaction changed sealed rows that no event covers yet
    (tether's own commands, the hook's completion of an operation), append an event for them."""
    entries = sealed.collect(db)
    if not entries:
        return False
    _append(db, time, None, None, SEAL, None, payload(), entries)
    return True


def seal_all(db: sqlite3.Connection, time: str, payload: str) -> None:
    """Append an event that takes every sealed row as it is now (a migration that brings in
    or changes row digests). Nothing before it can be checked against the rows."""
    entries: list[sealed.Entry] = []
    for table in sealed.SEALED:
        entries.extend([table, key, None, digest] for key, digest, _ in sealed.rows(db, table))
    db.execute("DELETE FROM seal_pending")
    if entries or head(db) is not None:
        _append(db, time, None, None, UPGRADE, None, payload, entries)


def _append(db: sqlite3.Connection, time: str, agent: str | None, session: str | None, name: str,
            step: str | None, payload: str, entries: list[sealed.Entry],
            delivery: str | None = None) -> None:
    last = head(db)
    prev = last[1] if last else GENESIS
    rows = fastjson.dumps(entries)
    values = (time, agent, session, name, step, payload, prev,
              chain_hash(prev, time, name, session, payload, agent, step, rows), rows)
    if delivery is None:
        # Without the column too: migration m004 journals before m005 adds it.
        db.execute("INSERT INTO events(time, agent, session, name, step, payload, prev, hash, rows) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    else:
        db.execute("INSERT INTO events(time, agent, session, name, step, payload, prev, hash, rows, "
                   "delivery) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*values, delivery))


def delivered(db: sqlite3.Connection, delivery: str | None) -> tuple[bool, str | None]:
    """Whether an event of this delivery id is journaled already, and the step it made."""
    if not delivery:
        return False, None
    row = db.execute("SELECT step FROM events WHERE delivery = ?", (delivery,)).fetchone()
    return (False, None) if row is None else (True, row[0])
