"""The hook process as agents run it: bad input, failures, and what the agent is told."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tether import setup
from tether.record import query
from tether.record.store import Store


def hook(repo: Path, event: str, payload: Any, raw: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the hook exactly as the agent would: the command `tether init` writes, through a shell."""
    from tether.agents import claude

    data = raw if raw is not None else json.dumps(payload).encode()
    return subprocess.run(["sh", "-c", claude.hook_command(event)], input=data, cwd=repo, capture_output=True,
                          timeout=60)


def base(repo: Path, event: str, **kw: Any) -> dict[str, Any]:
    return {"session_id": "s1", "cwd": str(repo), "hook_event_name": event, "prompt_id": "p1",
            "transcript_path": str(repo / "no-transcript.jsonl"), **kw}


def errors(repo: Path) -> list[str]:
    st = Store.open(str(repo))
    try:
        return [e["message"] for e in query.errors(st)]
    finally:
        st.close()


@pytest.fixture
def ready(repo: Path) -> Path:
    """A repository after `tether init`."""
    setup.init(str(repo))
    return repo


def test_malformed_input_blocks_a_tool_call_and_nothing_else(ready: Path) -> None:
    res = hook(ready, "PreToolUse", None, raw=b"{not json")
    assert res.returncode == 2 and b"unreadable PreToolUse hook input" in res.stderr
    assert res.stderr.count(b"\n") == 1, "one line, no traceback"
    for event in ("PostToolUse", "UserPromptSubmit", "Stop"):
        res = hook(ready, event, None, raw=b"\xff\xfe garbage")
        assert res.returncode == 0 and res.stdout == b"" and res.stderr == b""
    assert len(errors(ready)) == 4


@pytest.mark.parametrize("payload", [
    [1, 2],
    {"hook_event_name": "PreToolUse", "cwd": "relative/dir", "session_id": "s"},
    {"hook_event_name": "PreToolUse", "cwd": "/", "session_id": "s"},  # no tool_name
    {"hook_event_name": "PostToolUse", "cwd": "/", "session_id": "s", "tool_name": "Bash"},  # wrong event
])
def test_invalid_payloads_fail_closed(ready: Path, payload: Any) -> None:
    res = hook(ready, "PreToolUse", payload)
    assert res.returncode == 2 and res.stderr.startswith(b"tether: ")


def repin(repo: Path) -> None:
    """Pin the policy and settings as they are (what `tether policy accept` does after asking)."""
    from tether import pins

    st = Store.open(str(repo))
    try:
        pins.pin(st)
    finally:
        st.close()


def test_a_broken_policy_blocks_with_a_reason(ready: Path) -> None:
    (ready / ".tether" / "policy.toml").write_text("[rules\nbroken = \n")
    call = base(ready, "PreToolUse", tool_name="Bash", tool_input={"command": "ls"}, tool_use_id="t1")
    res = hook(ready, "PreToolUse", call)
    assert res.returncode == 2 and b".tether/policy.toml was changed" in res.stderr
    # Pinned as it is (`tether policy accept` would refuse it), the guard itself fails closed.
    repin(ready)
    res = hook(ready, "PreToolUse", call)
    assert res.returncode == 2 and b"the guard could not decide" in res.stderr
    assert b"policy.toml" in res.stderr


