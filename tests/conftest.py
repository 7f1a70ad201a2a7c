"""Fixtures shared by every test: an isolated home, and real git workspaces."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.record.recorder import Recorder
from tether.record.store import Store


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test touches the real home folder, data folder or the developer's git config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # The daemon's socket: each test has its own, so no test reaches another's daemon.
    run = home / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Person")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "person@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Person")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "person@example.invalid")
    for key in ("TETHER_STORE", "TETHER_RUNTIME_DIR", "TETHER_DAEMON", "CLAUDE_PROJECT_DIR", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(key, raising=False)
    yield


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def store(repo: Path) -> Iterator[Store]:
    """The store of ``repo``, set up with a baseline, as `tether init` leaves it."""
    st = Store.open(str(repo), create=True)
    Recorder(st).baseline("test")
    yield st
    st.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a commit, a .gitignore and a few files."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    (root / "README.md").write_text("# demo\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("def main():\n    return 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return Path(os.path.realpath(root))


@pytest.fixture(scope="session")
def claude_bin() -> str:
    """The pinned Claude Code CLI from npm, installed on first use (the end-to-end tests)."""
    from harness.claude import ClaudeInstallError, ensure_claude

    try:
        return ensure_claude()
    except ClaudeInstallError as exc:
        # Fail, not skip: these tests are the evidence that tether works with the real agent.
        pytest.fail(str(exc), pytrace=False)
