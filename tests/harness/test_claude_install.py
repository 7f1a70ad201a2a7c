"""ensure_claude's failure paths (fast: a fake npm, no download)."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import REPO_ROOT

from harness.claude import ClaudeInstallError, ensure_claude


def test_missing_npm_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_CLAUDE_DIR", str(tmp_path / "cc"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ClaudeInstallError) as caught:
        ensure_claude()
    message = str(caught.value)
    assert message.startswith("npm not found on PATH") and "\n" not in message


def test_failed_npm_ci_reports_its_last_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(
        "#!/bin/sh\necho 'npm warn noise' >&2\necho 'npm error 404 Not Found' >&2\nexit 1\n"
    )
    npm.chmod(0o755)
    folder = tmp_path / "cc"
    monkeypatch.setenv("TETHER_CLAUDE_DIR", str(folder))
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ClaudeInstallError) as caught:
        ensure_claude()
    message = str(caught.value)
    assert message.endswith("failed: npm error 404 Not Found") and "\n" not in message
    # npm ci ran in the cache folder with the pinned manifest and lockfile.
    assert (folder / "package-lock.json").read_bytes() == (
        REPO_ROOT / "harness" / "package-lock.json"
    ).read_bytes()
    assert (folder / ".gitignore").read_text() == "*\n"
