"""A guarded workspace for the guard's tests.

The repository's conftest gives every test an isolated HOME under the temporary
folder. The guard treats temporary folders as scratch space, so each test here
gets its own scratch folder as the only temporary zone: paths in the home
folder then count as outside the workspace, as they do on a real machine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tether.guard.engine import Guard, GuardContext
from tether.guard.state import GuardState
from tether.types import Decision


class Workspace:
    def __init__(self, root: Path, home: Path, scratch: Path, store: Path) -> None:
        self.root = root
        self.home = home
        self.scratch = scratch
        self.store = store
        self.guard = self.load()

    def load(self) -> Guard:
        guard = Guard.load(str(self.root), store=str(self.store), use_cache=False)
        guard.policy.temp_zones = [str(self.scratch)]
        return guard

    def ctx(self, cwd: str | Path | None = None, state: GuardState | None = None,
            **kw: str) -> GuardContext:
        return GuardContext(root=self.guard.root, cwd=str(cwd or self.root),
                            state=state or GuardState(), **kw)  # type: ignore[arg-type]

    def command(self, command: str, cwd: str | Path | None = None,
                state: GuardState | None = None) -> Decision:
        return self.guard.check_command(command, self.ctx(cwd, state))

    def tool(self, name: str, tool_input: dict[str, object], state: GuardState | None = None,
             **kw: str) -> Decision:
        return self.guard.check_tool(name, tool_input, self.ctx(state=state, **kw))

    def write(self, rel: str, text: str = "") -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "project"
    root.mkdir()
    # A real repository: the guard asks git itself for remotes and aliases.
    subprocess.run(["git", "init", "-q", "-b", "feature-x", str(root)], check=True)
    (root / ".git" / "refs" / "heads" / "feature-x").write_text("0" * 40 + "\n")
    (root / "src").mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    store = root / ".git" / "tether"
    return Workspace(Path(os.path.realpath(root)), Path(os.environ["HOME"]), scratch, store)
