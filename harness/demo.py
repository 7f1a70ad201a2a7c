"""`make demo`: a real Claude Code session, guarded and recorded by tether.

The model is a script served on 127.0.0.1 (nothing leaves the machine); the
agent, its hooks, the guard, the recorder and the files are all real. The
project is left in .cache/demo/project to explore afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.claude import ClaudeRun, ensure_claude, run_claude
from harness.scripted_model import ScriptedModel, ToolCall

REPO = Path(__file__).resolve().parents[1]
DEMO = Path(os.environ.get("TETHER_DEMO_DIR", REPO / ".cache" / "demo"))

PROMPT_1 = "Add a greeting module, mention it in the README, and check it runs"
PROMPT_2 = "Rename greet to hello, and tidy up the repository"


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def tether(repo: Path, *args: str) -> None:
    print(f"$ tether {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "tether", *args], cwd=repo, check=True)


def make_project(root: Path) -> Path:
    if root.exists():
        shutil.rmtree(root)
    repo = root / "project"
    (repo / "src").mkdir(parents=True)
    (root / "home").mkdir()
    (repo / "README.md").write_text("# Greeter\n\nA tiny project.\n")
    (repo / "src" / "app.py").write_text("from src import greet\n\nprint('ready')\n")
    (repo / ".env").write_text("API_TOKEN=not-for-the-agent\n")
    (repo / ".gitignore").write_text(".env\n__pycache__/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Demo", "-c", "user.email=demo@example.invalid", "commit", "-qm", "initial")
    return repo


def show_denials(run: ClaudeRun) -> None:
    for block in run.tool_results():
        if block.get("is_error"):
            content = block.get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            print(f"  the model was told: {text.strip()}")


def main() -> int:
    say("Installing the pinned Claude Code CLI (npm)")
    claude = ensure_claude()
    print(f"  {claude}")
    repo = make_project(DEMO)
    home = DEMO / "home"
    say(f"A small project in {repo}")
    tether(repo, "init")

    def path(rel: str) -> str:
        return str(repo / rel)

    script = {
        PROMPT_1: [
            ToolCall("Write", {"file_path": path("src/greet.py"),
                               "content": "def greet(name):\n    return f'Hello, {name}!'\n"}),
            ToolCall("Edit", {"file_path": path("README.md"), "old_string": "A tiny project.",
                              "new_string": "A tiny project. See src/greet.py."}),
            ToolCall("Bash", {"command": "python3 -c \"from src.greet import greet; print(greet('demo'))\"",
                              "description": "check the module runs"}),
            ToolCall("Read", {"file_path": path(".env")}),
            ToolCall("Bash", {"command": "git push --force origin main", "description": "publish"}),
        ],
        PROMPT_2: [
            ToolCall("Edit", {"file_path": path("src/greet.py"), "old_string": "def greet(",
                              "new_string": "def hello("}),
            ToolCall("Bash", {"command": "echo 'print(1)' > scratch.py && rm -rf ~/.cache",
                              "description": "tidy up"}),
            ToolCall("Write", {"file_path": path(".claude/settings.local.json"), "content": "{}\n"}),
        ],
    }
    with ScriptedModel(script) as model:
        say(f"Claude Code, prompt 1: {PROMPT_1!r}")
        first = run_claude(PROMPT_1, cwd=repo, home=home, base_url=model.url, timeout=180)
        first.check()
        show_denials(first)
        say("A person edits the README between prompts")
        with open(repo / "README.md", "a") as fh:
            fh.write("\nMaintained by the demo.\n")
        say(f"Claude Code, prompt 2 (--resume): {PROMPT_2!r}")
        second = run_claude(PROMPT_2, cwd=repo, home=home, base_url=model.url, resume=first.session_id,
                            timeout=180)
        second.check()
        show_denials(second)

    say("What was recorded")
    tether(repo, "log")
    say("Which step wrote each line")
    tether(repo, "blame", "src/greet.py")
    tether(repo, "blame", "README.md")
    say("Take back only the Edit of prompt 2, then undo that")
    steps = json.loads(subprocess.run([sys.executable, "-m", "tether", "log", "--json"], cwd=repo,
                                      capture_output=True, text=True, check=True).stdout)
    rename = next(s for s in steps if s["tool"] == "Edit" and s["prompt_text"] == PROMPT_2)
    tether(repo, "revert", str(rename["seq"]), "--yes")
    print((repo / "src" / "greet.py").read_text(), end="")
    tether(repo, "undo", "--yes")
    print((repo / "src" / "greet.py").read_text(), end="")
    tether(repo, "ops")
    say(f"Done. Explore it: cd {repo} && {Path(sys.executable).parent / 'tether'} log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
