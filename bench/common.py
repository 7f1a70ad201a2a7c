"""Shared pieces of the benchmarks: timing, generated workspaces, and the peers to compare with.

Every figure is a median over repeated runs on this machine, reported beside a
peer measured in the same run. Nothing here is asserted: benchmarks report.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("TETHER_BENCH_CACHE", REPO / ".cache" / "bench"))
PEERS_VENV = CACHE / "peers-venv"
PEERS_NPM = CACHE / "peers-npm"
# The peers, pinned so that a later run measures the same thing.
STEPBACK = "stepback==0.2.0"
CC_SAFETY_NET = "cc-safety-net@2.4.5"


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def timed(fn: Callable[[], Any], runs: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env=env).stdout


def make_workspace(root: Path, files: int, seed: int = 1) -> Path:
    """A git repository of ``files`` small source files in nested folders, committed."""
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(seed)
    per_dir = 50
    for i in range(files):
        d = root / "src" / f"pkg{i // (per_dir * 20)}" / f"mod{(i // per_dir) % 20}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        lines = rng.randint(5, 60)
        (d / f"file{i % per_dir}.py").write_text(
            "".join(f"value_{n} = {rng.random()!r}  # line {n}\n" for n in range(lines)))
    (root / ".gitignore").write_text("node_modules/\n*.log\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "generated")
    return root


def workspace_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "src").rglob("*.py"))


def ensure_peers() -> dict[str, str]:
    """Install the peers (once) into the bench cache; returns their entry points."""
    CACHE.mkdir(parents=True, exist_ok=True)
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    if subprocess.run([str(python), "-c", "import stepback"], capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", STEPBACK],
                       check=True)
    return {"python": str(python)}


def ensure_cc_safety_net() -> list[str]:
    """The command that runs cc-safety-net as a Claude Code PreToolUse hook."""
    pkg = PEERS_NPM / "node_modules" / "cc-safety-net"
    if not pkg.exists():
        PEERS_NPM.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(PEERS_NPM),
                        CC_SAFETY_NET], check=True, capture_output=True)
    manifest = json.loads((pkg / "package.json").read_text())
    bins = manifest.get("bin")
    entry = bins if isinstance(bins, str) else next(iter(bins.values()))
    return ["node", str(pkg / entry)]


def dir_size(path: Path) -> tuple[int, int]:
    """(apparent bytes, bytes allocated on disk) of every file under a folder."""
    apparent = allocated = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return apparent, allocated
