"""History's costs: blame of a long-lived file and rewind of a large change.

- blame: a 5,000-line file after 1,000 recorded edits, in-process and as the
  `tether blame` command, beside `git blame` of the same file after the same
  1,000 edits as commits (the nearest tool people already use for the question).
- rewind: a shell step that changed 1,000 files of a 50,000-file workspace is
  rewound with `tether rewind --yes`, beside stepback rewinding the same change.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CACHE,
    ensure_peers,
    git,
    make_workspace,
    median_ms,
    p95_ms,
    workspace_files,
)


def _cli(root: Path, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tether", *args], cwd=root, check=True, capture_output=True)
    return time.perf_counter() - t


def bench_blame(lines: int, steps: int, runs: int) -> dict[str, Any]:
    from tether.history.blame import blame
    from tether.record.recorder import Recorder
    from tether.record.store import Store
    from tether.types import Event

    with tempfile.TemporaryDirectory(prefix="tether-bench-", dir=CACHE) as tmp:
        root = Path(tmp) / "blame"
        root.mkdir(parents=True)
        git(root, "init", "-q", "-b", "main")
        target = root / "big.py"
        content = [f"line_{i} = {i}\n" for i in range(lines)]
        target.write_text("".join(content))
        git(root, "add", "-A")
        git(root, "commit", "-qm", "base")
        subprocess.run([sys.executable, "-m", "tether", "init"], cwd=root, check=True, capture_output=True)
        store = Store.open(str(root))
        rec = Recorder(store)
        rng = random.Random(5)
        mirror = Path(tmp) / "mirror"
        mirror.mkdir()
        git(mirror, "init", "-q", "-b", "main")
        (mirror / "big.py").write_text("".join(content))
        git(mirror, "add", "-A")
        git(mirror, "commit", "-qm", "base")
        t_record = []
        for i in range(steps):
            n = rng.randrange(len(content))
            content[n] = f"line_{n} = {i}  # changed by step {i}\n"
            if i % 10 == 0:
                content.insert(rng.randrange(len(content)), f"added_{i} = True\n")
            ev: dict[str, Any] = {"name": "PreToolUse", "agent": "claude", "session_id": "b", "cwd": str(root),
                                  "root": str(root), "tool": "Edit", "tool_use_id": f"t{i}", "prompt_id": "p",
                                  "tool_input": {"file_path": str(target), "old_string": "x", "new_string": "y"}}
            rec.handle(Event(**ev))
            target.write_text("".join(content))
            ev["name"] = "PostToolUse"
            t = time.perf_counter()
            rec.handle(Event(**ev))
            t_record.append(time.perf_counter() - t)
            (mirror / "big.py").write_text("".join(content))
            git(mirror, "commit", "-qam", f"step {i}")
        # In-process, with the attribution already kept by recording (as the hook does).
        in_process = []
        for _ in range(runs):
            t = time.perf_counter()
            out = blame(store, str(target), str(root))
            in_process.append(time.perf_counter() - t)
        assert len(out) == len(content)
        store.close()
        command = [_cli(root, "blame", "--json", "big.py") for _ in range(runs)]
        git_blame = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(["git", "-C", str(mirror), "blame", "--porcelain", "big.py"], check=True,
                           capture_output=True)
            git_blame.append(time.perf_counter() - t)
        floor = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            floor.append(time.perf_counter() - t)
    return {
        "lines": len(content), "recorded steps": steps, "runs": runs,
        "blame, in-process": {"median_ms": median_ms(in_process), "p95_ms": p95_ms(in_process)},
        "tether blame --json (whole command)": {"median_ms": median_ms(command), "p95_ms": p95_ms(command)},
        "git blame of the same history as 1,000 commits": {"median_ms": median_ms(git_blame)},
        "python -c pass": {"median_ms": median_ms(floor)},
        "recording one Edit with attribution (in-process PostToolUse)": {"median_ms": median_ms(t_record)},
    }


_STEPBACK_REWIND = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from stepback.engine import Engine
    root = Path(sys.argv[1]); paths = json.loads(sys.argv[2])
    eng = Engine(root)
    before = eng.checkpoint("before")
    for rel in paths:
        with open(root / rel, "a") as fh:
            fh.write("# changed by a shell step\\n")
    eng.checkpoint("after")
    t = time.perf_counter()
    eng.rewind(before)
    elapsed = time.perf_counter() - t
    print(json.dumps(elapsed))
""")


def bench_rewind(files: int, changed: int, runs: int) -> dict[str, Any]:
    peers = ensure_peers()
    with tempfile.TemporaryDirectory(prefix="tether-bench-", dir=CACHE) as tmp:
        root = make_workspace(Path(tmp) / "large", files)
        subprocess.run([sys.executable, "-m", "tether", "init"], cwd=root, check=True, capture_output=True)
        paths = workspace_files(root)
        rng = random.Random(3)
        tether_times, undo_times, peer_times = [], [], []
        from bench.bench_recorder import Session, hook

        s = Session(root)
        hook(root, "SessionStart", {**s.base(), "source": "startup"})
        for run in range(runs):
            hook(root, "UserPromptSubmit", {**s.base(), "prompt": f"run {run}"})
            tid = s.tool_id()
            bash = {"command": "sed -i ... (1,000 files)"}
            hook(root, "PreToolUse", {**s.base(), "tool_name": "Bash", "tool_input": bash, "tool_use_id": tid})
            for p in rng.sample(paths, changed):
                with open(p, "a") as fh:
                    fh.write(f"# changed by a shell step {run}\n")
            hook(root, "PostToolUse", {**s.base(), "tool_name": "Bash", "tool_input": bash, "tool_use_id": tid,
                                        "tool_response": {"stdout": ""}})
            hook(root, "Stop", {**s.base()})
            log = json.loads(subprocess.run([sys.executable, "-m", "tether", "log", "--json", "--session",
                                             s.sid], cwd=root, check=True, capture_output=True,
                                            text=True).stdout)
            seq = next(st["seq"] for st in reversed(log) if st["tool"] == "Bash")
            tether_times.append(_cli(root, "rewind", str(seq), "--yes"))
            undo_times.append(_cli(root, "undo", "--yes"))
        peer_root = make_workspace(Path(tmp) / "peer", files)
        peer_paths = workspace_files(peer_root)
        for _ in range(runs):
            chosen = [str(p.relative_to(peer_root)) for p in rng.sample(peer_paths, changed)]
            out = subprocess.run([peers["python"], "-c", _STEPBACK_REWIND, str(peer_root), json.dumps(chosen)],
                                 check=True, capture_output=True, text=True).stdout
            peer_times.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "files": files, "changed": changed, "runs": runs,
        "tether rewind --yes (whole command)": {"median_ms": median_ms(tether_times), "p95_ms": p95_ms(tether_times)},
        "tether undo --yes (whole command)": {"median_ms": median_ms(undo_times)},
        "stepback rewind (in-process)": {"median_ms": median_ms(peer_times), "p95_ms": p95_ms(peer_times)},
    }


def main(quick: bool = False) -> dict[str, Any]:
    CACHE.mkdir(parents=True, exist_ok=True)
    return {
        "blame": bench_blame(5_000, 100 if quick else 1_000, 5 if quick else 15),
        "rewind": bench_rewind(5_000 if quick else 50_000, 100 if quick else 1_000, 2 if quick else 5),
    }


if __name__ == "__main__":
    print(json.dumps(main("--quick" in sys.argv), indent=2))
