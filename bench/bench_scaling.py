"""The guard's cost against a command's size: huge pipelines and scripts, in-process.

`python -m bench scaling`. Each shape is decided by the default policy in a fresh
workspace; the figure is the median over a few runs. A command line must be decided
in time linear in its size (docs/architecture.md): the shapes here are the ones that
used to be quadratic (long pipelines, many distinct paths) or that stop at the limits.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import make_workspace, median_ms, timed


def shapes() -> dict[str, str]:
    return {
        "pipeline, 10,000 stages (cat x)": " | ".join(["cat x"] * 10_000),
        "pipeline, 10,000 distinct stages into sh": " | ".join(f"grep -v a{i} f{i}" for i in range(10_000)) + " | sh",
        "pipeline, 2,900 distinct stages into sh (parsed)": " | ".join(f"grep -v a{i} f{i}" for i in range(2_900)) + " | sh",
        "script, 1 MB, 40,000 writes to distinct files": "\n".join(f"echo line{i} > out{i}.txt" for i in range(40_000)),
        "script, 1 MB, 25,000 if-statements": "\n".join(f'if [ -f a{i} ]; then rm -f "$D{i}/x"; fi' for i in range(25_000)),
        "here-document, 1 MB": "cat > t.md <<'EOF'\n" + "| a | b |\n" * 100_000 + "EOF",
        "one word, 1 MB": "echo " + "a" * 1_000_000,
        "script, 1,999 writes (read whole)": "\n".join(f"echo line{i} > out{i}.txt" for i in range(1_999)),
    }


def main(quick: bool = False) -> dict[str, Any]:
    from tether.guard.engine import Guard, GuardContext
    from tether.guard.state import GuardState

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tether-bench-scaling-") as tmp:
        root = make_workspace(Path(tmp) / "ws", 200)
        guard = Guard.load(str(root), store=str(Path(tmp) / "store"), use_cache=False)
        ctx = GuardContext(root=guard.root, cwd=guard.root, state=GuardState())
        for name, command in shapes().items():
            verdict = guard.check_command(command, ctx).verdict
            samples = timed(lambda c=command: guard.check_command(c, ctx), 1 if quick else 3, warmup=0)
            out[name] = {"bytes": len(command), "median_ms": round(median_ms(samples), 1),
                         "verdict": verdict}
    return out


if __name__ == "__main__":
    print(json.dumps(main("--quick" in sys.argv), indent=2))
