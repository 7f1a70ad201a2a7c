"""`tether verify`: the record is what tether wrote.

What it checks, in order:

1. The journal's hash chain: each event's ``prev`` is the hash of the event before it,
   its hash matches its fields (with its row digests, since schema 4), and no event
   is missing between two others (sequence numbers only ever grow by one).
2. Its end, against the anchor outside the store (anchor.py): the anchored event must
   still be in the journal with the anchored hash, so events cut off the end, or a
   journal rewritten and re-hashed from some point on, are found.
3. Every row of the sealed tables (rows.py: sessions, prompts, steps, step_files,
   operations, operation_files, baselines) against the journal: replaying the row
   digests of every event, each change of a row must start from the state the
   journal last recorded for it, and every row as it is now must have the digest of
   the last event that wrote it. A row edited, added or deleted by anything other
   than tether is named, with the columns that differ.
4. The triggers that note changes to sealed rows are all in place.
5. With objects, every stored file version hashes to its id.

Events recorded before schema 4 carry no row digests: rows are checked from the
event that upgraded the store on, as they were then, and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tether.record import anchor, rows
from tether.record.journal import GENESIS, chain_hash
from tether.record.store import Store


@dataclass
class Finding:
    kind: str
    message: str
    table: str | None = None
    row: str | None = None
    event: int | None = None
    columns: list[str] = field(default_factory=list)


@dataclass
class Report:
    events: int = 0
    objects: int = 0
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    anchor: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        return [f.message for f in self.findings]

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, message: str, **kw: Any) -> None:
        self.findings.append(Finding(kind, message, **kw))


def _row_name(db: Any, table: str, key: str) -> str:
    """A row as a person would look it up: ``steps 12 (id 3fa2c1d0)``, ``step_files (step 12, src/a.py)``."""
    if table in ("step_files", "operation_files"):
        owner, _, path_hex = key.partition(":")
        try:
            path = bytes.fromhex(path_hex).decode("utf-8", "backslashreplace")
        except ValueError:
            path = path_hex
        return f"{table} row ({'step' if table == 'step_files' else 'operation'} {owner}, {path})"
    if table in ("steps", "operations"):
        found = db.execute(f"SELECT id FROM {table} WHERE seq = ?", (key,)).fetchone()
        return f"{table} row {key}" + (f" (id {found[0][:12]})" if found else "")
    return f"{table} row {key if len(key) <= 16 else key[:12] + '...'}"


def verify(store: Store, objects: bool = True) -> Report:
    report = Report()
    db = store.db
    prev = GENESIS
    last_seq: int | None = None
    first_sealed: int | None = None
    unsealed: list[int] = []
    # (table, key) -> (digest or None for absent, the event that recorded it)
    latest: dict[tuple[str, str], tuple[str | None, int]] = {}
    by_seq: dict[int, str] = {}
    for seq, time, agent, name, session, step, payload, stored_prev, stored_hash, digests in db.execute(
            "SELECT seq, time, agent, name, session, step, payload, prev, hash, rows FROM events ORDER BY seq"):
        report.events += 1
        by_seq[seq] = stored_hash
        if last_seq is not None and seq != last_seq + 1:
            report.add("events-missing", f"events {last_seq + 1}-{seq - 1} are missing from the journal "
                       "(deleted)", event=seq)
        last_seq = seq
        if stored_prev != prev:
            report.add("chain-broken", f"event {seq}: the chain is broken (an event before it was removed or "
                       "changed)", event=seq)
        if chain_hash(stored_prev, time, name, session, payload, agent, step, digests) != stored_hash:
            report.add("event-edited", f"event {seq}: its content does not match its hash (it was edited)",
                       event=seq)
        prev = stored_hash
        if digests is None:
            if first_sealed is None:
                unsealed.append(seq)
            else:
                report.add("digests-removed", f"event {seq} carries no row digests, though earlier events do "
                           "(they were removed)", event=seq)
            continue
        if first_sealed is None:
            first_sealed = seq
        try:
            entries = json.loads(digests)
        except ValueError:
            report.add("event-edited", f"event {seq}: its row digests are unreadable", event=seq)
            continue
        for table, key, before, after in entries:
            known = latest.get((table, key))
            expected = known[0] if known else None
            if before != expected:
                what = (f"was changed outside tether before event {seq} changed it again"
                        if before is not None and expected is not None else
                        f"was added outside tether before event {seq} changed it" if expected is None else
                        f"was deleted outside tether before event {seq} wrote it again")
                cols = rows.differing(table, expected, before) if before and expected else []
                report.add("row-changed-before", f"{_row_name(db, table, key)} {what}"
                           + (f" ({', '.join(cols)} differed)" if cols else ""),
                           table=table, row=key, event=seq, columns=cols)
            latest[(table, key)] = (after, seq)
    if unsealed:
        report.notes.append(
            f"events {unsealed[0]}-{unsealed[-1]} were recorded before row digests (schema 4): rows are "
            f"checked from event {first_sealed} on, as they were then" if first_sealed else
            f"events {unsealed[0]}-{unsealed[-1]} were recorded before row digests (schema 4)")

    _check_anchor(store, report, by_seq, last_seq)
    if first_sealed is not None:
        _check_rows(db, report, latest)
    _check_triggers(db, report)
    if objects:
        oids = {oid for (oid,) in db.execute(
            "SELECT old_oid FROM step_files WHERE old_oid IS NOT NULL UNION "
            "SELECT new_oid FROM step_files WHERE new_oid IS NOT NULL UNION "
            "SELECT oid FROM files WHERE oid IS NOT NULL")}
        for oid in sorted(oids):
            report.objects += 1
            if not store.objects.verify(oid):
                report.add("object-missing", f"object {oid} is missing or corrupt")
    return report


def _check_rows(db: Any, report: Report, latest: dict[tuple[str, str], tuple[str | None, int]]) -> None:
    for table in rows.SEALED:
        for key, digest, _ in rows.rows(db, table):
            report.rows += 1
            known = latest.pop((table, key), None)
            if known is None or known[0] is None:
                report.add("row-added", f"{_row_name(db, table, key)} is not in the journal: it was added "
                           "outside tether", table=table, row=key)
            elif known[0] != digest:
                cols = rows.differing(table, known[0], digest)
                report.add("row-changed", f"{_row_name(db, table, key)} differs from what the journal recorded at "
                           f"event {known[1]}" + (f": {', '.join(cols)} changed" if cols else ""),
                           table=table, row=key, event=known[1], columns=cols)
    for (table, key), (last, seq) in sorted(latest.items()):
        if last is not None:
            report.add("row-deleted", f"{_row_name(db, table, key)} was deleted outside tether (the journal "
                       f"recorded it at event {seq})", table=table, row=key, event=seq)


def _check_anchor(store: Store, report: Report, by_seq: dict[int, str], last_seq: int | None) -> None:
    sid = anchor.store_id(store.db)
    if sid is None:
        if last_seq is not None:
            report.add("anchor-missing", "the store has no id (meta store_id was removed), so the journal's "
                       "anchor cannot be found")
        return
    where = anchor.path(sid)
    report.anchor = {"path": where, "state": "missing"}
    try:
        found = anchor.read(where)
    except (ValueError, UnicodeDecodeError):
        report.anchor["state"] = "unreadable"
        report.add("anchor-unreadable", f"the journal's anchor ({where}) is unreadable")
        return
    if found is None:
        if last_seq is not None:
            report.add("anchor-missing", f"the journal's anchor ({where}) is missing, so events cut off the end "
                       "of the journal cannot be found")
        return
    seq, hash_ = found["seq"], found["hash"]
    report.anchor.update({"seq": seq, "hash": hash_, "time": found.get("time"), "state": "ok"})
    if seq not in by_seq:
        report.anchor["state"] = "cut"
        end = f"ends at event {last_seq}" if last_seq is not None else "is empty"
        report.add("journal-cut", f"the journal {end}, but its anchor (written {found.get('time')}) names event "
                   f"{seq}: events were cut off the end", event=seq)
    elif by_seq[seq] != hash_:
        report.anchor["state"] = "rewritten"
        report.add("journal-rewritten", f"event {seq} is not the event anchored outside the store (written "
                   f"{found.get('time')}): the journal was rewritten up to there", event=seq)
    elif last_seq is not None and last_seq > seq:
        report.notes.append(f"the anchor names event {seq}; events {seq + 1}-{last_seq} came after it was "
                            "last written")


def _check_triggers(db: Any, report: Report) -> None:
    have = {name: sql for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
    for name, sql in rows.trigger_sql().items():
        if have.get(name) != sql:
            report.add("trigger-missing", f"the trigger {name} is {'changed' if name in have else 'missing'}: "
                       "changes to its table are no longer noted for the journal")
