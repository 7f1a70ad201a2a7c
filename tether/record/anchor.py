"""The journal's anchor: its head (sequence number and hash), kept outside the store.

A hash chain shows that no event in it was changed or removed, but not that events
were cut off its end (``DELETE FROM events WHERE seq > N``, and the rows set back to
match). So after every commit that appends to the journal, its head is written to
``<data folder>/tether/anchors/<store id>.json`` (``workspace.data_home()``; the store
id is a random name kept in the store's ``meta`` table, so the anchor follows a
repository that moves and a new store never inherits an old one's anchor).

Why a file in the user's data folder rather than a ref in the repository's git
database (``refs/tether/journal``):

- It is outside the workspace. The agent's OS sandbox lets the commands it runs write
  only inside the workspace (and temporary folders), so they cannot move the anchor,
  while ``.git/refs`` must stay writable for the agent's own commits.
- It is cheap enough to write at every event: one small read and one ``pwrite`` of a
  fixed-size record in place (tens of microseconds), where a ref would cost git
  processes (milliseconds each) and so could only be written now and then, leaving
  the last events of a session unanchored.
- It works for workspaces that are not git repositories.

The record is rewritten in place, not replaced by a rename: a rename costs a
journal commit of the file system (about 0.25 ms here), and a record of one block
written with one ``pwrite`` is never seen half-written. It is not synced: after a
power cut it may name an earlier event than the journal's last, which is allowed.

The anchor only moves forward. Before moving it, the writer checks that the event it
names is still in the journal with that hash; if it is not (the journal was cut or
rewritten since), the anchor is left where it is, as evidence, and `tether verify`
reports it until a person looks.
"""

from __future__ import annotations

import os

from tether import fastjson, workspace

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

# One disk sector: written with one pwrite, it is never seen torn.
RECORD = 512


def path(store_id: str) -> str:
    return os.path.join(workspace.data_home(), "anchors", f"{store_id}.json")


def store_id(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
    return None if row is None else str(row[0])


def read(where: str) -> dict[str, Any] | None:
    """The anchor at ``where``; None when there is none. ValueError when it is unreadable."""
    try:
        fd = os.open(where, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        data = os.read(fd, RECORD * 4)
    finally:
        os.close(fd)
    if not data.strip():
        return None  # created, but a crash came before its first record reached the disk
    value = fastjson.loads(data.decode("utf-8").strip())
    if not (isinstance(value, dict) and isinstance(value.get("seq"), int) and isinstance(value.get("hash"), str)):
        raise ValueError("not an anchor record")
    return value


def advance(db: sqlite3.Connection, store_path: str, seq: int, hash_: str, time: str) -> str | None:
    """Move the anchor to event ``seq`` (committed, with hash ``hash_``).

    Returns a problem to report when the anchor could not be moved because the event it
    names is no longer in the journal as it was; None otherwise.
    """
    sid = store_id(db)
    if sid is None:
        return "the store has no id, so its journal cannot be anchored"
    where = path(sid)
    try:
        old = read(where)
    except (ValueError, UnicodeDecodeError):
        return f"the journal's anchor ({where}) is unreadable; it was kept as it is"
    if old is not None:
        if old["seq"] > seq or old == {**old, "seq": seq, "hash": hash_}:
            return None  # another process anchored this event or a later one already
        row = db.execute("SELECT hash FROM events WHERE seq = ?", (old["seq"],)).fetchone()
        if row is None or row[0] != old["hash"]:
            return (f"the journal's anchor names event {old['seq']}, which is no longer in the journal as it "
                    f"was: events were cut off the end or rewritten; the anchor ({where}) was kept as it is")
    record = fastjson.dumps({"seq": seq, "hash": hash_, "time": time, "store": store_path[-300:]},
                            ensure_ascii=True)
    data = record.encode("utf-8").ljust(RECORD - 1) + b"\n"
    try:
        fd = os.open(where, os.O_WRONLY | os.O_CREAT, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(where), mode=0o700, exist_ok=True)
        fd = os.open(where, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, data, 0)
    finally:
        os.close(fd)
    return None
