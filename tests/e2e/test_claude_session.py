"""The real Claude Code CLI, guarded and recorded by tether, against the scripted model.

One session of two prompts (the second through --resume): Write, Edit, shell
commands that change files, a failing command, a read, and a person's edit
between the prompts. The recorded log must be exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.claude import ClaudeRun, run_claude
from harness.scripted_model import ScriptedModel, ToolCall
from tests.harness.e2e_support import git
from tether.daemon import client

pytestmark = pytest.mark.e2e




def tether(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([sys.executable, "-m", "tether", *args], cwd=repo, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise AssertionError(f"tether {' '.join(args)} failed ({res.returncode}): {res.stderr}")
    return res


def tether_json(repo: Path, *args: str) -> Any:
    return json.loads(tether(repo, *args, "--json").stdout)


class Project:
    def __init__(self, tmp: Path) -> None:
        self.repo = Path(os.path.realpath(tmp)) / "project"
        self.home = Path(os.path.realpath(tmp)) / "home"
        self.home.mkdir()
        self.repo.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        (self.repo / "README.md").write_text("# Greeter\n\nSays hello.\n")
        (self.repo / "src").mkdir()
        (self.repo / "src" / "app.py").write_text("VERSION = 1\n\n\ndef main():\n    return VERSION\n")
        (self.repo / ".gitignore").write_text("*.log\n")
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-qm", "initial")
        tether(self.repo, "init")

    def path(self, rel: str) -> str:
        return str(self.repo / rel)

    def run(self, model: ScriptedModel, prompt: str, resume: str | None = None) -> ClaudeRun:
        run = run_claude(prompt, cwd=self.repo, home=self.home, base_url=model.url, resume=resume,
                         allowed_tools=("Bash", "Write", "Edit", "Read"), timeout=180)
        assert run.returncode == 0, run.stderr
        return run


def events_of(repo: Path) -> list[str]:
    import sqlite3

    db = sqlite3.connect(repo / ".git" / "tether" / "tether.db")
    try:
        # Hook events only: tether's own writes (init's) are journaled too, as "tether:..." events.
        return [name for (name,) in db.execute(
            "SELECT name FROM events WHERE name NOT LIKE 'tether:%' ORDER BY seq")]
    finally:
        db.close()


def brief(steps: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(s["origin"], s["tool"], s["status"], s["prompt_text"],
             [(f["path"], f["change"]) for f in s["files"]]) for s in steps]


P1 = "Add a greeting module and note it in the README"
P2 = "Rename greet to hello and clean up"


def serve(p: Project) -> int:
    """Start the daemon as the agent's hooks will reach it (their HOME is the run's)."""
    env = {**os.environ, "HOME": str(p.home)}
    res = subprocess.run([sys.executable, "-m", "tether", "serve", "--detach"], cwd=p.repo, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    found = client.counters()
    assert found is not None
    return found[0]


@pytest.mark.parametrize("via", ["in-process", "daemon"])
def test_a_session_is_recorded_exactly(tmp_path: Path, claude_bin: str, via: str) -> None:
    p = Project(tmp_path)
    if via == "daemon":
        serve(p)
    try:
        _a_session_is_recorded_exactly(p, via)
    finally:
        subprocess.run([sys.executable, "-m", "tether", "serve", "--stop"], capture_output=True, timeout=60)


def _a_session_is_recorded_exactly(p: Project, via: str) -> None:
    head = git(p.repo, "rev-parse", "HEAD")
    script = {
        P1: [
            ToolCall("Write", {"file_path": p.path("src/greet.py"),
                               "content": "def greet(name):\n    return f'Hello, {name}!'\n"}),
            ToolCall("Edit", {"file_path": p.path("README.md"), "old_string": "Says hello.",
                              "new_string": "Says hello, see src/greet.py."}),
            ToolCall("Bash", {"command": "echo 'release notes' > NOTES.txt && sed -i 's/VERSION = 1/VERSION = 2/' "
                                         "src/app.py && echo debug > run.log",
                              "description": "write notes and bump the version"}),
            ToolCall("Read", {"file_path": p.path("src/greet.py")}),
        ],
        P2: [
            ToolCall("Edit", {"file_path": p.path("src/greet.py"), "old_string": "def greet(",
                              "new_string": "def hello("}),
            ToolCall("Bash", {"command": "rm NOTES.txt", "description": "remove the notes"}),
            ToolCall("Bash", {"command": "python3 -c 'import sys; sys.exit(3)'", "description": "a failing check"}),
        ],
    }
    with ScriptedModel(script) as model:
        first = p.run(model, P1)
        session = first.session_id
        assert session
        # A person edits the README between the prompts.
        with open(p.repo / "README.md", "a") as fh:
            fh.write("\nMaintained by a person.\n")
        p.run(model, P2, resume=session)

    if via == "daemon":
        # Every hook event of both runs was answered by the daemon, none in-process.
        found = client.counters()
        assert found is not None and found[1] == len(events_of(p.repo)), (found, len(events_of(p.repo)))
    steps = tether_json(p.repo, "log")
    assert brief(steps) == [
        ("agent", "Write", "ok", P1, [("src/greet.py", "added")]),
        ("agent", "Edit", "ok", P1, [("README.md", "modified")]),
        ("agent", "Bash", "ok", P1, [("NOTES.txt", "added"), ("src/app.py", "modified")]),
        ("agent", "Read", "ok", P1, []),
        ("external", None, "ok", None, [("README.md", "modified")]),
        ("agent", "Edit", "ok", P2, [("src/greet.py", "modified")]),
        ("agent", "Bash", "ok", P2, [("NOTES.txt", "deleted")]),
        ("agent", "Bash", "error", P2, []),
    ]
    assert {s["session"] for s in steps} == {session}
    assert {s["agent"] for s in steps if s["origin"] == "agent"} == {"claude"}
    assert steps[4]["agent"] is None
    assert steps[7]["error"] == "Exit code 3"
    assert steps[2]["input"]["command"].startswith("echo 'release notes'")
    prompts = {s["prompt"] for s in steps if s["origin"] == "agent"}
    assert len(prompts) == 2 and None not in prompts
    assert all(s["time"].endswith("Z") for s in steps)

    # One step's diff, a prompt's diff, and the session list.
    edit = tether_json(p.repo, "show", steps[1]["id"][:8])
    assert "-Says hello.\n+Says hello, see src/greet.py.\n" in edit["diff"]
    p2_diff = tether_json(p.repo, "diff", "--prompt", steps[5]["prompt"])
    assert p2_diff["files"] == [{"path": "NOTES.txt", "change": "deleted"},
                                {"path": "src/greet.py", "change": "modified"}]
    assert "+def hello(name):" in p2_diff["diff"]
    external = tether_json(p.repo, "show", str(steps[4]["seq"]))
    assert "+Maintained by a person." in external["diff"]
    [row] = tether_json(p.repo, "sessions")
    assert row["id"] == session and row["prompts"] == 2 and row["steps"] == 7
    assert tether(p.repo, "verify").returncode == 0
    status = tether_json(p.repo, "status")
    assert status["errors"] == [] and status["agents"]["claude"]["installed"]
    # The shell commands above ran inside the agent's OS sandbox.
    assert status["containment"]["state"] == "on", status["containment"]

    # Recording never touched the user's git: same HEAD, nothing staged, no new refs.
    assert git(p.repo, "rev-parse", "HEAD") == head
    assert git(p.repo, "diff", "--cached", "--name-only") == ""
    assert git(p.repo, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]
    assert sorted(git(p.repo, "status", "--porcelain").splitlines()) == [
        " M README.md", " M src/app.py", "?? .tether/", "?? src/greet.py"]

    # History: blame of each changed file is exact.
    def blame(rel: str) -> list[tuple[str, str | None, str]]:
        return [(e["origin"], e.get("prompt_text") if e["origin"] == "agent" else None, e["text"])
                for e in tether_json(p.repo, "blame", rel)]

    assert blame("README.md") == [
        ("baseline", None, "# Greeter"),
        ("baseline", None, ""),
        ("agent", P1, "Says hello, see src/greet.py."),
        ("external", None, ""),
        ("external", None, "Maintained by a person."),
    ]
    assert blame("src/greet.py") == [("agent", P2, "def hello(name):"), ("agent", P1, "    return f'Hello, {name}!'")]
    assert blame("src/app.py") == [("agent", P1, "VERSION = 2"), ("baseline", None, ""), ("baseline", None, ""),
                                   ("baseline", None, "def main():"), ("baseline", None, "    return VERSION")]
    commit = tether_json(p.repo, "blame", "src/app.py")[1]["commit"]
    assert commit == head.strip()

    # A rewind to before the second prompt, then an undo, give the exact expected files.
    files = ("README.md", "src/greet.py", "src/app.py", "NOTES.txt")

    def snapshot() -> dict[str, str | None]:
        return {f: (p.repo / f).read_text() if (p.repo / f).exists() else None for f in files}

    after_session = snapshot()
    dry = tether_json(p.repo, "rewind", "--prompt", steps[5]["prompt"], "--dry-run")
    assert dry["files"] == [{"path": "NOTES.txt", "change": "added"}, {"path": "src/greet.py", "change": "modified"}]
    assert snapshot() == after_session
    refused = tether(p.repo, "rewind", "--prompt", steps[5]["prompt"], check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr and snapshot() == after_session
    tether(p.repo, "rewind", "--prompt", steps[5]["prompt"], "--yes")
    assert snapshot() == {
        "README.md": "# Greeter\n\nSays hello, see src/greet.py.\n\nMaintained by a person.\n",
        "src/greet.py": "def greet(name):\n    return f'Hello, {name}!'\n",
        "src/app.py": "VERSION = 2\n\n\ndef main():\n    return VERSION\n",
        "NOTES.txt": "release notes\n",
    }
    tether(p.repo, "undo", "--yes")
    assert snapshot() == after_session
    assert [o["kind"] for o in tether_json(p.repo, "ops")] == ["rewind", "undo"]
    assert tether(p.repo, "verify").returncode == 0


def test_the_guard_denies_and_the_agent_sees_why(tmp_path: Path, claude_bin: str) -> None:
    p = Project(tmp_path)
    (p.repo / ".env").write_text("API_TOKEN=do-not-read\n")
    settings_before = (p.repo / ".claude" / "settings.local.json").read_text()
    prompt = "Clean up the machine and check the configuration"
    script = {prompt: [
        ToolCall("Bash", {"command": "rm -rf ~", "description": "clean up"}),
        ToolCall("Read", {"file_path": p.path(".env")}),
        ToolCall("Write", {"file_path": p.path(".claude/settings.local.json"), "content": "{}\n"}),
        ToolCall("Bash", {"command": "git push --force origin main", "description": "publish"}),
        ToolCall("Bash", {"command": "ls src", "description": "look around"}),
    ]}
    with ScriptedModel(script) as model:
        run = p.run(model, prompt)
        errors = [r for r in model.main_requests[-1].tool_results() if r.get("is_error")]
    assert (p.repo / ".claude" / "settings.local.json").read_text() == settings_before
    assert (p.repo / "src" / "app.py").exists()
    all_steps = tether_json(p.repo, "log")
    # The .env written after `tether init` was found at session start: a person's change.
    assert [(s["origin"], s["files"]) for s in all_steps[:1]] == [("external", [{"path": ".env", "change": "added"}])]
    steps = all_steps[1:]
    assert [(s["tool"], s["status"], s["decision"]) for s in steps] == [
        ("Bash", "blocked", "deny"),
        ("Read", "blocked", "deny"),
        ("Write", "blocked", "deny"),
        ("Bash", "blocked", "deny"),
        ("Bash", "ok", "allow"),
    ]
    for step in steps[:4]:
        assert step["reasons"] and step["rules"] and step["files"] == []
    # The shell commands were denied by tether's hook; the .env read and the settings write by
    # the permission rules `tether init` wrote into the agent's settings (a second layer that
    # holds even without the hook), recorded from the transcript.
    assert [s["rules"] == ["agent.permissions"] for s in steps[:4]] == [False, True, True, False]
    # The model was told why, in the tool result of each blocked call, and so is the transcript.
    assert len(errors) == 4
    told = [json.dumps(e.get("content")).replace('\\"', '"') for e in errors]
    for step, text in zip(steps[:4], told, strict=True):
        if step["rules"] == ["agent.permissions"]:
            assert "denied by your permission settings" in text and "denied by your permission settings" in \
                step["reasons"][0]
        else:
            assert "tether: " + step["reasons"][0][:40] in text, (step["reasons"], text)
    transcript = run.transcript_path().read_text()
    for step in (steps[0], steps[3]):
        assert json.dumps(step["reasons"][0])[1:40] in transcript
    assert len(run.permission_denials) == 4
