"""Parallel sessions through the daemon, killed (SIGKILL) and restarted in the middle.

The driver and the checks are bench/bench_daemon.py's (which runs 8 sessions x 1,000
calls); here 8 sessions x a few calls, so that CI stays fast.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.bench_daemon import load


def test_eight_sessions_through_a_killed_daemon_lose_and_double_nothing(repo: Path) -> None:
    subprocess.run([sys.executable, "-m", "tether", "init"], cwd=repo, check=True, capture_output=True)
    try:
        result = load(repo, sessions=8, calls=6)
    finally:
        subprocess.run([sys.executable, "-m", "tether", "serve", "--stop"], capture_output=True)
    assert result["problems"] == []
    assert result["killed_after"] is not None and 0 < result["killed_after"] < result["hooks"]
