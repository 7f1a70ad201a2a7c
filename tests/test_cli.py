"""The `tether` command: set-up, the JSON contract, errors, help and docs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tests.support import Session
from tether.cli import cli
from tether.record.store import Store

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def run(repo: Path, *args: str, ok: bool = True) -> Any:
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        res = runner.invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)
    if ok:
        assert res.exit_code == 0, (res.output, res.stderr)
    return res


def run_json(repo: Path, *args: str) -> Any:
    return json.loads(run(repo, *args, "--json").stdout)


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, prefix + name + " "))
    return out


def test_every_command_has_help_and_is_documented() -> None:
    docs = DOCS.read_text()
    for name, cmd in all_commands(cli):
        assert cmd.help and cmd.help.strip(), f"`tether {name}` has no help text"
        assert f"tether {name}" in docs, f"`tether {name}` is missing from docs/cli.md"


def test_init_is_idempotent_and_keeps_the_users_settings(repo: Path) -> None:
    settings = repo / ".claude" / "settings.json"
    local = repo / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    user = {"model": "opus", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": "my-own-check"}]}]}, "permissions": {"deny": ["Read(**/.env)"]}}
    settings.write_text(json.dumps(user))
    mine = {"sandbox": {"enabled": False, "excludedCommands": ["docker"]}, "env": {"X": "1"}}
    local.write_text(json.dumps(mine))
    first = run_json(repo, "init")
    assert first["store_created"] and first["policy_created"] and first["settings_changed"] == {"claude": True}
    # The hooks hold this machine's interpreter: they go to the per-user file, and so do the
    # rules and the sandbox unless --shared. The shared file is left as the team wrote it.
    assert json.loads(settings.read_text()) == user
    text = local.read_text()
    again = run_json(repo, "init")
    assert again["settings_changed"] == {"claude": False} and local.read_text() == text
    data = json.loads(text)
    assert data["env"] == {"X": "1"}
    commands = [h["command"] for g in data["hooks"]["PreToolUse"] for h in g["hooks"]]
    assert sum("tether.hook" in c for c in commands) == 1
    for event in ("SessionStart", "UserPromptSubmit", "PostToolUse", "PostToolUseFailure", "Stop", "SessionEnd"):
        assert any(h["command"].endswith(f"claude {event}") and "tether.hook" in h["command"]
                   for g in data["hooks"][event] for h in g["hooks"])
    assert "Read(**/.env)" in data["permissions"]["deny"] and len(data["permissions"]["deny"]) > 5
    assert data["sandbox"]["enabled"] is True and data["sandbox"]["allowUnsandboxedCommands"] is False
    assert data["sandbox"]["excludedCommands"] == ["docker"]
    assert "pypi.org" in data["sandbox"]["network"]["allowedDomains"]
    assert "/.claude/settings.local.json" in (repo / ".git" / "info" / "exclude").read_text()
    status = run_json(repo, "status")
    assert status["initialized"] and status["agents"]["claude"]["installed"]
    assert status["containment"]["state"] in ("on", "unavailable") and status["containment"]["reason"]
    # Uninstall removes what init added and nothing the user had, from both files.
    run(repo, "uninstall")
    assert json.loads(settings.read_text()) == user
    assert json.loads(local.read_text()) == mine
    assert "tether" not in (repo / ".git" / "info" / "exclude").read_text()
    after = run_json(repo, "status")
    assert not after["agents"]["claude"]["installed"] and after["containment"]["state"] == "off"


def test_init_shared_puts_what_a_team_shares_in_settings_json(repo: Path) -> None:
    settings = repo / ".claude" / "settings.json"
    local = repo / ".claude" / "settings.local.json"
    run(repo, "init", "--shared")
    shared = json.loads(settings.read_text())
    per_user = json.loads(local.read_text())
    assert "tether.hook import cli; cli()" not in settings.read_text()
    assert shared["sandbox"]["enabled"] is True and "Edit(./.tether/**)" in shared["permissions"]["deny"]
    assert set(per_user) == {"hooks"}
    # A teammate without tether gets a message from the one shared hook, which never blocks.
    [notice] = [h for g in shared["hooks"]["SessionStart"] for h in g["hooks"]]
    teammate = subprocess.run(["sh", "-c", notice["command"]], env={**os.environ, "CLAUDE_PROJECT_DIR": str(repo / "elsewhere")},
                              capture_output=True, text=True)
    assert teammate.returncode == 0 and "pipx install tether" in teammate.stdout
    me = subprocess.run(["sh", "-c", notice["command"]], env={**os.environ, "CLAUDE_PROJECT_DIR": str(repo)},
                        capture_output=True, text=True)
    assert me.returncode == 0 and me.stdout == ""
    run(repo, "uninstall")
    assert not settings.exists() and not local.exists()


def test_init_without_the_sandbox_warns(repo: Path) -> None:
    res = run(repo, "init", "--no-sandbox")
    assert "sandbox is off" in res.stderr
    assert "sandbox" not in json.loads((repo / ".claude" / "settings.local.json").read_text())
    assert run_json(repo, "status")["containment"]["state"] == "off"


def test_init_refuses_a_broken_settings_file_and_creates_nothing(repo: Path) -> None:
    settings = repo / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": [oops')
    res = run(repo, "init", ok=False)
    assert res.exit_code != 0 and "not valid JSON" in res.stderr and res.stderr.count("\n") == 1
    assert settings.read_text() == '{"hooks": [oops'
    assert not (repo / ".tether").exists() and not (repo / ".git" / "tether").exists()


def test_commands_outside_a_set_up_workspace_say_what_to_do(repo: Path) -> None:
    for args in (["log"], ["show", "1"], ["blame", "README.md"], ["rewind", "1", "--yes"]):
        res = run(repo, *args, ok=False)
        assert res.exit_code != 0 and "tether init" in res.stderr, args


def test_the_json_contract(repo: Path) -> None:
    run(repo, "init")
    store = Store.open(str(repo))
    s = Session(store, "session-1")
    s.start()
    s.say("make a module")
    s.write("src/mod.py", "x = 1\n", "t1")
    s.bash("t2", lambda: (repo / "README.md").write_text("# changed\n"))
    s.stop()
    store.close()

    steps = run_json(repo, "log")
    required = {"id": str, "session": str, "agent": str, "origin": str, "prompt": str, "tool": str,
                "input": dict, "status": str, "files": list, "time": str}
    for step in steps:
        for key, kind in required.items():
            assert isinstance(step[key], kind), (key, step)
        assert "decision" in step
        assert step["origin"] in ("agent", "external") and step["status"] in ("ok", "error", "blocked")
    assert [f for st in steps for f in st["files"]] == [{"path": "src/mod.py", "change": "added"},
                                                        {"path": "README.md", "change": "modified"}]
    one = run_json(repo, "show", steps[1]["id"][:7])
    assert one["id"] == steps[1]["id"] and "+# changed" in one["diff"]
    assert run_json(repo, "show", str(steps[1]["seq"]))["id"] == steps[1]["id"]
    d = run_json(repo, "diff", "--session", "session-1")
    assert d["files"] == [{"path": "README.md", "change": "modified"}, {"path": "src/mod.py", "change": "added"}]
    lines = run_json(repo, "blame", "src/mod.py")
    assert lines == [{"line": 1, "text": "x = 1", "origin": "agent", "step": steps[0]["id"], "session": "session-1",
                      "prompt": steps[0]["prompt"], "seq": steps[0]["seq"], "tool": "Write",
                      "time": steps[0]["time"], "prompt_text": "make a module"}]
    assert run_json(repo, "check", "command", "git push --force origin main")["decision"] == "deny"
    dry = run_json(repo, "rewind", steps[0]["id"], "--dry-run")
    assert dry["files"] == [{"path": "README.md", "change": "modified"}, {"path": "src/mod.py", "change": "deleted"}]
    assert (repo / "src" / "mod.py").exists()


def test_bad_step_references_are_one_clear_line(repo: Path) -> None:
    run(repo, "init")
    for ref, message in (("99", "no step number 99"), ("abc", "too short"), ("zzzzzzzz", "not a step id"),
                         ("aaaaaaaa", "no step aaaaaaaa")):
        res = run(repo, "show", ref, ok=False)
        assert res.exit_code != 0 and message in res.stderr and res.stderr.count("\n") == 1, (ref, res.stderr)


@pytest.mark.parametrize("args", [["rewind", "1"], ["restore", "a.txt", "--at", "1", "--before"]])
def test_operations_refuse_without_yes_when_nobody_can_be_asked(repo: Path, args: list[str]) -> None:
    run(repo, "init")
    store = Store.open(str(repo))
    s = Session(store, "s")
    s.start()
    s.say("x")
    s.write("a.txt", "a\n", "t1")
    store.close()
    res = run(repo, *args, ok=False)
    assert res.exit_code != 0 and "without --yes" in res.stderr
    assert (repo / "a.txt").exists()
    assert run_json(repo, "ops") == []
    res = run(repo, *args, "--yes")
    assert not (repo / "a.txt").exists()


@pytest.mark.parametrize("args", [["log"], ["sessions"], ["status"], ["ops"]])
def test_human_output_works_when_empty(repo: Path, args: list[str]) -> None:
    run(repo, "init")
    run(repo, *args)


@pytest.mark.parametrize("settings", ['{"hooks": []}', '{"permissions": {"deny": "all"}}', "[1]"])
@pytest.mark.parametrize("name,args", [("settings.local.json", []), ("settings.json", ["--shared"])])
def test_init_refuses_settings_of_the_wrong_shape_and_creates_nothing(repo: Path, settings: str, name: str,
                                                                      args: list[str]) -> None:
    path = repo / ".claude" / name
    path.parent.mkdir()
    path.write_text(settings)
    res = run(repo, "init", *args, ok=False)
    assert res.exit_code != 0 and res.stderr.count("\n") == 1
    assert path.read_text() == settings
    assert not (repo / ".tether").exists() and not (repo / ".git" / "tether").exists()


def test_a_required_sandbox_that_is_not_on_denies_bash(repo: Path) -> None:
    from tether import sandbox

    (repo / ".tether").mkdir()
    (repo / ".tether" / "policy.toml").write_text('version = 1\n[sandbox]\nmode = "required"\n')
    res = run(repo, "init", "--no-sandbox")
    assert "requires the sandbox" in " ".join(res.stderr.split())
    ls = ["check", "tool", "Bash", "--input", '{"command": "ls"}']
    denied = run_json(repo, *ls)
    assert denied["decision"] == "deny" and denied["rules"] == ["sandbox.required"]
    assert "off" in denied["reasons"][0]
    assert run_json(repo, "check", "tool", "Read", "--input", '{"file_path": "README.md"}')["decision"] == "allow"
    run(repo, "init")
    local = json.loads((repo / ".claude" / "settings.local.json").read_text())
    assert local["sandbox"]["failIfUnavailable"] is True
    expected = "allow" if sandbox.unavailable_reason() is None else "deny"
    assert run_json(repo, *ls)["decision"] == expected
    # A call that asks to leave the sandbox is asked about in any mode.
    escape = run_json(repo, "check", "tool", "Bash", "--input", '{"command": "ls", "dangerouslyDisableSandbox": true}')
    assert escape["decision"] in ("ask", "deny") and "sandbox.escape" in escape["rules"]


def test_the_sandbox_mode_is_validated(repo: Path) -> None:
    (repo / ".tether").mkdir()
    (repo / ".tether" / "policy.toml").write_text('version = 1\n[sandbox]\nmode = "sometimes"\n')
    res = run(repo, "policy", "validate", ok=False)
    assert res.exit_code != 0 and "sandbox.mode" in res.stderr and "'required'" in res.stderr
