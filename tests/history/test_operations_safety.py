"""Operations under adversity: things in the way, interruptions, hostile links, parallel calls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import Session
from tether.errors import TetherError
from tether.history import operations as ops
from tether.history import workfiles
from tether.history.commits import steps_of_commit
from tether.record import query
from tether.record.store import Store


def run(store: Store, plan_fn: Any) -> tuple[ops.Plan, str | None, str | None]:
    return ops.execute(store, plan_fn, dry_run=False, confirm=None)


def seq_of(store: Store, tool_use_id: str) -> int:
    return int(store.db.execute("SELECT seq FROM steps WHERE tool_use_id = ?", (tool_use_id,)).fetchone()[0])


def test_an_operation_that_cannot_be_done_changes_nothing(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("out", "a file\n", "w1")

    def to_folder() -> None:
        (repo / "out").unlink()
        (repo / "out").mkdir()
        (repo / "out" / "data.txt").write_text("recorded\n")
        (repo / "out" / "run.log").write_text("ignored, never recorded\n")

    s.bash("b1", to_folder)
    s.stop()
    with pytest.raises(TetherError, match=r"run\.log"):
        run(store, lambda: ops.plan_rewind(store, seq_of(store, "b1"), "test"))
    assert sorted(os.listdir(repo / "out")) == ["data.txt", "run.log"]
    assert ops.operations(store) == []
    s.say("the agent goes on")  # and recording still works
    assert query.log(store)[-1]["status"] == "ok"


def test_a_failed_write_is_rolled_back_and_marked_failed(repo: Path, store: Store,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("a.txt", "one\n", "w1")
    s.write("b.txt", "two\n", "w2")
    s.stop()
    real = workfiles.put
    calls: list[bytes] = []

    def fail_second(root: bytes, rel: bytes, *args: Any) -> None:
        calls.append(rel)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(root, rel, *args)

    monkeypatch.setattr(workfiles, "put", fail_second)
    with pytest.raises(TetherError, match="rolled back"):
        run(store, lambda: ops.plan_rewind(store, seq_of(store, "w1"), "test"))
    monkeypatch.setattr(workfiles, "put", real)
    assert (repo / "a.txt").read_text() == "one\n" and (repo / "b.txt").read_text() == "two\n"
    assert [(o["kind"], o["state"]) for o in ops.operations(store)] == [("rewind", "failed")]
    s.say("next")
    assert [o["state"] for o in ops.operations(store)] == ["failed"], "a failed operation is not retried"


def test_completing_an_interrupted_operation_keeps_a_later_edit(repo: Path, store: Store,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("a.txt", "a\n", "w1")
    s.write("b.txt", "b\n", "w2")
    s.stop()
    real = workfiles.put

    def killed_after_one(root: bytes, rel: bytes, *args: Any) -> None:
        if rel == b"b.txt":
            raise KeyboardInterrupt
        real(root, rel, *args)

    monkeypatch.setattr(workfiles, "put", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        run(store, lambda: ops.plan_rewind(store, seq_of(store, "w1"), "test"))
    monkeypatch.setattr(workfiles, "put", real)
    (repo / "b.txt").write_text("a person's fix, made before anything noticed\n")
    s.say("next")  # completes the rewind
    assert not (repo / "b.txt").exists()
    [person] = [st for st in query.log(store) if st["origin"] == "external" and st["tool"] is None]
    assert person["files"] == [{"path": "b.txt", "change": "modified"}], "the person's version was recorded first"
    run(store, lambda: ops.plan_restore(store, b"b.txt", person["seq"], True, "test"))
    assert (repo / "b.txt").read_text() == "a person's fix, made before anything noticed\n"


def test_a_planted_hard_link_is_never_written_through(repo: Path, store: Store, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("outside the workspace\n")
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("a.txt", "one\n", "w1")
    s.write("a.txt", "two\n", "w2")
    s.stop()
    # Suppose the agent could predict the temporary name, and linked it to a file outside.
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)
    os.link(victim, repo / ".tether-restore-0000000000000000")
    with pytest.raises(TetherError, match="rolled back"):
        run(store, lambda: ops.plan_restore(store, b"a.txt", seq_of(store, "w1"), True, "test"))
    assert victim.read_text() == "outside the workspace\n"
    assert (repo / "a.txt").read_text() == "two\n"


def test_parallel_calls_are_combined_in_the_order_their_changes_happened(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("two calls at once")
    bash = {"command": "slow"}
    s.pre("Bash", bash, "b1")
    edit = {"file_path": str(repo / "src" / "app.py"), "old_string": "1", "new_string": "2"}
    s.pre("Edit", edit, "e1")
    (repo / "src" / "app.py").write_text("def main():\n    return 2\n")
    s.post("Edit", edit, "e1")
    (repo / "src" / "app.py").write_text("def main():\n    return 3\n")
    s.post("Bash", bash, "b1")
    s.stop()
    prompt = query.log(store)[0]["prompt"]
    diffs = query.net_diffs(store.db, query.steps_for(store.db, prompt=prompt))
    assert [(d.path, d.change) for d in diffs] == [(b"src/app.py", "modified")]
    plan, op, _ = run(store, lambda: ops.plan_revert(store, query.steps_for(store.db, prompt=prompt), "test"))
    assert not plan.conflicts and op is not None
    assert (repo / "src" / "app.py").read_text() == "def main():\n    return 1\n"


def test_rewinding_a_session_keeps_what_a_person_did_before_it(repo: Path, store: Store) -> None:
    (repo / "README.md").write_text("edited before the session started\n")
    s = Session(store, "s1")
    s.start()  # finds the README edit: an external step of this session
    s.say("go")
    s.write("new.py", "x\n", "w1")
    s.stop()
    sid_first = min(int(r[0]) for r in store.db.execute("SELECT seq FROM steps WHERE session = 's1' "
                                                       "AND origin = 'agent'"))
    run(store, lambda: ops.plan_rewind(store, sid_first, "test"))
    assert (repo / "README.md").read_text() == "edited before the session started\n"
    assert not (repo / "new.py").exists()


def test_commit_links_survive_a_submodule(repo: Path, store: Store, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    subprocess.run(["git", "init", "-q", str(sub)], check=True)
    (sub / "f").write_text("x\n")
    subprocess.run(["git", "-C", str(sub), "add", "f"], check=True)
    subprocess.run(["git", "-C", str(sub), "commit", "-qm", "s"], check=True)
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("src/new.py", "print(1)\n", "w1")
    s.stop()
    subprocess.run(["git", "-C", str(repo), "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub),
                    "vendor/sub"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "with a submodule"], check=True)
    assert steps_of_commit(store, "HEAD") == [seq_of(store, "w1")]


def _identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def test_what_an_operation_writes_is_synced_not_the_whole_machine(repo: Path, store: Store,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("deep/new/a.txt", "a\n", "w1")
    s.write("README.md", "# changed\n", "w2")
    s.bash("b1", lambda: (repo / "src" / "app.py").unlink())
    s.stop()
    synced: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        st = os.fstat(fd)
        synced.append((st.st_dev, st.st_ino))
        real_fsync(fd)

    def whole_machine() -> None:
        raise AssertionError("os.sync() flushes every file system of the machine")

    monkeypatch.setattr(os, "fsync", spy)
    monkeypatch.setattr(os, "sync", whole_machine)
    run(store, lambda: ops.plan_rewind(store, seq_of(store, "w1"), "test"))
    assert not (repo / "deep").exists() and (repo / "src" / "app.py").exists()
    # The files written, and the folders whose entries changed: src (app.py came back) and the
    # root (README.md replaced, deep/ removed along with the folders it emptied).
    for path in (repo / "README.md", repo / "src" / "app.py", repo / "src", repo):
        assert _identity(path) in synced, path
    synced.clear()
    run(store, lambda: ops.plan_undo(store))
    # Folders created on the way are entries of their parents: each of those is synced too.
    for path in (repo / "deep" / "new" / "a.txt", repo / "deep" / "new", repo / "deep", repo):
        assert _identity(path) in synced, path


def test_a_failed_sync_fails_the_operation_and_puts_everything_back(repo: Path, store: Store,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    s.write("a.txt", "one\n", "w1")
    s.write("a.txt", "two\n", "w2")
    s.stop()
    real_fsync = os.fsync
    failures = [OSError(5, "Input/output error")]

    def failing(fd: int) -> None:
        if failures:
            raise failures.pop()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(TetherError, match="Input/output error"):
        run(store, lambda: ops.plan_rewind(store, seq_of(store, "w2"), "test"))
    assert (repo / "a.txt").read_text() == "two\n"
    assert [(o["kind"], o["state"]) for o in ops.operations(store)] == [("rewind", "failed")]
    assert not [p for p in os.listdir(repo) if p.startswith(".tether-restore-")]
