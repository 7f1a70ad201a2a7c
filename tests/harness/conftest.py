"""Fixtures for driving the real Claude Code CLI against the scripted model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# e2e_support also puts the repository root on sys.path, so it must come before harness.
from e2e_support import Workspace, git, make_workspace


@pytest.fixture
def workspace(tmp_path: Path, claude_bin: str) -> Workspace:
    return make_workspace(tmp_path)


@pytest.fixture
def git_cmd() -> Callable[..., str]:
    """``git_cmd(repo, *args) -> stdout``, with a fixed identity and no global config."""
    return git
