"""The journal: every hook event, redacted, in a hash chain.

Each row's hash covers the previous row's hash and its own fields, so removing or
editing any event breaks the chain from there on. The recorder appends to it;
`tether verify` (verify.py) recomputes it. Both use ``chain_hash`` below, so the
two can never disagree about what is hashed.
"""

from __future__ import annotations

from tether.record.digest import sha256
from tether.record.store import now

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

# The "previous hash" of the first event.
GENESIS = "0" * 64


def chain_hash(prev: str, time: str, name: str, session: str | None, payload: str) -> str:
    h = sha256()
    for part in (prev, time, name, session or "", payload):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def append(db: sqlite3.Connection, agent: str | None, session: str | None, name: str, step: str | None,
           payload: str, delivery: str | None = None) -> None:
    """Add one event (its payload already redacted and serialised) at the end of the chain.

    ``delivery`` is the hook's id for this event (see ``delivered``); it is not hashed.
    """
    row = db.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    prev = row[0] if row else GENESIS
    t = now()
    db.execute(
        "INSERT INTO events(time, agent, session, name, step, payload, prev, hash, delivery) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (t, agent, session, name, step, payload, prev, chain_hash(prev, t, name, session, payload), delivery))


def delivered(db: sqlite3.Connection, delivery: str | None) -> tuple[bool, str | None]:
    """Whether an event of this delivery id is journaled already, and the step it made."""
    if not delivery:
        return False, None
    row = db.execute("SELECT step FROM events WHERE delivery = ?", (delivery,)).fetchone()
    return (False, None) if row is None else (True, row[0])
