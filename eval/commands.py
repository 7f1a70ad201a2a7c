"""Evaluate the default guard policy on the peer guards' command corpus, beside cc-safety-net.

Usage (from the repository root)::

    python -m eval.commands [--corpus PATH] [--no-peer] [--show-misses] [--json OUT]

Reads ``../shared/corpora/commands/peer_commands.jsonl`` (one JSON object a
line: command, expected block|allow, source, category) at run time; the corpus
is never copied into the project. For each source family (the part of
``source`` before the first ``:``) it prints:

* missed: the share of "block" commands the policy allows ("ask" and "deny"
  both count as not allowed);
* friction: the share of "allow" commands it does not allow.

secbash is also broken down by category. cc-safety-net (npm) is installed into
a temporary folder at run time and fed the same commands through its library
API (``checkCommand`` from ``cc-safety-net/api``, the function its Claude Code
hook calls), with the same working folder. The commands are checked in a fresh
temporary workspace under the home folder, with no git repository, so that no
real project's state colours the result. Exits 0 whenever it could print the
tables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any

DEFAULT_CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                              "shared", "corpora", "commands", "peer_commands.jsonl")
PEER_PACKAGE = "cc-safety-net@2.4.5"
TARGETS = {"dcg": (1.0, 3.0), "safety-net": (1.0, 3.0)}
SECBASH_TARGET = {"file-read": 5.0, "file-write": 5.0, "upload": 5.0, "download": 5.0,
                  "reverse-shell": 5.0, "bind-shell": 5.0}

_PEER_SCRIPT = r"""
import { checkCommand } from 'cc-safety-net/api';
import { readFileSync } from 'node:fs';
const [,, inputPath, cwd] = process.argv;
const lines = readFileSync(inputPath, 'utf8').split('\n').filter(Boolean);
const out = [];
for (const line of lines) {
  const cmd = JSON.parse(line);
  let verdict;
  try {
    const r = checkCommand({ command: cmd, cwd });
    verdict = r.kind === 'allow' ? 'allow' : 'block';
  } catch (e) {
    verdict = 'block';  // its documentation: if checkCommand throws, do not run the command
  }
  out.push(verdict);
}
process.stdout.write(JSON.stringify(out));
"""


def load_corpus(path: str) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def family(row: dict[str, Any]) -> str:
    return str(row["source"]).split(":", 1)[0]


def run_tether(rows: list[dict[str, Any]], workspace: str, store: str) -> tuple[list[str], list[Any]]:
    from tether.guard.engine import Guard, GuardContext
    from tether.guard.state import GuardState

    guard = Guard.load(workspace, store=store, use_cache=False)
    ctx = GuardContext(root=guard.root, cwd=guard.root, state=GuardState())
    verdicts: list[str] = []
    decisions: list[Any] = []
    for row in rows:
        d = guard.check_command(row["command"], ctx)
        decisions.append(d)
        verdicts.append("allow" if d.verdict == "allow" else "block")
    return verdicts, decisions


def run_peer(rows: list[dict[str, Any]], workspace: str,
             env: dict[str, str] | None = None) -> tuple[list[str] | None, str]:
    """cc-safety-net's verdicts, or None with the reason it could not be measured.

    ``env`` is added to the environment of the peer's run (HOME, TMPDIR), not of npm's install,
    which keeps the user's npm configuration and cache.
    """
    npm = shutil.which("npm")
    node = shutil.which("node")
    if not npm or not node:
        return None, "node/npm not found"
    folder = tempfile.mkdtemp(prefix="tether-eval-peer-")
    try:
        proc = subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                               folder, PEER_PACKAGE], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            return None, f"npm install failed: {proc.stderr.strip()[:200]}"
        inputs = os.path.join(folder, "commands.jsonl")
        with open(inputs, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row["command"]) + "\n")
        script = os.path.join(folder, "check.mjs")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(_PEER_SCRIPT)
        proc = subprocess.run([node, script, inputs, workspace], capture_output=True, text=True,
                              cwd=folder, timeout=600, env={**os.environ, **(env or {})})
        if proc.returncode != 0:
            return None, f"cc-safety-net failed: {proc.stderr.strip()[:200]}"
        out = json.loads(proc.stdout)
        return [str(v) for v in out], PEER_PACKAGE
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return None, f"cc-safety-net could not run: {exc}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def rates(rows: list[dict[str, Any]], verdicts: list[str], idx: list[int]) -> tuple[int, int, int, int]:
    blocks = [i for i in idx if rows[i]["expected"] == "block"]
    allows = [i for i in idx if rows[i]["expected"] == "allow"]
    missed = sum(1 for i in blocks if verdicts[i] == "allow")
    friction = sum(1 for i in allows if verdicts[i] != "allow")
    return missed, len(blocks), friction, len(allows)


def pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:5.1f}% ({n}/{d})" if d else "    -"


def table(rows: list[dict[str, Any]], tether: list[str], peer: list[str] | None) -> list[str]:
    out: list[str] = []
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[family(r)].append(i)
    head = f"{'source':<22} {'tether missed':>18} {'tether friction':>18}"
    if peer is not None:
        head += f" {'cc-safety-net missed':>21} {'cc-safety-net friction':>23}"
    head += "  target (missed/friction)"
    out.append(head)
    out.append("-" * len(head))
    for fam in sorted(groups):
        idx = groups[fam]
        m, b, f, a = rates(rows, tether, idx)
        line = f"{fam:<22} {pct(m, b):>18} {pct(f, a):>18}"
        if peer is not None:
            pm, pb, pf, pa = rates(rows, peer, idx)
            line += f" {pct(pm, pb):>21} {pct(pf, pa):>23}"
        if fam in TARGETS:
            tm, tf = TARGETS[fam]
            ok_m = b == 0 or 100 * m / b <= tm
            ok_f = a == 0 or 100 * f / a <= tf
            line += (f"  <={tm:.0f}% {'met' if ok_m else 'NOT met'}"
                     f" / <={tf:.0f}% {'met' if ok_f else 'NOT met'}")
        out.append(line)
    out.append("")
    cats: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if family(r) == "secbash" and r["expected"] == "block":
            cats[str(r.get("category") or "-")].append(i)
    if cats:
        head = f"{'secbash category':<22} {'tether missed':>18}"
        if peer is not None:
            head += f" {'cc-safety-net missed':>21}"
        head += "  target"
        out.append(head)
        out.append("-" * len(head))
        for cat in sorted(cats):
            idx = cats[cat]
            m, b, _f, _a = rates(rows, tether, idx)
            line = f"{cat:<22} {pct(m, b):>18}"
            if peer is not None:
                pm, pb, _pf, _pa = rates(rows, peer, idx)
                line += f" {pct(pm, pb):>21}"
            if cat in SECBASH_TARGET:
                ok = b == 0 or 100 * m / b <= SECBASH_TARGET[cat]
                line += f"  <={SECBASH_TARGET[cat]:.0f}% {'met' if ok else 'NOT met'}"
            else:
                line += "  (informational)"
            out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--corpus", default=os.environ.get("TETHER_COMMAND_CORPUS", DEFAULT_CORPUS))
    ap.add_argument("--no-peer", action="store_true", help="Do not measure cc-safety-net.")
    ap.add_argument("--show-misses", action="store_true",
                    help="List the commands where tether disagrees with the corpus.")
    ap.add_argument("--json", dest="json_out", help="Write per-command results to this file.")
    args = ap.parse_args(argv)
    corpus = os.path.normpath(args.corpus)
    if not os.path.exists(corpus):
        print(f"command corpus not found at {corpus}; nothing to evaluate", file=sys.stderr)
        return 0
    rows = load_corpus(corpus)
    workspace = tempfile.mkdtemp(prefix="tether-eval-ws-", dir=os.path.expanduser("~"))
    store = tempfile.mkdtemp(prefix="tether-eval-store-")
    try:
        t0 = time.perf_counter()
        tether, decisions = run_tether(rows, workspace, store)
        elapsed = time.perf_counter() - t0
        peer: list[str] | None = None
        peer_note = "not measured (--no-peer)"
        if not args.no_peer:
            peer, peer_note = run_peer(rows, workspace)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)
    print(f"corpus: {corpus} ({len(rows)} commands)")
    print(f"tether: default policy, {elapsed * 1000 / max(len(rows), 1):.2f} ms per command in-process")
    print(f"peer:   cc-safety-net {peer_note}")
    print("missed = share of 'block' commands allowed; friction = share of 'allow' commands "
          "not allowed (ask and deny both count)")
    print()
    for line in table(rows, tether, peer):
        print(line)
    if args.show_misses:
        print()
        print("disagreements (tether):")
        for i, r in enumerate(rows):
            got = tether[i]
            if got != r["expected"]:
                d = decisions[i]
                kind = "MISSED  " if r["expected"] == "block" else "FRICTION"
                cmd = r["command"].replace("\n", "\\n")[:110]
                print(f"  {kind} [{family(r)}/{r.get('category') or '-'}] {cmd}")
                print(f"           -> {d.verdict} {','.join(d.rules)}")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump([{**r, "tether": tether[i], "tether_decision": decisions[i].to_json(),
                        "cc_safety_net": peer[i] if peer else None} for i, r in enumerate(rows)],
                      fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
