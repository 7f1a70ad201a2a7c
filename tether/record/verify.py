"""`tether verify`: the journal's hash chain is unbroken and every stored file hashes to its id."""

from __future__ import annotations

from dataclasses import dataclass, field

from tether.record.journal import GENESIS, chain_hash
from tether.record.store import Store


@dataclass
class Report:
    events: int = 0
    objects: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, objects: bool = True) -> Report:
    report = Report()
    prev = GENESIS
    for seq, time, name, session, payload, stored_prev, stored_hash in store.db.execute(
            "SELECT seq, time, name, session, payload, prev, hash FROM events ORDER BY seq"):
        report.events += 1
        if stored_prev != prev:
            report.problems.append(f"event {seq}: the chain is broken (an event before it was removed or changed)")
        if chain_hash(stored_prev, time, name, session, payload) != stored_hash:
            report.problems.append(f"event {seq}: its content does not match its hash (it was edited)")
        prev = stored_hash
    if objects:
        oids = {oid for (oid,) in store.db.execute(
            "SELECT old_oid FROM step_files WHERE old_oid IS NOT NULL UNION "
            "SELECT new_oid FROM step_files WHERE new_oid IS NOT NULL UNION "
            "SELECT oid FROM files WHERE oid IS NOT NULL")}
        for oid in sorted(oids):
            report.objects += 1
            if not store.objects.verify(oid):
                report.problems.append(f"object {oid} is missing or corrupt")
    return report