def test_deny_answers_with_json_and_exit_status_2(ready: Path) -> None:
    res = hook(ready, "PreToolUse", base(ready, "PreToolUse", tool_name="Bash",
                                          tool_input={"command": "rm -rf /"}, tool_use_id="t1"))
    assert res.returncode == 2
    answer = json.loads(res.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny" and answer["permissionDecisionReason"].startswith("tether: ")
    # An allowed call says nothing, so the agent's own permission rules still apply.
    res = hook(ready, "PreToolUse", base(ready, "PreToolUse", tool_name="Read",
                                          tool_input={"file_path": str(ready / "README.md")}, tool_use_id="t2"))
    assert (res.returncode, res.stdout) == (0, b"")


def test_recording_failure_never_breaks_the_agent(ready: Path) -> None:
    store = Store.open(str(ready))
    db_path = store.db_path
    store.close()
    # Another process holds the database's write lock for longer than the hook waits.
    blocker = sqlite3.connect(db_path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        env = {**os.environ}
        res = subprocess.run([sys.executable, "-P", "-c",
                              "import tether.record.store as s; s.BUSY_TIMEOUT_MS = 200; "
                              "import sys; from tether.hook import main; sys.exit(main(['claude', 'PostToolUse']))"],
                             input=json.dumps(base(ready, "PostToolUse", tool_name="Bash",
                                                   tool_input={"command": "ls"}, tool_use_id="t1")).encode(),
                             cwd=ready, capture_output=True, env=env, timeout=60)
    finally:
        blocker.rollback()
        blocker.close()
    assert (res.returncode, res.stdout, res.stderr) == (0, b"", b"")
    assert any("locked" in m for m in errors(ready))


def test_a_workspace_without_a_store_is_not_created_behind_the_users_back(repo: Path) -> None:
    res = hook(repo, "PostToolUse", base(repo, "PostToolUse", tool_name="Bash", tool_input={"command": "ls"},
                                         tool_use_id="t1"))
    assert res.returncode == 0
    assert not (repo / ".git" / "tether" / "tether.db").exists()


def test_a_planted_tether_package_cannot_shadow_the_real_one(ready: Path) -> None:
    evil = ready / "tether"
    evil.mkdir()
    (evil / "__init__.py").write_text("")
    (evil / "hook.py").write_text("import sys; print('allowed by a fake'); sys.exit(0)\n")
    res = hook(ready, "PreToolUse", base(ready, "PreToolUse", tool_name="Bash",
                                          tool_input={"command": "rm -rf /"}, tool_use_id="t1"))
    assert res.returncode == 2 and b"fake" not in res.stdout


def test_huge_output_odd_names_and_symlinks_outside(ready: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret elsewhere\n")
    os.symlink(outside, ready / "link-out")
    odd = os.fsdecode(b"caf\xe9.txt")
    (ready / odd).write_bytes(b"latin-1 name\n")
    for event in ("PreToolUse", "PostToolUse"):
        res = hook(ready, event, base(ready, event, tool_name="Bash", tool_input={"command": "make"},
                                       tool_use_id="t1", tool_response={"stdout": "x" * (20 << 20)}))
        assert res.returncode == 0, res.stderr
    assert errors(ready) == []
    st = Store.open(str(ready))
    try:
        files = {f["path"] for s in query.log(st) for f in s["files"]}
        assert {"link-out", "caf\\xe9.txt"} <= files
        link = st.db.execute("SELECT new_oid FROM step_files WHERE path = ?", (b"link-out",)).fetchone()[0]
        assert st.objects.read_blob(link) == os.fsencode(outside), "the link is stored, not what it points to"
        response = st.db.execute("SELECT response FROM steps WHERE tool_use_id = 't1'").fetchone()[0]
        assert len(response) < 100_000
    finally:
        st.close()


def test_an_edited_file_that_was_then_deleted(ready: Path) -> None:
    payload = base(ready, "PreToolUse", tool_name="Edit", tool_use_id="t1",
                   tool_input={"file_path": str(ready / "README.md"), "old_string": "a", "new_string": "b"})
    assert hook(ready, "PreToolUse", payload).returncode == 0
    (ready / "README.md").unlink()
    payload["hook_event_name"] = "PostToolUse"
    assert hook(ready, "PostToolUse", payload).returncode == 0
    st = Store.open(str(ready))
    try:
        [step] = query.log(st)
        assert step["files"] == [{"path": "README.md", "change": "deleted"}]
    finally:
        st.close()


def test_unknown_events_are_journaled_only(ready: Path) -> None:
    res = hook(ready, "Notification", {"hook_event_name": "Notification", "cwd": str(ready), "session_id": "s1",
                                       "message": "waiting"})
    assert res.returncode == 0
    st = Store.open(str(ready))
    try:
        assert st.db.execute("SELECT name FROM events WHERE name NOT LIKE 'tether:%'").fetchall() == [
            ("Notification",)]
        assert query.log(st) == []
    finally:
        st.close()


def test_a_hook_that_dies_blocks_the_call(tmp_path: Path) -> None:
    from tether.agents import claude

    crasher = tmp_path / "python"
    crasher.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crasher.chmod(0o755)
    pre = subprocess.run(["sh", "-c", claude.hook_command("PreToolUse", str(crasher))], capture_output=True)
    assert pre.returncode == 2
    post = subprocess.run(["sh", "-c", claude.hook_command("PostToolUse", str(crasher))], capture_output=True)
    assert post.returncode != 2, "recording fails open"


def test_steps_carry_the_active_task(ready: Path) -> None:
    from tether.guard import state

    task = state.start_task(str(ready), "fix the readme", ["README.md"], [])
    edit = {"file_path": str(ready / "README.md"), "old_string": "a", "new_string": "b"}
    assert hook(ready, "PreToolUse", base(ready, "PreToolUse", tool_name="Edit", tool_input=edit,
                                          tool_use_id="t1")).returncode == 0
    outside = {"file_path": str(ready / "src" / "app.py"), "content": "x"}
    res = hook(ready, "PreToolUse", base(ready, "PreToolUse", tool_name="Write", tool_input=outside,
                                         tool_use_id="t2"))
    answer = json.loads(res.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "ask" and "outside the task's scope" in answer["permissionDecisionReason"]
    st = Store.open(str(ready))
    try:
        assert [(s["tool"], s["task"], s["decision"]) for s in query.log(st)] == [
            ("Edit", task.id, "allow"), ("Write", task.id, "ask")]
    finally:
        st.close()


def test_a_guard_that_hangs_blocks_the_call_itself(ready: Path) -> None:
    payload = base(ready, "PreToolUse", tool_name="Bash", tool_input={"command": "ls"}, tool_use_id="t1")
    code = ("import time, tether.hook as h; h.GUARD_DEADLINE = 1\n"
            "h._decide = lambda ev: time.sleep(30)\n"
            "h.cli()")
    res = subprocess.run([sys.executable, "-P", "-c", code, "claude", "PreToolUse"], input=json.dumps(payload).encode(),
                         cwd=ready, capture_output=True, timeout=20)
    assert res.returncode == 2
    assert json.loads(res.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert b"did not answer within 1 s" in res.stderr


def test_a_fifo_planted_as_the_policy_blocks_at_once(ready: Path) -> None:
    policy = ready / ".tether" / "policy.toml"
    policy.unlink()
    os.mkfifo(policy)
    call = base(ready, "PreToolUse", tool_name="Bash", tool_input={"command": "ls"}, tool_use_id="t1")
    res = hook(ready, "PreToolUse", call)
    assert res.returncode == 2 and b".tether/policy.toml was changed" in res.stderr
    repin(ready)
    res = hook(ready, "PreToolUse", call)
    assert res.returncode == 2 and b"not a regular file" in res.stderr
