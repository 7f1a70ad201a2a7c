"""The recorder's costs: whole-process hook time per event, recording a step on a large
workspace, and store growth over many steps, each beside stepback doing the same job.

Run with ``make bench`` (or ``python -m bench recorder``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from pathlib import Path
from typing import Any

from bench.common import (
    CACHE,
    dir_size,
    ensure_cc_safety_net,
    ensure_peers,
    make_workspace,
    median_ms,
    p95_ms,
    workspace_files,
)


def _hook_argv(event: str) -> list[str]:
    """The hook exactly as `tether init` installs it, run through a shell as Claude Code does."""
    from tether.agents import claude

    return ["sh", "-c", claude.hook_command(event)]


def hook(root: Path, event: str, payload: dict[str, Any]) -> float:
    data = json.dumps({"hook_event_name": event, "cwd": str(root), **payload}).encode()
    t = time.perf_counter()
    res = subprocess.run(_hook_argv(event), input=data, cwd=root, capture_output=True)
    elapsed = time.perf_counter() - t
    if res.returncode != 0:
        raise RuntimeError(f"hook {event} failed: {res.stderr.decode()}")
    return elapsed


def init(root: Path) -> None:
    subprocess.run([sys.executable, "-m", "tether", "init"], cwd=root, check=True, capture_output=True)


class Session:
    def __init__(self, root: Path, sid: str = "bench-session") -> None:
        self.root = root
        self.sid = sid
        self.n = 0

    def base(self) -> dict[str, Any]:
        return {"session_id": self.sid, "prompt_id": "bench-prompt", "transcript_path": "/dev/null",
                "permission_mode": "default"}

    def tool_id(self) -> str:
        self.n += 1
        return f"toolu_bench_{self.n:06d}"


def _floor(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        out.append(time.perf_counter() - t)
    return out


def bench_hook_events(runs: int) -> dict[str, Any]:
    """Whole-process cost of each hook event on a small repository (200 files)."""
    with tempfile.TemporaryDirectory(prefix="tether-bench-") as tmp:
        root = make_workspace(Path(tmp) / "small", 200)
        init(root)
        s = Session(root)
        hook(root, "SessionStart", {**s.base(), "source": "startup"})
        target = workspace_files(root)[0]
        results: dict[str, list[float]] = {k: [] for k in (
            "UserPromptSubmit", "PreToolUse Edit", "PostToolUse Edit", "PreToolUse Bash", "PostToolUse Bash",
            "PreToolUse Bash (a command that needs the parser)", "PostToolUse Read", "Stop",
            "cc-safety-net hook, PreToolUse Bash", "cc-safety-net hook, the command that needs the parser")}
        peer = [*ensure_cc_safety_net(), "--claude-code"]
        complex_cmd = "for f in $(git ls-files '*.py'); do grep -q TODO \"$f\" && echo \"$f\"; done"
        for i in range(runs):
            results["UserPromptSubmit"].append(hook(root, "UserPromptSubmit", {**s.base(), "prompt": f"step {i}"}))
            tid = s.tool_id()
            edit = {"file_path": str(target), "old_string": "a", "new_string": "b"}
            results["PreToolUse Edit"].append(hook(root, "PreToolUse", {**s.base(), "tool_name": "Edit",
                                                                         "tool_input": edit, "tool_use_id": tid}))
            with open(target, "a") as fh:
                fh.write(f"# edit {i}\n")
            results["PostToolUse Edit"].append(hook(root, "PostToolUse", {
                **s.base(), "tool_name": "Edit", "tool_input": edit, "tool_use_id": tid,
                "tool_response": {"filePath": str(target)}}))
            tid = s.tool_id()
            bash = {"command": "pytest -q tests/", "description": "run the tests"}
            results["PreToolUse Bash"].append(hook(root, "PreToolUse", {**s.base(), "tool_name": "Bash",
                                                                         "tool_input": bash, "tool_use_id": tid}))
            results["PostToolUse Bash"].append(hook(root, "PostToolUse", {
                **s.base(), "tool_name": "Bash", "tool_input": bash, "tool_use_id": tid,
                "tool_response": {"stdout": "12 passed", "stderr": ""}}))
            for label, command in (("cc-safety-net hook, PreToolUse Bash", bash["command"]),
                                   ("cc-safety-net hook, the command that needs the parser", complex_cmd)):
                payload = json.dumps({**s.base(), "hook_event_name": "PreToolUse", "tool_name": "Bash",
                                      "cwd": str(root), "tool_input": {"command": command},
                                      "tool_use_id": "peer"}).encode()
                t = time.perf_counter()
                subprocess.run(peer, input=payload, cwd=root, capture_output=True, check=True)
                results[label].append(time.perf_counter() - t)
            tid = s.tool_id()
            results["PreToolUse Bash (a command that needs the parser)"].append(hook(root, "PreToolUse", {
                **s.base(), "tool_name": "Bash", "tool_input": {"command": complex_cmd}, "tool_use_id": tid}))
            hook(root, "PostToolUse", {**s.base(), "tool_name": "Bash", "tool_input": {"command": complex_cmd},
                                       "tool_use_id": tid, "tool_response": {"stdout": ""}})
            tid = s.tool_id()
            results["PostToolUse Read"].append(hook(root, "PostToolUse", {
                **s.base(), "tool_name": "Read", "tool_input": {"file_path": str(target)}, "tool_use_id": tid,
                "tool_response": {"file": {"content": "x" * 2000}}}))
            results["Stop"].append(hook(root, "Stop", {**s.base(), "stop_hook_active": False}))
        floor = _floor(runs)
    return {"runs": runs, "python -c pass": {"median_ms": median_ms(floor)},
            **{k: {"median_ms": median_ms(v), "p95_ms": p95_ms(v)} for k, v in results.items()}}


_STEPBACK_CHECKPOINT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from stepback.engine import Engine
    root = Path(sys.argv[1]); edits = json.loads(sys.argv[2])
    eng = Engine(root)
    eng.checkpoint("baseline")
    times = []
    for rel, kind in edits:
        p = root / rel
        if kind == "append":
            with open(p, "a") as fh:
                fh.write("# stepback edit\\n")
        t = time.perf_counter()
        eng.checkpoint()
        times.append(time.perf_counter() - t)
    print(json.dumps(times))
""")


