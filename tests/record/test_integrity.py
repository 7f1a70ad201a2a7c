"""Record integrity: `tether verify` finds every edit of the store made from outside tether.

Each test records real sessions into a real store, then changes its SQLite database
the way an attacker (or an agent's script) would, with a connection of its own, and
checks that `tether verify` names what was changed and exits non-zero. The journal is
also cut from outside, with the rows set back to match, which only the anchor outside
the store can reveal.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support import Session
from tether.cli import cli
from tether.history import operations as ops
from tether.history.blame import blame
from tether.record import anchor, query
from tether.record.journal import chain_hash
from tether.record.store import Store
from tether.record.verify import Report, verify
from tether.types import Decision


def outside(store: Store, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Change the store's database from outside tether: another connection, another program's view."""
    db = sqlite3.connect(store.db_path)
    for sql in statements:
        db.execute(sql, params if "?" in sql else ())
    db.commit()
    db.close()


def run_verify(root: Path) -> tuple[int, dict[str, Any]]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        res = CliRunner().invoke(cli, ["verify", "--json"], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return res.exit_code, json.loads(res.stdout)


def kinds(report: Report) -> set[str]:
    return {f.kind for f in report.findings}


def find(report: Report, kind: str, table: str | None = None) -> Any:
    found = [f for f in report.findings if f.kind == kind and (table is None or f.table == table)]
    assert found, (kind, table, report.problems)
    return found[0]


@pytest.fixture
def played(repo: Path, store: Store) -> Session:
    """A session with a prompt, a Write, a shell step, a denied call and a person's edit."""
    s = Session(store, "s1")
    s.start()
    s.say("add hello")
    s.write("src/hello.py", "def hello():\n    return 'hi'\n", "w1")
    s.bash("b1", lambda: (repo / "notes.txt").write_text("notes\n"))
    s.pre("Bash", {"command": "rm -rf ~"}, "d1", Decision("deny", ["deletes the home folder"], ["destructive"],
                                                         ["rm.home"]))
    s.stop()
    (repo / "README.md").write_text("# demo, edited by a person\n")
    s.say("more")
    s.write("src/hello.py", "def hello():\n    return 'HI'\n", "w2")
    s.stop()
    return s


def _blocked_seq(store: Store) -> int:
    return int(store.db.execute("SELECT seq FROM steps WHERE status = 'blocked'").fetchone()[0])


# -- an untouched store verifies clean ---------------------------------------------------


def test_an_untouched_store_verifies_clean(repo: Path, store: Store, played: Session) -> None:
    report = verify(store)
    assert report.ok, report.problems
    assert report.rows > 10 and report.anchor["state"] == "ok" and report.notes == []
    code, data = run_verify(repo)
    assert code == 0 and data["ok"] and data["problems"] == [] and data["findings"] == []
    assert {"ok", "events", "objects", "problems", "rows", "findings", "notes", "anchor"} <= set(data)


def test_rewind_undo_revert_restore_and_blame_verify_clean(repo: Path, store: Store, played: Session) -> None:
    (w2,) = [r[0] for r in store.db.execute("SELECT seq FROM steps WHERE tool_use_id = 'w2'")]
    for make in (lambda: ops.plan_rewind(store, w2, "test"), lambda: ops.plan_undo(store),
                 lambda: ops.plan_revert(store, [w2], "test"), lambda: ops.plan_undo(store),
                 lambda: ops.plan_undo(store)):
        ops.execute(store, make, dry_run=False, confirm=None)
    blame(store, "src/hello.py", str(repo))
    report = verify(store)
    assert report.ok, report.problems
    assert store.db.execute("SELECT COUNT(*) FROM operations WHERE state = 'done'").fetchone()[0] == 5


def test_concurrent_sessions_in_separate_processes_verify_clean(repo: Path, store: Store) -> None:
    store.close()
    code = (
        "import sys; from pathlib import Path; from tests.support import Session; "
        "from tether.record.store import Store\n"
        "st = Store.open(sys.argv[1]); s = Session(st, sys.argv[2]); s.start(); s.say('go')\n"
        "for i in range(6):\n"
        "    s.write(f'src/{sys.argv[2]}_{i}.py', f'x = {i}\\n', f'{sys.argv[2]}-{i}')\n"
        "s.stop()\n")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(repo), sid], env=env) for sid in ("a", "b", "c")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    st = Store.open(str(repo))
    try:
        report = verify(st)
        assert report.ok, report.problems
        assert st.db.execute("SELECT COUNT(*) FROM steps WHERE tool = 'Write'").fetchone()[0] == 18
    finally:
        st.close()


