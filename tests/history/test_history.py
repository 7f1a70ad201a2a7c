"""Blame, rewind, revert, restore and undo on a realistic history, against a real store."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import Session
from tether.errors import TetherError
from tether.history import operations as ops
from tether.history.blame import blame
from tether.history.commits import steps_of_commit
from tether.record import query
from tether.record.store import Store

APP = "def main():\n    return 1\n"  # the fixture repo's src/app.py


def who(store: Store, rel: str) -> list[tuple[str, str | None, str]]:
    return [(e["origin"], e.get("tool"), e["text"]) for e in blame(store, rel, store.root)]


def run(store: Store, plan_fn: Any, dry_run: bool = False) -> tuple[ops.Plan, str | None, str | None]:
    return ops.execute(store, plan_fn, dry_run=dry_run, confirm=None)


def seq_of(store: Store, tool_use_id: str) -> int:
    return int(store.db.execute("SELECT seq FROM steps WHERE tool_use_id = ?", (tool_use_id,)).fetchone()[0])


@pytest.fixture
def history(repo: Path, store: Store) -> Session:
    """Prompt 1 writes a module and a shell command edits app.py; a person edits between prompts;
    prompt 2 edits the module again."""
    s = Session(store, "s1")
    s.start()
    s.say("write the module")
    s.write("src/mod.py", "a = 1\nb = 2\nc = 3\n", "w1")
    s.bash("b1", lambda: (repo / "src" / "app.py").write_text("def main():\n    return 2\n"))
    s.stop()
    (repo / "src" / "mod.py").write_text("a = 1\nb = 2\nc = 3\n# reviewed by a person\n")
    s.say("extend it")
    s.write("src/mod.py", "a = 1\nb = 20\nc = 3\n# reviewed by a person\nd = 4\n", "w2")
    s.stop()
    return s


def test_blame_names_the_step_for_every_line(repo: Path, store: Store, history: Session) -> None:
    assert who(store, "src/mod.py") == [
        ("agent", "Write", "a = 1"),
        ("agent", "Write", "b = 20"),
        ("agent", "Write", "c = 3"),
        ("external", None, "# reviewed by a person"),
        ("agent", "Write", "d = 4"),
    ]
    lines = blame(store, "src/mod.py", store.root)
    w1, w2 = seq_of(store, "w1"), seq_of(store, "w2")
    assert [e["seq"] for e in lines] == [w1, w2, w1, lines[3]["seq"], w2]
    assert lines[0]["prompt_text"] == "write the module" and lines[1]["prompt_text"] == "extend it"
    assert lines[0]["session"] == "s1"
    # Baseline lines carry the git commit that last changed them.
    app = blame(store, "src/app.py", store.root)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert [(e["origin"], e.get("commit")) for e in app] == [("baseline", head), ("agent", None)]
    # A line range, and a line nobody recorded yet.
    assert [e["line"] for e in blame(store, "src/mod.py", store.root, 2, 3)] == [2, 3]
    with open(repo / "src" / "mod.py", "a") as fh:
        fh.write("e = 5\n")
    last = blame(store, "src/mod.py", store.root)[-1]
    assert (last["origin"], last["step"], last.get("unrecorded")) == ("external", None, True)


def test_blame_survives_a_commit(repo: Path, store: Store, history: Session) -> None:
    before = who(store, "src/mod.py")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "agent work"], check=True)
    assert who(store, "src/mod.py") == before
    # The commit links back to the steps that wrote what it added.
    steps = steps_of_commit(store, "HEAD")
    assert seq_of(store, "w1") in steps and seq_of(store, "w2") in steps and seq_of(store, "b1") in steps


def test_rewind_then_undo(repo: Path, store: Store, history: Session) -> None:
    final = {p: (repo / p).read_text() for p in ("src/mod.py", "src/app.py")}
    plan, op, step = run(store, lambda: ops.plan_rewind(store, seq_of(store, "b1"), "test"))
    assert op and step
    # `tether show` of the operation's step names the operation.
    shown = query.step_json(store.db, query.resolve_step(store.db, step))
    assert shown["operation"] == {"id": op, "kind": "rewind"} and shown["origin"] == "external"
    assert [(c.name, c.change) for c in plan.changes] == [("src/app.py", "modified"), ("src/mod.py", "modified")]
    assert (repo / "src" / "app.py").read_text() == APP
    assert (repo / "src" / "mod.py").read_text() == "a = 1\nb = 2\nc = 3\n"
    # Rewound lines get their attribution back.
    assert [o for o, _, _ in who(store, "src/app.py")] == ["baseline", "baseline"]
    assert [t for _, t, _ in who(store, "src/mod.py")] == ["Write"] * 3
    run(store, lambda: ops.plan_undo(store))
    assert {p: (repo / p).read_text() for p in final} == final
    assert who(store, "src/mod.py")[3][0] == "external"
    kinds = [o["kind"] for o in ops.operations(store)]
    assert kinds == ["rewind", "undo"]


def test_rewind_removes_created_files_and_brings_back_deleted_ones(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("restructure")
    s.bash("b1", lambda: (repo / "README.md").unlink(), lambda: (repo / "new").mkdir(),
           lambda: (repo / "new" / "file.txt").write_text("new\n"))
    s.stop()
    run(store, lambda: ops.plan_rewind(store, seq_of(store, "b1"), "test"))
    assert (repo / "README.md").read_text() == "# demo\n"
    assert not (repo / "new").exists(), "the folder the step created is gone with its file"


def test_a_persons_unrecorded_edit_survives_rewind_and_undo(repo: Path, store: Store, history: Session) -> None:
    (repo / "src" / "app.py").write_text("typed by a person, never recorded\n")
    run(store, lambda: ops.plan_rewind(store, seq_of(store, "w1"), "test"))
    assert (repo / "src" / "app.py").read_text() == APP
    run(store, lambda: ops.plan_undo(store))
    assert (repo / "src" / "app.py").read_text() == "typed by a person, never recorded\n"


def test_dry_run_changes_nothing(repo: Path, store: Store, history: Session) -> None:
    (repo / "README.md").write_text("unrecorded\n")
    steps_before = len(query.log(store))
    plan, op, _ = run(store, lambda: ops.plan_rewind(store, seq_of(store, "w1"), "test"), dry_run=True)
    assert op is None and {c.name for c in plan.changes} == {"src/mod.py", "src/app.py", "README.md"}
    assert (repo / "README.md").read_text() == "unrecorded\n"
    assert len(query.log(store)) == steps_before
    assert ops.operations(store) == []


def test_revert_one_step_keeps_later_ones(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("three changes")
    s.write("f.txt", "one\ntwo\nthree\nfour\nfive\nsix\nseven\n", "w1")
    s.write("f.txt", "ONE\ntwo\nthree\nfour\nfive\nsix\nseven\n", "w2")
    s.write("f.txt", "ONE\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n", "w3")
    s.stop()
    plan, op, _ = run(store, lambda: ops.plan_revert(store, [seq_of(store, "w2")], "test"))
    assert op and not plan.conflicts
    assert (repo / "f.txt").read_text() == "one\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n"
    assert who(store, "f.txt")[0][1] == "Write"
    assert blame(store, "f.txt", store.root)[0]["seq"] == seq_of(store, "w1")
    assert blame(store, "f.txt", store.root)[6]["seq"] == seq_of(store, "w3")


def test_revert_refuses_overlapping_changes_and_changes_nothing(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("overlap")
    s.write("f.txt", "one\n", "w1")
    s.write("f.txt", "one changed\n", "w2")
    s.write("f.txt", "one changed twice\n", "w3")
    s.stop()
    plan, op, _ = run(store, lambda: ops.plan_revert(store, [seq_of(store, "w2")], "test"))
    assert op is None and [c.path for c in plan.conflicts] == [b"f.txt"] and plan.conflicts[0].hunks
    assert (repo / "f.txt").read_text() == "one changed twice\n"
    with pytest.raises(TetherError, match="refusing"):
        ops.apply(store, plan)
    # With conflict markers requested, it writes them like git.
    plan, op, _ = run(store, lambda: ops.plan_revert(store, [seq_of(store, "w2")], "test", write_conflicts=True))
    assert op is not None
    text = (repo / "f.txt").read_text()
    assert "<<<<<<< current" in text and ">>>>>>> before step" in text


def test_restore_one_file_at_a_step(repo: Path, store: Store, history: Session) -> None:
    plan, _, _ = run(store, lambda: ops.plan_restore(store, b"src/mod.py", seq_of(store, "w1"), True, "test"))
    assert [c.name for c in plan.changes] == ["src/mod.py"]
    assert (repo / "src" / "mod.py").read_text() == "a = 1\nb = 2\nc = 3\n"
    assert (repo / "src" / "app.py").read_text() == "def main():\n    return 2\n", "other files are left alone"


def test_undo_refuses_to_lose_a_later_change(repo: Path, store: Store, history: Session) -> None:
    run(store, lambda: ops.plan_rewind(store, seq_of(store, "w2"), "test"))
    (repo / "src" / "mod.py").write_text("changed after the rewind\n")
    plan, op, _ = run(store, lambda: ops.plan_undo(store))
    assert op is None and plan.conflicts
    assert (repo / "src" / "mod.py").read_text() == "changed after the rewind\n"


def test_an_interrupted_operation_is_completed_by_the_next_command(repo: Path, store: Store,
                                                                  history: Session, monkeypatch: pytest.MonkeyPatch,
                                                                  ) -> None:
    from tether.history import workfiles

    real = workfiles.put
    calls = []

    def crash_after_one(*args: Any) -> None:
        if calls:
            raise KeyboardInterrupt("killed")
        calls.append(args)
        real(*args)

    monkeypatch.setattr(workfiles, "put", crash_after_one)
    with pytest.raises(KeyboardInterrupt):
        run(store, lambda: ops.plan_rewind(store, seq_of(store, "b1"), "test"))
    monkeypatch.setattr(workfiles, "put", real)
    assert [o["state"] for o in ops.operations(store)] == ["pending"]
    # Any later recording completes it first.
    history.say("next")
    assert [o["state"] for o in ops.operations(store)] == ["done"]
    assert (repo / "src" / "app.py").read_text() == APP
    assert (repo / "src" / "mod.py").read_text() == "a = 1\nb = 2\nc = 3\n"


def test_rewind_never_writes_through_a_symlinked_folder(repo: Path, store: Store, tmp_path: Path) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("x")
    s.write("sub/f.txt", "inside\n", "w1")
    s.stop()
    outside = tmp_path / "outside"
    outside.mkdir()
    # Behind tether's back, the folder becomes a link to somewhere else.
    (repo / "sub" / "f.txt").unlink()
    (repo / "sub").rmdir()
    (repo / "sub").symlink_to(outside)
    with pytest.raises(TetherError, match="symlink"):
        run(store, lambda: ops.plan_restore(store, b"sub/f.txt", seq_of(store, "w1"), True, "test"))
    assert list(outside.iterdir()) == []


def test_a_moved_file_keeps_its_lines_authors(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("write, then move")
    s.write("old_name.py", "first = 1\nsecond = 2\n", "w1")
    s.write("old_name.py", "first = 1\nsecond = 2\nthird = 3\n", "w2")
    s.bash("mv", lambda: (repo / "old_name.py").rename(repo / "new_name.py"))
    s.bash("edit", lambda: (repo / "new_name.py").write_text("first = 1\nsecond = 2\nthird = 3\nfourth = 4\n"))
    s.stop()
    assert [e["seq"] for e in blame(store, "new_name.py", store.root)] == [
        seq_of(store, "w1"), seq_of(store, "w1"), seq_of(store, "w2"), seq_of(store, "edit")]


def test_asking_first_and_a_workspace_that_changes_meanwhile(repo: Path, store: Store, history: Session) -> None:
    shown: list[ops.Plan] = []

    def agree(plan: ops.Plan) -> bool:
        shown.append(plan)
        return True

    plan, op, _ = ops.execute(store, lambda: ops.plan_rewind(store, seq_of(store, "w2"), "test"), dry_run=False,
                              confirm=agree)
    assert op is not None and shown and shown[0].same_as(plan)
    run(store, lambda: ops.plan_undo(store))

    def meanwhile(plan: ops.Plan) -> bool:
        (repo / "src" / "mod.py").write_text("changed while the person was deciding\n")
        return True

    with pytest.raises(TetherError, match="changed while you were deciding"):
        ops.execute(store, lambda: ops.plan_rewind(store, seq_of(store, "w2"), "test"), dry_run=False,
                    confirm=meanwhile)
    assert (repo / "src" / "mod.py").read_text() == "changed while the person was deciding\n"

    with pytest.raises(ops.Declined):
        ops.execute(store, lambda: ops.plan_rewind(store, seq_of(store, "w2"), "test"), dry_run=False,
                    confirm=lambda plan: False)
    assert (repo / "src" / "mod.py").read_text() == "changed while the person was deciding\n"
