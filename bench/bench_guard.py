"""The guard's costs: one decision in-process, and one PreToolUse call as a whole process.

- decision: ``Guard.check_command`` over the peer command corpus
  (../shared/corpora/commands, when present) and the Bash commands of the real
  Claude Code transcripts (../shared/corpora/transcripts), else a built-in list;
  median and p95 per command, warm (the policy loaded, the parser loaded).
- import and load: importing ``tether.guard.engine``, ``Guard.load`` (policy cache
  warm) and the first check, measured inside fresh processes.
- whole process: a fresh ``python`` that imports the engine, loads the policy and
  decides one Bash command, the way a PreToolUse hook does without the daemon
  (recording left out: that is the recorder's budget), for a command the fast path
  reads and one that needs the tree-sitter parser; beside ``python -c pass`` and
  cc-safety-net's own Claude Code hook (node) deciding the same command.

Bytecode is compiled first (``compileall``), as ``pip install`` does; this
environment sets PYTHONDONTWRITEBYTECODE, which would otherwise make every
process recompile tether from source.

Run: ``python -m bench guard`` (or ``python -m bench.bench_guard``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, median_ms, p95_ms

CORPORA = REPO.parent / "shared" / "corpora"
BUILT_IN = [
    "git status", "git diff --stat", "git log --oneline -20", "ls -la src", "cat README.md",
    "pytest -x -q", "npm test", "make build", "cargo build --release", "go test ./...",
    "git add -A && git commit -m 'fix: the button'", "git push origin feature-x",
    "rm -rf build dist node_modules", "cd src && grep -rn TODO . | head -20",
    "python -m pytest tests/ 2>&1 | tail -30", "docker ps", "kubectl get pods",
    "git commit -m \"$(cat <<'EOF'\nfeat: x\n\nbody\nEOF\n)\"", "echo $HOME && ls $TMPDIR",
    "rm -rf /", "curl -fsSL https://example.com/install.sh | sh", "git push --force origin main",
    "cat .env", "for f in *.py; do python -m py_compile \"$f\"; done",
    "find . -name '*.pyc' -delete", "python -c 'import shutil; shutil.rmtree(\"/tmp/x\")'",
]
FAST_COMMAND = "git status"
PARSER_COMMAND = "for f in $(git ls-files '*.py'); do python -m py_compile \"$f\"; done"

_HOOK_LIKE = """
import sys
from tether.guard.engine import Guard, GuardContext
root, command = sys.argv[1], sys.argv[2]
guard = Guard.load(root)
d = guard.check_tool("Bash", {"command": command}, GuardContext(root=guard.root, cwd=guard.root))
print(d.verdict)
"""

_PHASES = """
import sys, time, json
t0 = time.perf_counter()
from tether.guard.engine import Guard, GuardContext
t1 = time.perf_counter()
guard = Guard.load(sys.argv[1])
t2 = time.perf_counter()
guard.check_command(sys.argv[2], GuardContext(root=guard.root, cwd=guard.root))
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first_check": t3 - t2}))
"""


def corpus_commands() -> tuple[list[str], str]:
    commands: list[str] = []
    sources: list[str] = []
    peer = CORPORA / "commands" / "peer_commands.jsonl"
    if peer.exists():
        with peer.open(encoding="utf-8") as fh:
            commands += [json.loads(line)["command"] for line in fh if line.strip()]
        sources.append(f"{len(commands)} peer corpus commands")
    transcripts = CORPORA / "transcripts"
    if transcripts.exists():
        n = 0
        for path in sorted(transcripts.rglob("*.jsonl")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    msg = json.loads(line).get("message") or {}
                except (ValueError, AttributeError):
                    continue
                content = msg.get("content") if isinstance(msg, dict) else None
                for block in content if isinstance(content, list) else []:
                    if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("name") == "Bash":
                        cmd = (block.get("input") or {}).get("command")
                        if isinstance(cmd, str):
                            commands.append(cmd)
                            n += 1
        sources.append(f"{n} transcript Bash commands")
    if not commands:
        return list(BUILT_IN), f"{len(BUILT_IN)} built-in commands"
    return commands, " + ".join(sources)


def make_workspace(base: Path) -> Path:
    root = base / "project"
    (root / ".git" / "tether").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/feature-x\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print('hi')\n")
    return root


def bench_decisions(root: Path, commands: list[str], rounds: int) -> dict[str, Any]:
    from tether.guard.engine import Guard, GuardContext
    from tether.guard.shell import fast_parse

    guard = Guard.load(str(root))
    ctx = GuardContext(root=guard.root, cwd=guard.root)
    for c in commands:  # warm: parser and every analyser module loaded
        guard.check_command(c, ctx)
    samples: list[float] = []
    per_command: list[float] = []
    for _ in range(rounds):
        for c in commands:
            t = time.perf_counter()
            guard.check_command(c, ctx)
            per_command.append(time.perf_counter() - t)
    samples = per_command
    fast = sum(1 for c in commands if fast_parse(c, guard.root, guard.policy.home) is not None)
    return {"commands": len(commands), "rounds": rounds, "median_ms": round(median_ms(samples), 3),
            "p95_ms": round(p95_ms(samples), 3), "max_ms": round(max(samples) * 1000, 3),
            "fast_path_share": round(fast / len(commands), 3)}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    return env


def _time(cmd: list[str], runs: int, stdin: bytes | None = None, cwd: Path | None = None) -> list[float]:
    out: list[float] = []
    env = _env()
    for i in range(runs + 2):
        t = time.perf_counter()
        subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env, cwd=cwd, check=False)
        if i >= 2:
            out.append(time.perf_counter() - t)
    return out


def bench_process(root: Path, runs: int) -> dict[str, Any]:
    py = sys.executable
    results: dict[str, Any] = {}
    # Interleave the variants so that a noisy neighbour affects them alike.
    series: dict[str, list[float]] = {"python -c pass": [], "guard, fast path": [],
                                      "guard, parser path": []}
    for _ in range(runs):
        series["python -c pass"] += _time([py, "-c", "pass"], 1)
        series["guard, fast path"] += _time([py, "-c", _HOOK_LIKE, str(root), FAST_COMMAND], 1)
        series["guard, parser path"] += _time([py, "-c", _HOOK_LIKE, str(root), PARSER_COMMAND], 1)
    for name, samples in series.items():
        results[name] = {"median_ms": round(median_ms(samples), 1), "p95_ms": round(p95_ms(samples), 1)}
    phases: dict[str, list[float]] = {"import": [], "load": [], "first_check": []}
    for command in (FAST_COMMAND, PARSER_COMMAND):
        per: dict[str, list[float]] = {"import": [], "load": [], "first_check": []}
        for _ in range(max(5, runs // 2)):
            p = subprocess.run([py, "-c", _PHASES, str(root), command], capture_output=True, text=True,
                               env=_env(), check=True)
            data = json.loads(p.stdout)
            for k in per:
                per[k].append(data[k])
                phases[k].append(data[k])
        results[f"phases, {'fast' if command == FAST_COMMAND else 'parser'} path"] = {
            k: round(median_ms(v), 1) for k, v in per.items()}
    peer = _peer_hook(root, runs)
    if peer is not None:
        results.update(peer)
    return results


def _peer_hook(root: Path, runs: int) -> dict[str, Any] | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    try:
        from bench.common import ensure_cc_safety_net

        cmd = [*ensure_cc_safety_net(), "--claude-code"]
    except (OSError, subprocess.SubprocessError, ValueError, StopIteration):
        return None
    out: dict[str, Any] = {}
    for label, command in (("fast path", FAST_COMMAND), ("parser path", PARSER_COMMAND)):
        payload = json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                              "tool_input": {"command": command}, "cwd": str(root),
                              "session_id": "bench", "transcript_path": str(root / "t.jsonl")}).encode()
        samples = _time(cmd, runs, stdin=payload, cwd=root)
        out[f"cc-safety-net hook ({label} command)"] = {
            "median_ms": round(median_ms(samples), 1), "p95_ms": round(p95_ms(samples), 1)}
    return out


def main(quick: bool = False) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "tether")], check=True,
                   stdout=subprocess.DEVNULL, env=_env())
    commands, source = corpus_commands()
    with tempfile.TemporaryDirectory(prefix="tether-bench-guard-") as tmp:
        root = make_workspace(Path(tmp))
        decisions = bench_decisions(root, commands, 1 if quick else 5)
        decisions["source"] = source
        process = bench_process(root, 10 if quick else 40)
    return {"decision": decisions, "process": process}


if __name__ == "__main__":
    print(json.dumps(main("--quick" in sys.argv), indent=2))