def bench_large_workspace(files: int, runs: int) -> dict[str, Any]:
    """Recording one Edit step and one Bash step on a workspace of ``files`` files."""
    peers = ensure_peers()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tether-bench-", dir=CACHE) as tmp:
        root = make_workspace(Path(tmp) / "large", files)
        t = time.perf_counter()
        init(root)
        init_s = time.perf_counter() - t
        s = Session(root)
        hook(root, "SessionStart", {**s.base(), "source": "startup"})
        hook(root, "UserPromptSubmit", {**s.base(), "prompt": "bench"})
        paths = workspace_files(root)
        rng = random.Random(7)
        edit_pre, edit_post, bash_pre, bash_post = [], [], [], []
        for _ in range(runs):
            target = rng.choice(paths)
            tid = s.tool_id()
            edit = {"file_path": str(target), "old_string": "x", "new_string": "y"}
            edit_pre.append(hook(root, "PreToolUse", {**s.base(), "tool_name": "Edit", "tool_input": edit,
                                                       "tool_use_id": tid}))
            with open(target, "a") as fh:
                fh.write("# edited\n")
            edit_post.append(hook(root, "PostToolUse", {**s.base(), "tool_name": "Edit", "tool_input": edit,
                                                         "tool_use_id": tid, "tool_response": {}}))
            tid = s.tool_id()
            bash = {"command": "sed -i s/value/VALUE/ three files"}
            bash_pre.append(hook(root, "PreToolUse", {**s.base(), "tool_name": "Bash", "tool_input": bash,
                                                       "tool_use_id": tid}))
            for p in rng.sample(paths, 3):
                with open(p, "a") as fh:
                    fh.write("# by a shell command\n")
            bash_post.append(hook(root, "PostToolUse", {**s.base(), "tool_name": "Bash", "tool_input": bash,
                                                         "tool_use_id": tid, "tool_response": {"stdout": ""}}))
        # The same steps recorded in-process: the engine's own cost, without a process start.
        from tether.record.recorder import Recorder
        from tether.record.store import Store
        from tether.types import Event

        store = Store.open(str(root))
        rec = Recorder(store)
        in_edit, in_bash = [], []
        for n in range(runs):
            target = rng.choice(paths)
            ev: dict[str, Any] = {"name": "PreToolUse", "agent": "claude", "session_id": s.sid, "cwd": str(root),
                                  "root": str(root), "tool": "Edit", "tool_use_id": f"in-edit-{n}",
                                  "prompt_id": "bench-prompt",
                                  "tool_input": {"file_path": str(target), "old_string": "x", "new_string": "y"}}
            t = time.perf_counter()
            rec.handle(Event(**ev))
            pre_s = time.perf_counter() - t
            with open(target, "a") as fh:
                fh.write("# edited in-process\n")
            ev["name"] = "PostToolUse"
            t = time.perf_counter()
            rec.handle(Event(**ev))
            in_edit.append(pre_s + time.perf_counter() - t)
            ev = {**ev, "name": "PreToolUse", "tool": "Bash", "tool_use_id": f"in-bash-{n}",
                  "tool_input": {"command": "sed -i ..."}}
            t = time.perf_counter()
            rec.handle(Event(**ev))
            pre_s = time.perf_counter() - t
            for p in rng.sample(paths, 3):
                with open(p, "a") as fh:
                    fh.write("# by a shell command\n")
            ev["name"] = "PostToolUse"
            t = time.perf_counter()
            rec.handle(Event(**ev))
            in_bash.append(pre_s + time.perf_counter() - t)
        store.close()
        # stepback on a fresh copy of the same tree, same kind of edits.
        peer_root = make_workspace(Path(tmp) / "peer", files)
        peer_paths = workspace_files(peer_root)
        edits = [[str(rng.choice(peer_paths).relative_to(peer_root)), "append"] for _ in range(runs)]
        out = subprocess.run([peers["python"], "-c", _STEPBACK_CHECKPOINT, str(peer_root), json.dumps(edits)],
                             check=True, capture_output=True, text=True).stdout
        peer = json.loads(out.strip().splitlines()[-1])
    edit_step = [a + b for a, b in zip(edit_pre, edit_post, strict=True)]
    bash_step = [a + b for a, b in zip(bash_pre, bash_post, strict=True)]
    return {
        "files": files, "runs": runs, "tether init (s)": round(init_s, 2),
        "Edit step (PreToolUse + PostToolUse)": {"median_ms": median_ms(edit_step), "p95_ms": p95_ms(edit_step)},
        "  PreToolUse Edit": {"median_ms": median_ms(edit_pre)},
        "  PostToolUse Edit": {"median_ms": median_ms(edit_post)},
        "Bash step (PreToolUse + PostToolUse)": {"median_ms": median_ms(bash_step), "p95_ms": p95_ms(bash_step)},
        "  PreToolUse Bash": {"median_ms": median_ms(bash_pre)},
        "  PostToolUse Bash": {"median_ms": median_ms(bash_post)},
        "Edit step, in-process (PreToolUse + PostToolUse)": {"median_ms": median_ms(in_edit),
                                                             "p95_ms": p95_ms(in_edit)},
        "Bash step, in-process (PreToolUse + PostToolUse)": {"median_ms": median_ms(in_bash),
                                                             "p95_ms": p95_ms(in_bash)},
        "stepback checkpoint (in-process)": {"median_ms": median_ms(peer), "p95_ms": p95_ms(peer)},
    }


