"""Helpers for the end-to-end tests: a temporary git workspace with hook settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The harness package lives at the repository root but is not installed (only tether is), and
# pytest's default import mode puts only this folder on sys.path.
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness.claude import ClaudeRun, run_claude  # noqa: E402
from harness.scripted_model import ScriptedModel  # noqa: E402

# Generous: a cold CLI start on a loaded 2-core machine can take several seconds per run.
RUN_TIMEOUT = 120.0

# Appends each hook payload (one JSON line) to the log named by its first argument. Python and
# flock rather than `cat >>`: payloads can be large and hooks of one call may run concurrently.
RECORDER = """\
import fcntl, json, sys
payload = json.load(sys.stdin)
with open(sys.argv[1], "a", encoding="utf-8") as log:
    fcntl.flock(log, fcntl.LOCK_EX)
    log.write(json.dumps(payload) + "\\n")
"""

ALL_EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "PostToolUseFailure",
    "Stop",
    "SessionEnd",
)
TOOL_EVENTS = frozenset({"PreToolUse", "PermissionRequest", "PostToolUse", "PostToolUseFailure"})


@dataclass
class Workspace:
    """A temporary git repository for the agent to work in, with a private HOME."""

    repo: Path
    home: Path
    hooks_log: Path
    hooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def script(self, name: str, body: str) -> Path:
        """An executable /bin/sh script under .claude/hooks/ (stdin is the hook payload)."""
        path = self.repo / ".claude" / "hooks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
        path.chmod(0o755)
        return path

    def add_hook(
        self, event: str, command: str, *, matcher: str | None = None, timeout: int | None = None
    ) -> None:
        """Add a command hook and rewrite .claude/settings.json."""
        hook: dict[str, Any] = {"type": "command", "command": command}
        if timeout is not None:
            hook["timeout"] = timeout
        entry: dict[str, Any] = {"hooks": [hook]}
        if matcher is not None or event in TOOL_EVENTS:
            entry["matcher"] = matcher or "*"
        self.hooks.setdefault(event, []).append(entry)
        settings = self.repo / ".claude" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps({"hooks": self.hooks}, indent=2), encoding="utf-8")

    def record_hooks(self, events: Sequence[str] = ALL_EVENTS) -> None:
        """Log every payload of these events to ``hooks_log`` (see ``payloads``)."""
        recorder = self.repo / ".claude" / "hooks" / "record.py"
        recorder.parent.mkdir(parents=True, exist_ok=True)
        recorder.write_text(RECORDER, encoding="utf-8")
        for event in events:
            self.add_hook(event, f"{sys.executable} {recorder} {self.hooks_log}")

    def payloads(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.hooks_log.exists():
            return []
        lines = self.hooks_log.read_text(encoding="utf-8").splitlines()
        found = [json.loads(line) for line in lines if line.strip()]
        return [p for p in found if event is None or p.get("hook_event_name") == event]

    def run(
        self,
        model: ScriptedModel,
        prompt: str,
        *,
        resume: str | None = None,
        allowed_tools: Sequence[str] = ("Bash", "Write", "Edit", "Read"),
        env: Mapping[str, str] | None = None,
    ) -> ClaudeRun:
        return run_claude(
            prompt,
            cwd=self.repo,
            home=self.home,
            base_url=model.url,
            resume=resume,
            allowed_tools=allowed_tools,
            env=env,
            timeout=RUN_TIMEOUT,
        )


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "Tether Test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Tether Test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull,
        },
    )
    return done.stdout


def make_workspace(root: Path) -> Workspace:
    """A git repository with one commit under ``root``, a HOME and a hooks log beside it."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# scratch project\n", encoding="utf-8")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "initial")
    return Workspace(repo=repo, home=root / "home", hooks_log=root / "hooks.jsonl")
