"""Tamper evidence: the accepted policy and hook settings are pinned, and a change nobody accepted
blocks every call until a person runs `tether policy accept`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tether import pins, setup
from tether.agents import claude
from tether.record import query
from tether.record.store import Store
from tether.workspace import store_dir

POLICY = ".tether/policy.toml"
LOCAL = ".claude/settings.local.json"
SHARED = ".claude/settings.json"


def hook(repo: Path, event: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    payload = {"session_id": "s1", "cwd": str(repo), "hook_event_name": event, "prompt_id": "p1",
               "transcript_path": str(repo / "no-transcript.jsonl"), **kw}
    return subprocess.run(["sh", "-c", claude.hook_command(event)], input=json.dumps(payload).encode(),
                          cwd=repo, capture_output=True, timeout=60)


def read(repo: Path, n: int) -> subprocess.CompletedProcess[bytes]:
    return hook(repo, "PreToolUse", tool_name="Read", tool_input={"file_path": str(repo / "README.md")},
                tool_use_id=f"t{n}")


def tether(repo: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether", *args], cwd=repo, capture_output=True, text=True,
                          input=stdin, timeout=60)


def log(repo: Path) -> list[dict[str, Any]]:
    res = tether(repo, "log", "--json")
    assert res.returncode == 0, res.stderr
    return list(json.loads(res.stdout))


def status_pins(repo: Path) -> dict[str, Any]:
    res = tether(repo, "status", "--json")
    assert res.returncode == 0, res.stderr
    return dict(json.loads(res.stdout)["pins"])


def errors(repo: Path) -> list[str]:
    st = Store.open(str(repo))
    try:
        return [e["message"] for e in query.errors(st)]
    finally:
        st.close()


@pytest.fixture
def ready(repo: Path) -> Path:
    setup.init(str(repo))
    return repo


def test_init_pins_and_calls_flow(ready: Path) -> None:
    assert os.path.isfile(os.path.join(store_dir(str(ready)), pins.PINS_NAME))
    assert status_pins(ready) == {"policy": "ok", "settings": "ok", "changed_files": []}
    res = read(ready, 1)
    assert res.returncode == 0, res.stderr


def test_an_edit_of_the_policy_blocks_every_call_until_accepted(ready: Path) -> None:
    policy = ready / POLICY
    policy.write_text(policy.read_text() + '\n[rules]\n"git.push.protected" = "allow"\n')
    for n in (1, 2):
        res = read(ready, n)
        assert res.returncode == 2
        answer = json.loads(res.stdout)["hookSpecificOutput"]
        assert answer["permissionDecision"] == "deny"
        reason = answer["permissionDecisionReason"]
        assert ".tether/policy.toml was changed" in reason and "`tether policy accept`" in reason
    steps = [s for s in log(ready) if s["tool"] == "Read"]
    assert [(s["status"], s["decision"]) for s in steps] == [("blocked", "deny")] * 2
    assert status_pins(ready) == {"policy": "changed", "settings": "ok", "changed_files": [POLICY]}

    # Without a terminal, accept shows the difference and refuses; nothing changes.
    res = tether(ready, "policy", "accept")
    assert res.returncode != 0 and "--yes" in res.stderr
    assert '+"git.push.protected" = "allow"' in res.stdout and "accepted: .tether/policy.toml" in res.stdout
    assert read(ready, 3).returncode == 2

    res = tether(ready, "policy", "accept", "--yes")
    assert res.returncode == 0, res.stderr
    assert status_pins(ready)["policy"] == "ok"
    assert read(ready, 4).returncode == 0
    res = tether(ready, "policy", "accept")
    assert res.returncode == 0 and "nothing to accept" in res.stderr


def test_deleting_the_policy_is_a_change(ready: Path) -> None:
    (ready / POLICY).unlink()
    res = read(ready, 1)
    assert res.returncode == 2 and b".tether/policy.toml was deleted" in res.stderr
    assert status_pins(ready) == {"policy": "missing", "settings": "ok", "changed_files": [POLICY]}


def test_accept_refuses_an_invalid_policy(ready: Path) -> None:
    (ready / POLICY).write_text("[rules\n")
    res = tether(ready, "policy", "accept", "--yes")
    assert res.returncode != 0 and "policy.toml" in res.stderr
    assert status_pins(ready)["policy"] == "changed"


@pytest.mark.parametrize("edit", ["remove-rule", "foreign-hook", "sandbox-off", "disable-hooks", "drop-hook"])
def test_an_edit_of_the_hook_settings_blocks(ready: Path, edit: str) -> None:
    path = ready / LOCAL
    data = json.loads(path.read_text())
    if edit == "remove-rule":
        data["permissions"]["deny"] = data["permissions"]["deny"][1:]
    elif edit == "foreign-hook":
        data["hooks"]["PreToolUse"].append({"matcher": "*", "hooks": [{"type": "command", "command": "true"}]})
    elif edit == "sandbox-off":
        data["sandbox"] = {"enabled": False}
    elif edit == "disable-hooks":
        data["disableAllHooks"] = True
    else:
        del data["hooks"]["PostToolUse"]
    path.write_text(json.dumps(data, indent=2))
    res = read(ready, 1)
    assert res.returncode == 2
    assert f"{LOCAL} was changed".encode() in res.stderr and b"`tether policy accept`" in res.stderr
    assert status_pins(ready) == {"policy": "ok", "settings": "changed", "changed_files": [LOCAL]}
    # The diff shows tether's part of the file.
    res = tether(ready, "policy", "accept", "--yes")
    assert res.returncode == 0 and f"accepted: {LOCAL}" in res.stdout
    assert read(ready, 2).returncode == 0


def test_a_new_shared_settings_file_with_a_hook_blocks(ready: Path) -> None:
    (ready / SHARED).write_text(json.dumps({"hooks": {"PreToolUse": [
        {"matcher": "*", "hooks": [{"type": "command", "command": "echo allow"}]}]}}))
    assert read(ready, 1).returncode == 2
    assert status_pins(ready)["changed_files"] == [SHARED]


def test_what_does_not_loosen_anything_is_not_a_change(ready: Path) -> None:
    path = ready / LOCAL
    data = json.loads(path.read_text())
    # Claude Code adds "allow" rules itself ("don't ask again"); other keys are not pinned.
    data.setdefault("permissions", {}).setdefault("allow", []).append("Bash(npm test:*)")
    data["model"] = "opus"
    path.write_text(json.dumps(data))
    (ready / SHARED).write_text(json.dumps({"outputStyle": "Explanatory"}))
    os.utime(ready / POLICY)  # touched, same content
    assert read(ready, 1).returncode == 0
    assert status_pins(ready) == {"policy": "ok", "settings": "ok", "changed_files": []}


def test_an_edit_that_restores_size_and_mtime_is_still_found(ready: Path) -> None:
    policy = ready / POLICY
    before = os.stat(policy)
    text = policy.read_text()
    changed = text.replace("version = 1", "version = 2")
    assert len(changed) == len(text)
    with open(policy, "r+") as fh:  # in place: same inode
        fh.write(changed)
    os.utime(policy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(policy).st_mtime_ns == before.st_mtime_ns
    assert read(ready, 1).returncode == 2


def test_unchanged_files_are_not_read(ready: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read_paths: list[str] = []
    real = pins._read

    def spy(path: str) -> bytes | None:
        read_paths.append(path)
        return real(path)

    monkeypatch.setattr(pins, "_read", spy)
    store = store_dir(str(ready))
    assert pins.guard(str(ready), store) is None
    assert read_paths == [os.path.join(store, pins.PINS_NAME)]


def _forget_pins(repo: Path) -> None:
    """Make the store look as one made before pins existed."""
    os.unlink(os.path.join(store_dir(str(repo)), pins.PINS_NAME))
    st = Store.open(str(repo))
    try:
        with st.transaction() as db:
            db.execute("DELETE FROM meta WHERE key = ?", (pins.ACCEPTED_KEY,))
    finally:
        st.close()


def test_a_store_from_before_pins_is_pinned_on_first_use(ready: Path) -> None:
    _forget_pins(ready)
    assert status_pins(ready) == {"policy": "unpinned", "settings": "unpinned", "changed_files": []}
    assert read(ready, 1).returncode == 0
    assert status_pins(ready) == {"policy": "ok", "settings": "ok", "changed_files": []}
    (ready / POLICY).write_text("version = 1\n")
    assert read(ready, 2).returncode == 2


def test_pins_that_vanish_after_pinning_block(ready: Path) -> None:
    os.unlink(os.path.join(store_dir(str(ready)), pins.PINS_NAME))
    res = read(ready, 1)
    assert res.returncode == 2 and b"pins of the accepted policy and hook settings are gone" in res.stderr
    assert tether(ready, "policy", "accept", "--yes").returncode == 0
    assert read(ready, 2).returncode == 0


def test_a_corrupt_pins_file_fails_closed(ready: Path) -> None:
    Path(store_dir(str(ready)), pins.PINS_NAME).write_text("{not json")
    res = read(ready, 1)
    assert res.returncode == 2 and b"the guard could not decide" in res.stderr


def test_hooks_that_vanish_are_reported_at_stop_and_session_end(ready: Path) -> None:
    path = ready / LOCAL
    data = json.loads(path.read_text())
    del data["hooks"]["PreToolUse"]
    del data["hooks"]["PostToolUse"]
    path.write_text(json.dumps(data))
    for event in ("Stop", "SessionEnd"):
        res = hook(ready, event)
        assert res.returncode == 0 and res.stdout == b""
    found = [e for e in errors(ready) if e.startswith("tamper evidence:")]
    vanished = [e for e in found if "hooks for PostToolUse, PreToolUse vanished" in e]
    assert len(vanished) == 2
    assert any(f"{LOCAL} was changed" in e for e in found)
    res = tether(ready, "status")
    assert "vanished" in res.stdout and "tether policy accept" in res.stdout


def test_init_again_and_uninstall_repin(ready: Path) -> None:
    path = ready / LOCAL
    data = json.loads(path.read_text())
    del data["hooks"]["Stop"]
    path.write_text(json.dumps(data))
    assert status_pins(ready)["settings"] == "changed"
    # A person puts the hooks back with init, which pins what it leaves.
    setup.init(str(ready))
    assert status_pins(ready) == {"policy": "ok", "settings": "ok", "changed_files": []}
    setup.uninstall(str(ready))
    assert status_pins(ready) == {"policy": "ok", "settings": "ok", "changed_files": []}


def test_accept_pins_only_what_it_showed(ready: Path) -> None:
    (ready / POLICY).write_text("version = 1\n")
    st = Store.open(str(ready))
    try:
        found, diff, shown = pins.pending(st)
        assert found == {POLICY: "changed"} and "-# The guard policy" in diff
        (ready / POLICY).write_text("version = 1\n# and more\n")
        with pytest.raises(Exception, match="changed again"):
            pins.accept(st, shown)
    finally:
        st.close()
    assert status_pins(ready)["policy"] == "changed"


def test_the_agent_cannot_accept() -> None:
    res = subprocess.run([sys.executable, "-m", "tether", "check", "command", "tether policy accept --yes",
                          "--json"], capture_output=True, text=True, timeout=60)
    assert json.loads(res.stdout)["decision"] == "deny"