def bench_growth(files: int, steps: int) -> dict[str, Any]:
    """Store growth over ``steps`` recorded edits, against the compressed size of what changed."""
    from tether.record.recorder import Recorder
    from tether.record.store import Store
    from tether.types import Event

    peers = ensure_peers()
    with tempfile.TemporaryDirectory(prefix="tether-bench-", dir=CACHE) as tmp:
        root = make_workspace(Path(tmp) / "growth", files)
        init(root)
        store = Store.open(str(root))
        store.objects.pack()  # the baseline packed, so that only what the steps add is counted
        # The write-ahead log is reused in place up to ~4 MB; fold it in so it does not read as growth.
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = dir_size(Path(store.path))
        db_before = Path(store.db_path).stat().st_size
        objects_before = dir_size(Path(store.objects.objects))
        rec = Recorder(store)
        paths = workspace_files(root)
        rng = random.Random(11)
        changed_compressed = 0
        edits = []
        for i in range(steps):
            target = rng.choice(paths)
            lines = target.read_text().splitlines(keepends=True)
            lines[rng.randrange(len(lines))] = f"value_changed = {i}  # step {i}\n"
            ev = {"name": "PreToolUse", "agent": "claude", "session_id": "g", "cwd": str(root), "root": str(root),
                  "tool": "Edit", "tool_use_id": f"t{i}", "prompt_id": "p",
                  "tool_input": {"file_path": str(target), "old_string": "a", "new_string": "b"}}
            rec.handle(Event(**ev))  # type: ignore[arg-type]
            data = "".join(lines).encode()
            target.write_bytes(data)
            changed_compressed += len(zlib.compress(data))
            ev["name"] = "PostToolUse"
            rec.handle(Event(**ev))  # type: ignore[arg-type]
            edits.append([str(target.relative_to(root)), "".join(lines)])
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after = dir_size(Path(store.path))
        db_after = Path(store.db_path).stat().st_size
        objects_loose = dir_size(Path(store.objects.objects))
        store.objects.pack()  # what `tether gc`, or the end of a session, does
        packed = dir_size(Path(store.path))
        objects_packed = dir_size(Path(store.objects.objects))
        store.close()
        peer_root = make_workspace(Path(tmp) / "peer", files)
        git_before = dir_size(peer_root / ".git")
        script = textwrap.dedent("""
            import json, sys
            from pathlib import Path
            from stepback.engine import Engine
            root = Path(sys.argv[1]); edits = json.load(open(sys.argv[2]))
            eng = Engine(root)
            eng.checkpoint("baseline")
            for rel, text in edits:
                (root / rel).write_text(text)
                eng.checkpoint()
        """)
        edits_file = Path(tmp) / "edits.json"
        edits_file.write_text(json.dumps(edits))
        subprocess.run([peers["python"], "-c", script, str(peer_root), str(edits_file)], check=True,
                       capture_output=True)
        git_after = dir_size(peer_root / ".git")
        stepback_meta = dir_size(peer_root / ".git" / "stepback") if (peer_root / ".git" / "stepback").exists() \
            else (0, 0)
    return {
        "files": files, "steps": steps,
        "compressed size of the changed files (KiB)": round(changed_compressed / 1024, 1),
        "tether store growth, apparent (KiB)": round((after[0] - before[0]) / 1024, 1),
        "  of which the database (KiB)": round((db_after - db_before) / 1024, 1),
        "tether store growth, on disk (KiB)": round((after[1] - before[1]) / 1024, 1),
        "  of which file contents, loose objects (KiB on disk)": round(
            (objects_loose[1] - objects_before[1]) / 1024, 1),
        "tether store growth after packing, on disk (KiB)": round((packed[1] - before[1]) / 1024, 1),
        "  of which file contents, packed (KiB on disk)": round(
            (objects_packed[1] - objects_before[1]) / 1024, 1),
        "stepback growth, apparent (KiB)": round((git_after[0] - git_before[0]) / 1024, 1),
        "stepback growth, on disk (KiB)": round((git_after[1] - git_before[1]) / 1024, 1),
        "stepback metadata (KiB)": round(stepback_meta[0] / 1024, 1),
    }


def main(quick: bool = False) -> dict[str, Any]:
    return {
        "hook events (200-file repository)": bench_hook_events(8 if quick else 30),
        "large workspace": bench_large_workspace(5_000 if quick else 50_000, 5 if quick else 15),
        "store growth": bench_growth(1_000, 100 if quick else 1_000),
    }


if __name__ == "__main__":
    print(json.dumps(main("--quick" in sys.argv), indent=2))
    os._exit(0)
