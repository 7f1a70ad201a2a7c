"""Run the benchmarks and keep the figures: `python -m bench [SECTION...] [--quick]`.

Sections: recorder, history, guard, daemon. Results are printed as JSON and saved to
bench/results/<UTC time>.json; BENCHMARKS.md quotes them with this command.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SECTIONS = {"recorder": "bench.bench_recorder", "history": "bench.bench_history", "guard": "bench.bench_guard",
            "scaling": "bench.bench_scaling",
            "daemon": "bench.bench_daemon"}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("-")] or list(SECTIONS)
    unknown = [w for w in wanted if w not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    results: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()},
        "quick": quick,
    }
    for name in wanted:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(SECTIONS[name])
        started = time.perf_counter()
        results[name] = module.main(quick)
        print(f"  {name} took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{results['time'].replace(':', '')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"saved {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
