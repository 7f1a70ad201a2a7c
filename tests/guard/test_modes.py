"""Least privilege: investigate mode, task scopes, and the state file that keeps them."""

from __future__ import annotations

import json

import pytest

from tests.guard.conftest import Workspace
from tether.errors import StoreError, TetherError
from tether.guard import state
from tether.guard.engine import GuardContext
from tether.guard.state import GuardState, Task


def test_investigate_mode_allows_only_reading(ws: Workspace) -> None:
    inv = GuardState("investigate")
    for tool, inp in [("Read", {"file_path": str(ws.root / "src" / "a.py")}),
                      ("Grep", {"pattern": "x"}), ("Glob", {"pattern": "*"}),
                      ("WebSearch", {"query": "x"}), ("Bash", {"command": "git log -5 && ls src"}),
                      ("Bash", {"command": "cat README.md | grep x | sort"}),
                      ("Bash", {"command": "find . -name '*.py'"})]:
        assert ws.tool(tool, inp, state=inv).verdict == "allow", (tool, inp)
    for tool, inp in [("Edit", {"file_path": str(ws.root / "src" / "a.py")}),
                      ("Write", {"file_path": str(ws.scratch / "x")}),
                      ("Bash", {"command": "pytest"}),
                      ("Bash", {"command": "echo x > out.txt"}),
                      ("Bash", {"command": "git commit -m x"}),
                      ("Bash", {"command": "find . -delete"}),
                      ("mcp__github__create_issue", {})]:
        d = ws.tool(tool, inp, state=inv)
        assert d.verdict == "deny" and "mode.investigate" in d.rules, (tool, inp, d.rules)
        assert any("investigate" in r for r in d.reasons)
    # Secrets stay denied in every mode.
    ws.write(".env", "X=1")
    assert ws.tool("Read", {"file_path": str(ws.root / ".env")}, state=inv).verdict == "deny"


def test_plan_permission_mode_means_investigate(ws: Workspace) -> None:
    d = ws.tool("Edit", {"file_path": str(ws.root / "src" / "a.py")}, permission_mode="plan")
    assert d.verdict == "deny" and "mode.investigate" in d.rules
    d = ws.tool("Edit", {"file_path": str(ws.root / "src" / "a.py")}, permission_mode="acceptEdits")
    assert d.verdict == "allow"


def test_task_scope_asks_about_edits_and_commands_outside_it(ws: Workspace) -> None:
    task = Task("task-abc", "fix the login button", ["src/ui"], ["npm run e2e*"], "t")
    st = GuardState("normal", task)
    assert ws.tool("Edit", {"file_path": str(ws.root / "src/ui/button.tsx")}, state=st).verdict == "allow"
    d = ws.tool("Edit", {"file_path": str(ws.root / "src/api/server.ts")}, state=st)
    assert d.verdict == "ask" and d.rules == ["task.scope"]
    assert any("outside the task's scope" in r for r in d.reasons)
    # Reading, tests and builds, and the task's own commands are ordinary work.
    for cmd in ("git diff", "cat src/api/server.ts", "pytest -x", "npm test", "make",
                "cargo test", "npm run e2e -- --headed", "git add -A && git commit -m x"):
        assert ws.command(cmd, state=st).verdict == "allow", cmd
    for cmd in ("docker compose up -d", "./scripts/migrate.sh", "echo x > src/api/x.ts"):
        d = ws.command(cmd, state=st)
        assert d.verdict == "ask" and "task.scope" in d.rules, (cmd, d.rules)
    # Scope never loosens anything: denied stays denied.
    assert ws.command("rm -rf /", state=st).verdict == "deny"


def test_state_roundtrip_mode_and_task(ws: Workspace) -> None:
    root = str(ws.root)
    assert state.load(root).mode == "normal" and state.active_task(root) is None
    state.set_mode(root, "investigate")
    assert state.load(root).mode == "investigate"
    t = state.start_task(root, "fix x", ["src/ui", "tests,docs/x.md"], ["npm run e2e*"], cwd=root)
    assert t.id.startswith("task-") and len(t.id) > 8
    assert t.scope == ["src/ui", "tests", "docs/x.md"]
    again = state.active_task(root)
    assert again is not None and again.id == t.id and again.intent == "fix x"
    assert state.load(root).mode == "investigate"
    # The file lives in the store, written atomically as JSON.
    data = json.loads((ws.store / state.STATE_FILE).read_text())
    assert data["task"]["id"] == t.id and data["mode"] == "investigate"
    assert not [p for p in ws.store.iterdir() if p.name.endswith(".tmp")]
    ended = state.end_task(root)
    assert ended is not None and ended.id == t.id
    assert state.active_task(root) is None and state.end_task(root) is None
    # The engine picks the saved state up by itself.
    ws.guard = ws.load()
    d = ws.guard.check_tool("Edit", {"file_path": str(ws.root / "a.py")},
                            GuardContext(root=ws.guard.root, cwd=str(ws.root)))
    assert d.verdict == "deny" and "mode.investigate" in d.rules


def test_task_ids_are_unique_and_scope_must_stay_inside(ws: Workspace) -> None:
    root = str(ws.root)
    ids = {state.start_task(root, "x", ["src"], [], cwd=root).id for _ in range(20)}
    assert len(ids) == 20
    with pytest.raises(TetherError):
        state.start_task(root, "x", ["../elsewhere"], [], cwd=root)
    with pytest.raises(TetherError):
        state.start_task(root, "  ", ["src"], [], cwd=root)
    with pytest.raises(TetherError):
        state.set_mode(root, "godmode")


def test_corrupt_state_fails_closed(ws: Workspace) -> None:
    ws.store.mkdir(parents=True)
    (ws.store / state.STATE_FILE).write_text("{not json")
    with pytest.raises(StoreError):
        state.load(str(ws.root))
    ws.guard = ws.load()
    d = ws.guard.check_command("ls", GuardContext(root=ws.guard.root, cwd=str(ws.root)))
    assert d.verdict == "deny" and d.rules == ["guard.error"]