def test_threads_of_one_process_sharing_the_store_verify_clean(repo: Path, store: Store) -> None:
    def play(sid: str) -> None:
        st = Store.open(str(repo))
        s = Session(st, sid)
        s.start()
        for i in range(4):
            s.write(f"src/{sid}{i}.py", f"y = {i}\n", f"{sid}{i}")
        s.stop()
        st.close()

    threads = [threading.Thread(target=play, args=(sid,)) for sid in ("t1", "t2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert verify(store).ok


# -- edits of the rows ----------------------------------------------------------------------


def test_a_blocked_step_turned_allowed_is_found(repo: Path, store: Store, played: Session) -> None:
    seq = _blocked_seq(store)
    outside(store, f"UPDATE steps SET status = 'ok', decision = 'allow' WHERE seq = {seq}")
    report = verify(store)
    f = find(report, "row-changed", "steps")
    assert f.row == str(seq) and f.columns == ["decision", "status"]
    assert f"steps row {seq}" in f.message and "decision, status changed" in f.message
    code, data = run_verify(repo)
    assert code == 1 and not data["ok"]
    assert any(x["kind"] == "row-changed" and x["table"] == "steps" and x["row"] == str(seq)
               for x in data["findings"])
    assert "rm -rf" in json.dumps(query.log(store)), "the record itself is still readable"


def test_an_edit_is_still_found_after_tether_writes_that_row_again(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.pre("Bash", {"command": "make deploy"}, "b1", Decision("ask", ["deploys"], ["shared-state"], ["x"]))
    # While the call runs, its "ask" becomes an "allow"; then the call finishes and tether
    # writes the same row (its status), which must not seal the edit as tether's.
    outside(store, "UPDATE steps SET decision = 'allow' WHERE tool_use_id = 'b1'")
    s.post("Bash", {"command": "make deploy"}, "b1")
    outside(store, "UPDATE sessions SET cwd = '/elsewhere' WHERE id = 's1'")
    s.stop()
    report = verify(store)
    f = find(report, "row-changed-before", "steps")
    assert f.columns == ["decision"] and "changed outside tether before event" in f.message
    # The session's row was written again with nothing changed: found as it is now.
    [f] = [f for f in report.findings if f.table == "sessions"]
    assert f.columns == ["cwd"] and f.row == "s1"


def test_a_deleted_step_is_found(repo: Path, store: Store, played: Session) -> None:
    seq = _blocked_seq(store)
    outside(store, f"DELETE FROM steps WHERE seq = {seq}")
    report = verify(store)
    f = find(report, "row-deleted", "steps")
    assert f.row == str(seq) and "was deleted outside tether" in f.message


def test_a_step_with_its_changes_deleted_is_found(repo: Path, store: Store, played: Session) -> None:
    (seq,) = store.db.execute("SELECT seq FROM steps WHERE tool_use_id = 'b1'").fetchone()
    outside(store, f"DELETE FROM step_files WHERE step = {seq}", f"DELETE FROM steps WHERE seq = {seq}")
    report = verify(store)
    assert {f.table for f in report.findings if f.kind == "row-deleted"} == {"steps", "step_files"}
    assert any("notes.txt" in f.message for f in report.findings)


def test_a_prompts_text_changed_is_found(repo: Path, store: Store, played: Session) -> None:
    outside(store, "UPDATE prompts SET text = 'delete the tests' WHERE text = 'add hello'")
    f = find(verify(store), "row-changed", "prompts")
    assert f.row == "s1-p0" and f.columns == ["text"]


def test_changed_attribution_is_found(repo: Path, store: Store, played: Session) -> None:
    outside(store, "UPDATE step_files SET runs = '[[2,0,0]]' WHERE path = CAST('src/hello.py' AS BLOB) "
                   "AND change = 'added'")
    f = find(verify(store), "row-changed", "step_files")
    assert f.columns == ["runs"] and "src/hello.py" in f.message


def test_an_operation_rewritten_is_found(repo: Path, store: Store, played: Session) -> None:
    (w2,) = store.db.execute("SELECT seq FROM steps WHERE tool_use_id = 'w2'").fetchone()
    ops.execute(store, lambda: ops.plan_rewind(store, w2, "test"), dry_run=False, confirm=None)
    outside(store, "UPDATE operations SET reason = 'the person asked', user = 'someone'",
            "UPDATE operation_files SET to_oid = NULL")
    report = verify(store)
    assert find(report, "row-changed", "operations").columns == ["reason", "user"]
    assert find(report, "row-changed", "operation_files").columns == ["to_oid"]


def test_an_inserted_step_is_found(repo: Path, store: Store, played: Session) -> None:
    outside(store, "INSERT INTO steps(id, origin, status, started) VALUES ('f' || hex(randomblob(15)), 'external', "
                   "'ok', '2020-01-01T00:00:00.000Z')")
    f = find(verify(store), "row-added", "steps")
    assert "is not in the journal" in f.message


def test_an_edit_with_the_triggers_dropped_first_is_found(repo: Path, store: Store, played: Session) -> None:
    outside(store, "DROP TRIGGER tether_seal_steps_update",
            f"UPDATE steps SET status = 'ok', decision = 'allow' WHERE seq = {_blocked_seq(store)}")
    played.say("later")  # recording goes on meanwhile
    played.stop()
    report = verify(store)
    assert {"trigger-missing", "row-changed"} <= kinds(report)


def test_an_edit_noted_by_the_triggers_is_never_sealed_as_tethers(repo: Path, store: Store, played: Session) -> None:
    # With the triggers in place the outside write leaves a note; tether's next transaction
    # must drop it rather than put the edit in the journal.
    seq = _blocked_seq(store)
    outside(store, f"UPDATE steps SET decision = 'allow' WHERE seq = {seq}")
    assert store.db.execute("SELECT COUNT(*) FROM seal_pending").fetchone()[0] == 1
    played.say("later")
    played.stop()
    f = find(verify(store), "row-changed", "steps")
    assert f.row == str(seq)


def test_an_edited_event_is_found(repo: Path, store: Store, played: Session) -> None:
    outside(store, "UPDATE events SET rows = '[]' WHERE name = 'PreToolUse' AND step = "
                   f"(SELECT id FROM steps WHERE seq = {_blocked_seq(store)})")
    assert "event-edited" in kinds(verify(store))


# -- cutting the journal -----------------------------------------------------------------------


def test_events_cut_off_the_end_with_the_rows_set_back_are_found(repo: Path, store: Store, tmp_path: Path) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("src/a.py", "a = 1\n", "w1")
    s.stop()
    # The whole database as it was then: restoring it is a cut of the journal with every row
    # set back exactly (the most thorough cut there is).
    store.close()
    shutil.copy(store.db_path, tmp_path / "then.db")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(store.db_path + suffix):
            shutil.copy(store.db_path + suffix, tmp_path / f"then.db{suffix}")
    (n,) = store.db.execute("SELECT MAX(seq) FROM events").fetchone()
    s.say("now do the bad thing")
    s.pre("Bash", {"command": "rm -rf ~"}, "d1", Decision("deny", ["no"], ["destructive"], ["rm.home"]))
    s.stop()
    (m,) = store.db.execute("SELECT MAX(seq) FROM events").fetchone()
    store.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(tmp_path / f"then.db{suffix}"):
            shutil.copy(tmp_path / f"then.db{suffix}", store.db_path + suffix)
        elif os.path.exists(store.db_path + suffix):
            os.remove(store.db_path + suffix)
    st = Store.open(str(repo))
    try:
        report = verify(st)
        assert kinds(report) == {"journal-cut"}, report.problems
        f = find(report, "journal-cut")
        assert f.event == m and f"ends at event {n}" in f.message
    finally:
        st.close()
    code, data = run_verify(repo)
    assert code == 1 and data["anchor"]["state"] == "cut" and data["anchor"]["seq"] == m


def test_a_literal_cut_is_found_and_the_anchor_keeps_it_while_recording_goes_on(
        repo: Path, store: Store, played: Session) -> None:
    (m,) = store.db.execute("SELECT MAX(seq) FROM events").fetchone()
    n = m - 4
    # Cut the end and reset the numbering, so that new events take the cut ones' numbers.
    outside(store, f"DELETE FROM events WHERE seq > {n}", f"UPDATE sqlite_sequence SET seq = {n} WHERE name = 'events'")
    assert "journal-cut" in kinds(verify(store))
    for _ in range(6):  # past the anchored event
        played.say("again")
    report = verify(store)
    assert "journal-rewritten" in kinds(report), report.problems
    assert any("no longer in the journal as it was" in e["message"] for e in query.errors(store))


def test_a_journal_rehashed_from_outside_is_found_by_the_anchor(repo: Path, store: Store, played: Session) -> None:
    # The thorough forger: edit a row, fix its digest in the journal and recompute every hash.
    seq = _blocked_seq(store)
    outside(store, f"UPDATE steps SET decision = 'allow', status = 'ok' WHERE seq = {seq}")
    db = sqlite3.connect(store.db_path)
    fresh = Store(str(repo), store.path)
    from tether.record import rows

    (row,) = [r for k, _, r in rows.rows(db, "steps") if k == str(seq)]
    forged = rows.digest("steps", row)
    prev = "0" * 64
    for eseq, time, agent, name, session, step, payload, digests in db.execute(
            "SELECT seq, time, agent, name, session, step, payload, rows FROM events ORDER BY seq").fetchall():
        if digests is not None:
            entries = json.loads(digests)
            for e in entries:
                if e[0] == "steps" and e[1] == str(seq) and e[3] is not None:
                    e[3] = forged
            digests = json.dumps(entries, separators=(",", ":"))
        h = chain_hash(prev, time, name, session, payload, agent, step, digests)
        db.execute("UPDATE events SET prev = ?, hash = ?, rows = ? WHERE seq = ?", (prev, h, digests, eseq))
        prev = h
    db.commit()
    db.close()
    report = verify(fresh)
    assert kinds(report) == {"journal-rewritten"}, report.problems
    fresh.close()


def test_a_removed_anchor_is_found(repo: Path, store: Store, played: Session) -> None:
    sid = anchor.store_id(store.db)
    assert sid is not None
    os.remove(anchor.path(sid))
    assert "anchor-missing" in kinds(verify(store))


def test_a_fresh_store_and_its_anchor(repo: Path, store: Store) -> None:
    sid = anchor.store_id(store.db)
    assert sid is not None and os.path.isfile(anchor.path(sid))
    assert Path(anchor.path(sid)).stat().st_size == anchor.RECORD
    assert verify(store).ok


def test_an_anchor_that_cannot_be_written_never_stops_recording(repo: Path, store: Store, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    s = Session(store, "s1")
    s.start()
    s.write("src/a.py", "a = 1\n", "w1")
    assert store.db.execute("SELECT COUNT(*) FROM steps WHERE tool_use_id = 'w1' AND status = 'ok'").fetchone()[0]
    assert any("could not anchor the journal" in e["message"] for e in query.errors(store))
    assert "anchor-missing" in kinds(verify(store))
