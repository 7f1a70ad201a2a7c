"""Hook events become sessions, prompts and steps, attributed correctly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.support import Session
from tether.record import query
from tether.record.store import Store
from tether.record.verify import verify
from tether.types import Decision


def brief(steps: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(s["origin"], s["tool"], s["status"], s["prompt"], [(f["path"], f["change"]) for f in s["files"]])
            for s in steps]


def test_a_session_with_write_bash_and_a_persons_edit(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("add a greeting")
    w = {"file_path": str(repo / "hello.py"), "content": "print('hi')\n"}
    s.pre("Write", w, "t1")
    (repo / "hello.py").write_text("print('hi')\n")
    s.post("Write", w, "t1")
    b = {"command": "echo more >> README.md && rm src/app.py"}
    s.pre("Bash", b, "t2")
    (repo / "README.md").write_text("# demo\nmore\n")
    (repo / "src" / "app.py").unlink()
    s.post("Bash", b, "t2")
    s.pre("Read", {"file_path": str(repo / "README.md")}, "t3")
    s.post("Read", {"file_path": str(repo / "README.md")}, "t3")
    s.stop()
    # A person edits between prompts.
    (repo / "hello.py").write_text("print('hi')\n# reviewed\n")
    s.say("now fix it")
    e = {"file_path": str(repo / "hello.py"), "old_string": "hi", "new_string": "hello"}
    s.pre("Edit", e, "t4")
    (repo / "hello.py").write_text("print('hello')\n# reviewed\n")
    s.post("Edit", e, "t4")
    s.pre("Bash", {"command": "false"}, "t5")
    s.post("Bash", {"command": "false"}, "t5", fail="Exit code 1")
    s.stop()

    steps = query.log(store)
    assert brief(steps) == [
        ("agent", "Write", "ok", "s1-p0", [("hello.py", "added")]),
        ("agent", "Bash", "ok", "s1-p0", [("README.md", "modified"), ("src/app.py", "deleted")]),
        ("agent", "Read", "ok", "s1-p0", []),
        ("external", None, "ok", None, [("hello.py", "modified")]),
        ("agent", "Edit", "ok", "s1-p1", [("hello.py", "modified")]),
        ("agent", "Bash", "error", "s1-p1", []),
    ]
    assert steps[3]["session"] == "s1" and steps[3]["agent"] is None
    assert steps[5]["error"] == "Exit code 1"
    assert [s["prompt_text"] for s in steps if s["origin"] == "agent"][-1] == "now fix it"
    assert len({s["id"] for s in steps}) == len(steps)
    assert verify(store).ok


def test_an_edit_made_just_before_a_tool_call_is_not_blamed_on_it(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("go")
    (repo / "README.md").write_text("a person typed this while the model was thinking\n")
    b = {"command": "touch created.txt"}
    s.pre("Bash", b, "t1")
    (repo / "created.txt").write_text("")
    s.post("Bash", b, "t1")
    assert brief(query.log(store)) == [
        ("external", None, "ok", None, [("README.md", "modified")]),
        ("agent", "Bash", "ok", "s1-p0", [("created.txt", "added")]),
    ]


def test_two_sessions_at_once_keep_their_own_steps(repo: Path, store: Store) -> None:
    a, b = Session(store, "A"), Session(store, "B")
    a.start()
    b.start()
    a.say("task a")
    b.say("task b")
    wa = {"file_path": str(repo / "a.txt"), "content": "a\n"}
    wb = {"file_path": str(repo / "b.txt"), "content": "b\n"}
    a.pre("Write", wa, "ta")
    b.pre("Write", wb, "tb")
    (repo / "a.txt").write_text("a\n")
    (repo / "b.txt").write_text("b\n")
    # B's shell command runs while A's Write has written but not yet reported.
    bash = {"command": "echo b2 > b2.txt"}
    b.pre("Bash", bash, "tb2")
    (repo / "b2.txt").write_text("b2\n")
    b.post("Bash", bash, "tb2")
    a.post("Write", wa, "ta")
    b.post("Write", wb, "tb")
    steps = query.log(store)
    by_tool = {(s["session"], s["tool"]): s for s in steps if s["origin"] == "agent"}
    assert [(f["path"], f["change"]) for f in by_tool[("A", "Write")]["files"]] == [("a.txt", "added")]
    assert by_tool[("A", "Write")]["prompt"] == "A-p0"
    assert by_tool[("B", "Write")]["prompt"] == "B-p0"
    # Both Writes were still running when B's shell command finished: their files are
    # theirs, not the shell command's, and nothing is taken for an external edit.
    assert [(f["path"], f["change"]) for f in by_tool[("B", "Bash")]["files"]] == [("b2.txt", "added")]
    assert [(f["path"], f["change"]) for f in by_tool[("B", "Write")]["files"]] == [("b.txt", "added")]
    assert [s["origin"] for s in steps] == ["agent"] * 3


def test_a_denied_call_is_a_blocked_step_without_changes(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("clean up")
    d = Decision("deny", ["git reset --hard destroys uncommitted work; use git stash"], ["destructive"],
                 ["git.reset-hard"])
    s.pre("Bash", {"command": "git reset --hard"}, "t1", decision=d)
    s.stop()
    [step] = query.log(store)
    assert step["status"] == "blocked" and step["decision"] == "deny" and step["files"] == []
    assert step["reasons"] == d.reasons and step["rules"] == ["git.reset-hard"]


def test_a_call_that_never_reports_back_is_closed_at_the_end_of_the_turn(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("run the server")
    s.pre("Bash", {"command": "./serve.sh"}, "t1")
    (repo / "server.pid").write_text("123\n")
    s.stop()  # interrupted: no PostToolUse
    [step] = query.log(store)
    assert step["status"] == "error" and "no result" in step["error"]
    assert step["files"] == [{"path": "server.pid", "change": "added"}]


def test_post_without_pre_and_prompt_without_id(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.rec.handle(s.ev("UserPromptSubmit", prompt="no id given", prompt_id=None))
    w = {"file_path": "notes.md", "content": "n\n"}  # relative to cwd
    (repo / "notes.md").write_text("n\n")
    s.rec.handle(s.ev("PostToolUse", tool="Write", tool_input=w, tool_use_id="t9", prompt_id=None))
    [step] = query.log(store)
    assert step["files"] == [{"path": "notes.md", "change": "added"}]
    prompt = store.db.execute("SELECT id, text FROM prompts").fetchone()
    assert step["prompt"] == prompt[0] and prompt[1] == "no id given"


def test_secrets_never_reach_the_database_in_clear(repo: Path, store: Store) -> None:
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    s = Session(store, "s1")
    s.start()
    s.say(f"use the key {key} please")
    b = {"command": f"curl -H 'Authorization: Bearer {token}' https://api.example.com"}
    s.pre("Bash", b, "t1")
    s.post("Bash", b, "t1")
    store.close()
    raw = b"".join(p.read_bytes() for p in Path(store.path).glob("tether.db*"))
    assert key.encode() not in raw and token.encode() not in raw
    assert b"[REDACTED:aws-access-key]" in raw


def test_huge_tool_output_is_cut_not_lost(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("read it")
    big = "x" * (5 << 20)
    s.rec.handle(s.ev("PostToolUse", tool="Read", tool_input={"file_path": "README.md"}, tool_use_id="t1",
                      tool_response={"content": big}))
    response = store.db.execute("SELECT response FROM steps").fetchone()[0]
    assert len(response) < 64 * 1024
    assert "more characters not stored" in json.loads(response)["content"]


def test_the_journal_detects_tampering(repo: Path, store: Store) -> None:
    s = Session(store, "s1")
    s.start()
    s.say("hello")
    s.stop()
    assert verify(store).ok
    db = sqlite3.connect(store.db_path)
    db.execute("UPDATE events SET payload = replace(payload, 'hello', 'HELLO') WHERE name = 'UserPromptSubmit'")
    db.commit()
    db.close()
    report = verify(store)
    assert not report.ok and any("does not match its hash" in p for p in report.problems)
    db = sqlite3.connect(store.db_path)
    db.execute("DELETE FROM events WHERE seq = 1")
    db.commit()
    db.close()
    assert any("chain is broken" in p for p in verify(store).problems)
