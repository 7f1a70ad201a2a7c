"""Rewind, revert, restore and undo: tether's own changes to the workspace, each one an operation.

Every operation is planned against the known state, shown, then applied in three
moves that make it crash-safe:

1. the plan (each path's state before and after) is committed to the store as a
   *pending* operation, before any file is touched;
2. the files are written (each atomically), then made durable: each file written
   and each folder whose entries changed is synced, in one batch
   (workfiles.Durable);
3. the changes are recorded as a step and the operation marked *done*, in one
   transaction.

A pending operation found later (the process was killed in move 2) is completed
from its plan by the next tether command: every target version is in the store,
so completing it is always possible. Undo is one more operation, never a deletion,
as in jj's operation log.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tether.errors import TetherError
from tether.history import merge, workfiles
from tether.record import attribution
from tether.record.recorder import Recorder
from tether.record.snapshot import MODE_LINK, FileChange, Snapshot
from tether.record.store import Store, new_id, now

State = tuple[str | None, int | None]  # (oid, mode); (None, None) = absent
_ABSENT: State = (None, None)


@dataclass
class PathChange:
    path: bytes
    before: State  # what is there now
    after: State  # what the operation puts there
    runs: attribution.Runs | None = None  # attribution of the "after" version, when known

    @property
    def change(self) -> str:
        if self.before[0] is None:
            return "added"
        if self.after[0] is None:
            return "deleted"
        return "modified"

    @property
    def name(self) -> str:
        return self.path.decode("utf-8", "backslashreplace")


@dataclass
class Conflict:
    path: bytes
    reason: str
    hunks: list[tuple[int, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path.decode("utf-8", "backslashreplace"), "reason": self.reason,
                "hunks": [{"start": a, "end": b} for a, b in self.hunks]}


@dataclass
class Plan:
    kind: str
    target: str
    changes: list[PathChange]
    conflicts: list[Conflict] = field(default_factory=list)
    undoes: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    def files_json(self) -> list[dict[str, str]]:
        return [{"path": c.name, "change": c.change} for c in self.changes]

    def same_as(self, other: Plan) -> bool:
        def key(p: Plan) -> list[tuple[bytes, State, State]]:
            return [(c.path, c.before, c.after) for c in p.changes]
        return key(self) == key(other) and len(self.conflicts) == len(other.conflicts)


# -- the known state ------------------------------------------------------------------


def _current(db: sqlite3.Connection, path: bytes) -> State:
    row = db.execute("SELECT oid, mode FROM files WHERE path = ?", (path,)).fetchone()
    return (row[0], row[1]) if row and row[0] is not None else _ABSENT


def _state_before(db: sqlite3.Connection, path: bytes, seq: int) -> tuple[State, int] | None:
    """The path's state just before step ``seq`` and the step that changed it next; None if
    nothing changed it from ``seq`` on (it is as it is now)."""
    row = db.execute("SELECT old_oid, old_mode, step FROM step_files WHERE path = ? AND step >= ? "
                     "ORDER BY ord LIMIT 1", (path, seq)).fetchone()
    if row is None:
        return None
    return (row[0], row[1]), int(row[2])


def _catch_up(store: Store, db: sqlite3.Connection) -> str | None:
    return Recorder(store).catch_up(db)


def catch_up(store: Store) -> str | None:
    """Complete interrupted operations and record changes nobody recorded yet (as an external step)."""
    recover(store)
    with store.locked(), store.transaction() as db:
        return _catch_up(store, db)


class Declined(TetherError):
    """The person asked said no; nothing was changed."""


def execute(store: Store, make_plan: Callable[[], Plan], *, dry_run: bool,
            confirm: Callable[[Plan], bool] | None, reason: str | None = None,
            ) -> tuple[Plan, str | None, str | None]:
    """Plan, show, confirm and apply one operation: (plan, operation id, step id).

    Unrecorded changes in the workspace are recorded first (as an external step) so that
    nothing a person did is lost; a dry run records nothing and changes nothing. Without
    ``confirm`` (``--yes``) everything happens under one hold of the store lock.
    """
    if dry_run:
        with store.locked(), store.scratch() as db:
            if store.pending_operation():
                raise TetherError("an interrupted operation is pending; run the command without --dry-run "
                                  "to complete it first")
            _catch_up(store, db)
            return make_plan(), None, None
    if confirm is None:
        recover(store)
        with store.locked():
            with store.transaction() as db:
                _catch_up(store, db)
            plan = make_plan()
            if not plan.changes or (plan.conflicts and not plan.args.get("conflicts")):
                return plan, None, None
            op, step = apply(store, plan, reason)
        return plan, op, step
    catch_up(store)
    plan = make_plan()
    if plan.conflicts and not plan.args.get("conflicts"):
        return plan, None, None
    if not plan.changes:
        return plan, None, None
    if not confirm(plan):
        raise Declined("nothing was changed")
    with store.locked():
        with store.transaction() as db:
            _catch_up(store, db)
        again = make_plan()
        if not again.same_as(plan):
            raise TetherError("the workspace changed while you were deciding; nothing was changed, "
                              "run the command again")
        op, step = apply(store, again, reason)
    return again, op, step


# -- planning ---------------------------------------------------------------------------------


def plan_rewind(store: Store, seq: int, target: str) -> Plan:
    db = store.db
    changes = []
    for (path,) in db.execute("SELECT DISTINCT path FROM step_files WHERE step >= ? ORDER BY path", (seq,)):
        found = _state_before(db, path, seq)
        assert found is not None
        state, next_step = found
        cur = _current(db, path)
        if state != cur:
            runs = attribution.runs_before(db, store.objects, path, next_step) if state[0] else []
            changes.append(PathChange(path, cur, state, runs))
    return Plan("rewind", target, changes, args={"before": seq})


def _under(prefix: bytes) -> tuple[str, tuple[bytes, ...]]:
    if not prefix:
        return "", ()
    return " AND (path = ? OR (path >= ? AND path < ?))", (prefix, prefix + b"/", prefix + b"0")


def plan_restore(store: Store, prefix: bytes, seq: int, after: bool, target: str) -> Plan:
    db = store.db
    where, args = _under(prefix)
    paths = [p for (p,) in db.execute(f"SELECT DISTINCT path FROM step_files WHERE 1 = 1{where} ORDER BY path",
                                      args)]
    if not paths:
        raise TetherError(f"{prefix.decode('utf-8', 'backslashreplace') or 'the workspace'} has no recorded "
                          "changes to restore")
    upto = seq + 1 if after else seq
    changes = []
    for path in paths:
        found = _state_before(db, path, upto)
        if found is None:
            continue
        state, next_step = found
        cur = _current(db, path)
        if state != cur:
            runs = attribution.runs_before(db, store.objects, path, next_step) if state[0] else []
            changes.append(PathChange(path, cur, state, runs))
    return Plan("restore", target, changes, args={"path": prefix.decode("utf-8", "surrogateescape"),
                                                  "at": seq, "after": after})


def _text(data: bytes) -> bool:
    return attribution.is_text(data)


def plan_revert(store: Store, seqs: list[int], target: str, write_conflicts: bool = False) -> Plan:
    """Take back what the given steps changed, keeping every later change."""
    db = store.db
    objects = store.objects
    work: dict[bytes, State] = {}
    sources: dict[bytes, list[tuple[str, attribution.Runs | None]]] = {}
    conflicts: list[Conflict] = []
    touched: list[bytes] = []
    rows = []
    for seq in set(seqs):
        rows += db.execute("SELECT ord, step, path, old_oid, old_mode, new_oid, new_mode FROM step_files "
                           "WHERE step = ?", (seq,)).fetchall()
    # Undone newest first, in the order the changes happened (not always the steps' order).
    for _ord, seq, path, old_oid, old_mode, new_oid, new_mode in sorted(rows, reverse=True):
        label = f"step {seq}"
        if path not in work:
            work[path] = _current(db, path)
            touched.append(path)
        cur = work[path]
        old: State = (old_oid, old_mode)
        new: State = (new_oid, new_mode)
        if cur == old:
            continue
        if old_oid is not None:
            sources.setdefault(path, []).append(
                (old_oid, attribution.runs_before(db, objects, path, seq)))
        if cur == new:
            work[path] = old
            continue
        name = path.decode("utf-8", "backslashreplace")
        if cur[0] is None or old_oid is None or new_oid is None:
            what = ("it was deleted later" if cur[0] is None else
                    "it was changed after the step that created it" if old_oid is None else
                    "it was created again after the step that deleted it")
            conflicts.append(Conflict(path, f"{name}: {what}"))
            continue
        cur_data, base, other = objects.read_blob(cur[0]), objects.read_blob(new_oid), objects.read_blob(old_oid)
        if cur[1] == MODE_LINK or not (_text(cur_data) and _text(base) and _text(other)):
            conflicts.append(Conflict(path, f"{name}: a binary file or symlink changed again later"))
            continue
        merged = merge.merge3(cur_data, base, other, objects.path,
                              ("current", f"after {label}", f"before {label}"))
        mode = old_mode if cur[1] == new_mode else cur[1]
        if merged.conflicts:
            conflicts.append(Conflict(path, f"{name}: later changes overlap {label}", merged.hunks))
            if not write_conflicts:
                continue
        work[path] = (objects.write_blob(merged.data), mode)
    changes = []
    for path in touched:
        cur = _current(db, path)
        if work[path] == cur:
            continue
        changes.append(PathChange(path, cur, work[path], _merged_runs(store, path, cur, work[path],
                                                                       sources.get(path, []))))
    return Plan("revert", target, changes, conflicts, args={"steps": seqs, "conflicts": write_conflicts})


def _merged_runs(store: Store, path: bytes, cur: State, after: State,
                 sources: list[tuple[str, attribution.Runs | None]]) -> attribution.Runs | None:
    """Attribution of a reverted version: lines kept from now keep theirs; lines brought back
    from before the reverted steps get back theirs."""
    if after[0] is None:
        return []
    objects = store.objects
    data = objects.read_blob(after[0])
    if not attribution.is_text(data):
        return None
    new_lines = attribution.split_lines(data)
    unknown = -1
    origins: list[tuple[int, int]] = [(unknown, i) for i in range(len(new_lines))]
    candidates: list[tuple[str, attribution.Runs | None]] = []
    if cur[0] is not None:
        db = store.db
        row = db.execute("SELECT step FROM step_files WHERE path = ? ORDER BY ord DESC LIMIT 1", (path,)).fetchone()
        runs = attribution.fill(db, objects, path, int(row[0])) if row else None
        if runs is None and row is None:
            cur_data = objects.read_blob(cur[0])
            runs = attribution.baseline_runs(len(attribution.split_lines(cur_data)))
        candidates.append((cur[0], runs))
    candidates.extend(sources)
    for oid, runs in candidates:
        if runs is None:
            continue
        src = objects.read_blob(oid)
        src_lines = attribution.split_lines(src)
        if sum(r[0] for r in runs) != len(src_lines):
            continue
        got = attribution.carry(src_lines, attribution.expand(runs), new_lines, unknown)
        origins = [g if o[0] == unknown else o for o, g in zip(origins, got, strict=True)]
    if any(o[0] == unknown for o in origins):
        return None  # computed against the operation's own step when it is recorded
    return attribution.compress(origins)


def _last_op(db: sqlite3.Connection) -> tuple[int, str, str, int | None] | None:
    row = db.execute("SELECT seq, id, kind, step FROM operations WHERE state = 'done' ORDER BY seq DESC LIMIT 1"
                     ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]), row[3])


def plan_undo(store: Store) -> Plan:
    db = store.db
    last = _last_op(db)
    if last is None:
        raise TetherError("there is no operation to undo (see `tether ops`)")
    op_seq, op_id, kind, step = last
    changes, conflicts = [], []
    for path, from_oid, from_mode, to_oid, to_mode in db.execute(
            "SELECT path, from_oid, from_mode, to_oid, to_mode FROM operation_files WHERE op = ? ORDER BY path",
            (op_seq,)).fetchall():
        cur = _current(db, path)
        before: State = (from_oid, from_mode)
        if cur == before:
            continue
        if cur != (to_oid, to_mode):
            conflicts.append(Conflict(path, f"{path.decode('utf-8', 'backslashreplace')}: changed since the "
                                            f"{kind}, so undoing it would lose that change"))
            continue
        runs = attribution.runs_before(db, store.objects, path, step) if step is not None and from_oid else (
            [] if from_oid is None else None)
        changes.append(PathChange(path, cur, before, runs))
    return Plan("undo", f"{kind} {op_id[:8]}", changes, conflicts, undoes=op_id, args={"undoes": op_id})


# -- applying -------------------------------------------------------------------------------


def apply(store: Store, plan: Plan, reason: str | None = None) -> tuple[str, str | None]:
    """Carry out a plan as one operation; returns (operation id, step id)."""
    if plan.conflicts and not plan.args.get("conflicts"):
        raise TetherError("refusing: " + "; ".join(c.reason for c in plan.conflicts))
    blocked = workfiles.problems(os.fsencode(store.root), [(c.path, c.after[0]) for c in plan.changes])
    if blocked:
        raise TetherError(f"refusing to {plan.kind}, nothing was changed: " + "; ".join(blocked))
    op_id = new_id()
    with store.locked():
        with store.transaction() as db:
            cur = db.execute(
                "INSERT INTO operations(id, kind, target, args, reason, user, host, pid, command, state, undoes, "
                "started) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (op_id, plan.kind, plan.target, json.dumps(plan.args), reason, _user(), socket.gethostname(),
                 os.getpid(), " ".join(["tether", *sys.argv[1:]]), plan.undoes, now()))
            op_seq = int(cur.lastrowid or 0)
            for c in plan.changes:
                db.execute("INSERT INTO operation_files(op, path, from_oid, from_mode, to_oid, to_mode, runs) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (op_seq, c.path, c.before[0], c.before[1], c.after[0], c.after[1],
                            None if c.runs is None else attribution.dumps(c.runs)))
        try:
            _write_files(store, op_seq)
        except Exception as exc:
            # Put back what was written, so that a refused operation changes nothing.
            _roll_back(store, op_seq, exc)
            raise TetherError(f"{plan.kind} failed and was rolled back: {exc}") from None
        with store.transaction() as db:
            step = _finish(store, db, op_seq)
    return op_id, step


def _roll_back(store: Store, op_seq: int, exc: BaseException) -> None:
    root = os.fsencode(store.root)
    rows = store.db.execute("SELECT path, from_oid, from_mode FROM operation_files WHERE op = ?",
                            (op_seq,)).fetchall()
    rows.sort(key=lambda r: (r[1] is not None, r[0]))
    failed = []
    with workfiles.Durable(root) as durable:
        for path, oid, mode in rows:
            try:
                workfiles.put(root, path, store.objects, oid, mode, durable)
            except Exception as again:
                failed.append(f"{path.decode('utf-8', 'backslashreplace')}: {again}")
        try:
            # Put back for good before the operation is marked failed, as a done one is.
            durable.flush()
        except OSError as again:
            failed.append(f"syncing what was put back: {again}")
    error = str(exc) + ("; could not put back: " + "; ".join(failed) if failed else "")
    with store.transaction() as db:
        db.execute("UPDATE operations SET state = 'failed', error = ?, ended = ? WHERE seq = ?",
                   (error[:2000], now(), op_seq))
        if failed:
            # Whatever is on disk now is recorded, so nothing is lost even then.
            _catch_up(store, db)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid())


def _write_files(store: Store, op_seq: int) -> None:
    """Put every path of the operation in its planned state, durably: on return, it is all on disk."""
    root = os.fsencode(store.root)
    rows = store.db.execute("SELECT path, to_oid, to_mode FROM operation_files WHERE op = ?", (op_seq,)).fetchall()
    # Deletions first: a file may be making way for a folder of the same name, or the reverse.
    rows.sort(key=lambda r: (r[1] is not None, r[0]))
    with workfiles.Durable(root) as durable:
        for path, oid, mode in rows:
            if oid is not None and not store.objects.has(oid):
                raise TetherError(f"the store lacks the content of {path.decode('utf-8', 'backslashreplace')} "
                                  f"({oid}); run `tether verify`")
            workfiles.put(root, path, store.objects, oid, mode, durable)
        # Before the operation may be marked done: a done operation is never completed again,
        # so what it wrote must survive a power cut from then on. Until then, a crash leaves
        # it pending, and it is completed again from its plan.
        durable.flush()


def _finish(store: Store, db: sqlite3.Connection, op_seq: int) -> str | None:
    """Record what the operation changed as one step, keeping the planned attribution."""
    op_id, kind = db.execute("SELECT id, kind FROM operations WHERE seq = ?", (op_seq,)).fetchone()
    snap = Snapshot(store)
    planned = {p: r for p, r in db.execute("SELECT path, runs FROM operation_files WHERE op = ?", (op_seq,))}
    changes: list[FileChange] = []
    for path in sorted(planned):
        change = snap.record_file(db, path, new_only_if_tracked=False)
        if change is not None:
            changes.append(change)
    step_id = None
    step_seq = None
    if changes:
        step_id = new_id()
        t = now()
        cur = db.execute(
            "INSERT INTO steps(id, session, agent, origin, tool, status, started, ended, operation) "
            "VALUES (?, NULL, NULL, 'external', ?, 'ok', ?, ?, ?)", (step_id, f"tether {kind}", t, t, op_id))
        step_seq = int(cur.lastrowid or 0)
        Recorder(store).add_files(db, step_seq, changes, attribute=False)
        for change in changes:
            runs = planned.get(change.path)
            if runs is not None and change.new_oid is not None:
                db.execute("UPDATE step_files SET runs = ? WHERE step = ? AND path = ?", (runs, step_seq, change.path))
        for change in changes:
            attribution.fill(db, store.objects, change.path, step_seq)
    db.execute("UPDATE operations SET state = 'done', step = ?, ended = ? WHERE seq = ?", (step_seq, now(), op_seq))
    return step_id


def recover(store: Store) -> list[str]:
    """Complete every operation that was interrupted (the process was killed while writing).

    What is on disk that is neither the operation's "before" nor its "after" (someone
    edited a file since) is recorded first, as an external step, so it is never lost.
    An operation that cannot be completed is marked failed, never retried forever.
    Returns the ids of the operations completed.
    """
    done = []
    with store.locked():
        pending = store.db.execute("SELECT seq, id FROM operations WHERE state = 'pending' ORDER BY seq").fetchall()
        for op_seq, op_id in pending:
            try:
                with store.transaction() as db:
                    _record_strays(store, db, int(op_seq))
                _write_files(store, int(op_seq))
                with store.transaction() as db:
                    _finish(store, db, int(op_seq))
            except Exception as exc:
                with store.transaction() as db:
                    db.execute("UPDATE operations SET state = 'failed', error = ?, ended = ? WHERE seq = ?",
                               (f"could not be completed: {exc}"[:2000], now(), op_seq))
                    _catch_up(store, db)
                continue
            done.append(str(op_id))
    return done


def _record_strays(store: Store, db: sqlite3.Connection, op_seq: int) -> None:
    """Record, as an external step, planned paths that hold neither side of the operation."""
    snap = Snapshot(store)
    root = os.fsencode(store.root)
    strays = []
    for path, from_oid, from_mode, to_oid, to_mode in db.execute(
            "SELECT path, from_oid, from_mode, to_oid, to_mode FROM operation_files WHERE op = ?",
            (op_seq,)).fetchall():
        disk = snap.disk_state(root, path)
        if disk not in ((from_oid, from_mode), (to_oid, to_mode)):
            change = snap.record_file(db, path, new_only_if_tracked=False)
            if change is not None:
                strays.append(change)
    if strays:
        Recorder(store).add_external(db, strays)


def operations(store: Store) -> list[dict[str, Any]]:
    db = store.db
    out = []
    for seq, oid, kind, target, reason, user, state, undoes, step, started, ended, command in db.execute(
            "SELECT seq, id, kind, target, reason, user, state, undoes, step, started, ended, command "
            "FROM operations ORDER BY seq"):
        files = [{"path": p.decode("utf-8", "backslashreplace"),
                  "change": "added" if f is None else "deleted" if t is None else "modified"}
                 for p, f, t in db.execute("SELECT path, from_oid, to_oid FROM operation_files WHERE op = ? "
                                           "ORDER BY path", (seq,))]
        step_id = None
        if step is not None:
            r = db.execute("SELECT id FROM steps WHERE seq = ?", (step,)).fetchone()
            step_id = r[0] if r else None
        out.append({"id": oid, "seq": seq, "kind": kind, "target": target, "reason": reason, "user": user,
                    "state": state, "undoes": undoes, "step": step_id, "time": started, "ended": ended,
                    "command": command, "files": files})
    return out
