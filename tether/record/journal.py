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
           payload: str) -> None:
    """Add one event (its payload already redacted and serialised) at the end of the chain."""
    row = db.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    prev = row[0] if row else GENESIS
    t = now()
    db.execute(
        "INSERT INTO events(time, agent, session, name, step, payload, prev, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (t, agent, session, name, step, payload, prev, chain_hash(prev, t, name, session, payload)))
