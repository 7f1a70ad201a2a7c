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

from harness.claude import ClaudeInstallError, ClaudeRun, ensure_claude, run_claude
from harness.scripted_model import ScriptedModel, ToolCall

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def claude_bin() -> str:
    try:
        return ensure_claude()
    except ClaudeInstallError as exc:
        pytest.fail(str(exc), pytrace=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


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


def brief(steps: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(s["origin"], s["tool"], s["status"], s["prompt_text"],
             [(f["path"], f["change"]) for f in s["files"]]) for s in steps]


P1 = "Add a greeting module and note it in the README"
P2 = "Rename greet to hello and clean up"


def test_a_session_is_recorded_exactly(tmp_path: Path, claude_bin: str) -> None:
    p = Project(tmp_path)
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

    # Recording never touched the user's git: same HEAD, nothing staged, no new refs.
    assert git(p.repo, "rev-parse", "HEAD") == head
    assert git(p.repo, "diff", "--cached", "--name-only") == ""
    assert git(p.repo, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]
    assert sorted(git(p.repo, "status", "--porcelain").splitlines()) == [
        " M README.md", " M src/app.py", "?? .claude/", "?? .tether/", "?? src/greet.py"]
