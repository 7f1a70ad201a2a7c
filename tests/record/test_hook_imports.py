"""The hook's import budget per event: what a warm hook process loads for each event.

The hook is a new process for every tool call, so every module it imports is paid
on every call. Timings belong to the benchmarks; this test holds the shape that
makes the timings possible: no regular expressions, no typing, no subprocess, no
tree-sitter, no interpreter scanner and no CLI libraries on the common paths.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Never on any of the paths below.
FORBIDDEN = frozenset({"re", "typing", "subprocess", "json", "tomllib", "click", "rich",
                       "datetime", "tree_sitter", "tree_sitter_bash", "dataclasses", "inspect",
                       "contextlib", "tether.guard.walker", "tether.guard.source",
                       "tether.guard.commands.interp", "tether.history.operations", "tether.cli"})


def _imported(repo: Path, event: str, payload: dict[str, object]) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-P", "-c", "from tether.hook import cli; cli()",
         "claude", event],
        input=json.dumps(payload).encode(), cwd=repo, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    mods = set()
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                mods.add(name)
    return mods


@pytest.fixture
def hooked(repo: Path) -> Path:
    proc = subprocess.run([sys.executable, "-m", "tether", "init"], cwd=repo,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return repo


def _base(repo: Path, event: str) -> dict[str, object]:
    return {"session_id": "s-imports", "transcript_path": str(repo / "t.jsonl"), "cwd": str(repo),
            "hook_event_name": event}


CASES = [
    ("SessionStart", {"source": "startup"}, set()),
    ("UserPromptSubmit", {"prompt": "fix the button"}, set()),
    ("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "ls -la src"},
                    "tool_use_id": "t1"}, {"tether.guard.commands.files"}),
    ("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "git status"},
                    "tool_use_id": "t2"}, {"tether.guard.commands.git"}),
    ("PreToolUse", {"tool_name": "Edit", "tool_input": {"file_path": "src/app.py",
                                                         "old_string": "1", "new_string": "2"},
                    "tool_use_id": "t3"}, set()),
    ("PostToolUse", {"tool_name": "Edit", "tool_input": {"file_path": "src/app.py"},
                     "tool_response": {}, "tool_use_id": "t3"}, set()),
    ("Stop", {}, set()),
]


@pytest.mark.parametrize(("event", "extra", "needed"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_hook_imports_stay_within_budget(hooked: Path, event: str, extra: dict[str, object],
                                         needed: set[str]) -> None:
    payload = {**_base(hooked, event), **extra}
    _imported(hooked, event, payload)  # the first call fills the policy cache
    mods = _imported(hooked, event, payload)
    assert not (mods & FORBIDDEN), sorted(mods & FORBIDDEN)
    assert needed <= mods, "the budget test no longer sees the event's real path"
    handlers = {m for m in mods if m.startswith("tether.guard.commands.")}
    assert handlers <= needed, f"handlers loaded that the command does not use: {handlers - needed}"
