"""Evaluate the default guard policy on the evasion corpus, beside cc-safety-net.

Usage (from the repository root)::

    python -m eval.evasion [--corpus DIR] [--no-peer] [--show-misses] [--json OUT]

Reads every ``tests/guard/corpus/*.jsonl`` (format in ``eval/corpus.py``), checks
each case in the corpus workspace that ``tests/guard/test_corpus.py`` uses, and
prints per class (the file name):

* missed: the share of "block" and "deny" cases the guard allows;
* friction: the share of "allow" cases it does not allow (ask and deny both count).

cc-safety-net (the npm package and library API of ``eval.commands``) is fed the
command cases with the same working folder and the same HOME and TMPDIR; it has
no notion of other tool calls, so its columns count command cases only and read
"n/a" for a class without any. Exits 0 whenever it could print the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from typing import Any

from eval.commands import pct, run_peer
from eval.corpus import CORPUS_DIR, Case, CorpusWorkspace, load_cases, read_lines
from tether.types import Decision


def _verdict(verdict: str) -> str:
    return "allow" if verdict == "allow" else "block"


def rates(cases: list[Case], verdicts: list[str | None]) -> tuple[int, int, int, int]:
    """(missed, cases to block, friction, cases to allow) over the cases that have a verdict."""
    judged = [(c, v) for c, v in zip(cases, verdicts, strict=True) if v is not None]
    blocks = [v for c, v in judged if c.expect != "allow"]
    allows = [v for c, v in judged if c.expect == "allow"]
    return (sum(v == "allow" for v in blocks), len(blocks), sum(v != "allow" for v in allows),
            len(allows))


def run_peer_cases(workspace: CorpusWorkspace, cases: list[Case]) -> tuple[list[str | None], str]:
    """cc-safety-net's verdict per case (None for tool cases), or all None with the reason."""
    verdicts: list[str | None] = [None] * len(cases)
    groups: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        if case.kind == "command":
            groups[case.cwd, case.home_under_tmp].append(i)
    note = "no command cases"
    # One run per working folder and kind of home: the peer takes one cwd and one environment.
    for (cwd, home_under_tmp), idx in sorted(groups.items()):
        rows = [{"command": workspace.fill(cases[i].command, home_under_tmp)} for i in idx]
        folder = os.path.join(workspace.root, cwd) if cwd else workspace.root
        out, note = run_peer(rows, folder, env=workspace.env(home_under_tmp))
        if out is None:
            return [None] * len(cases), note
        for i, verdict in zip(idx, out, strict=True):
            verdicts[i] = verdict
    return verdicts, note


def table(cases: list[Case], tether: list[str], peer: list[str | None] | None) -> list[str]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        groups[case.cls].append(i)
    head = f"{'class':<16} {'cases':>13} {'tether missed':>18} {'tether friction':>18}"
    if peer is not None:
        head += f" {'cc-safety-net missed':>21} {'cc-safety-net friction':>23}"
    out = [head, "-" * len(head)]
    for cls in sorted(groups):
        idx = groups[cls]
        sub = [cases[i] for i in idx]
        blocks = sum(c.expect != "allow" for c in sub)
        m, b, f, a = rates(sub, [tether[i] for i in idx])
        line = f"{cls:<16} {f'{blocks} / {len(sub) - blocks}':>13} {pct(m, b):>18} {pct(f, a):>18}"
        if peer is not None:
            pm, pb, pf, pa = rates(sub, [peer[i] for i in idx])
            line += f" {pct(pm, pb) if pb else 'n/a':>21} {pct(pf, pa) if pa else 'n/a':>23}"
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--corpus", default=CORPUS_DIR, help="Folder of *.jsonl case files.")
    ap.add_argument("--no-peer", action="store_true", help="Do not measure cc-safety-net.")
    ap.add_argument("--show-misses", action="store_true",
                    help="List the cases where tether disagrees with the corpus.")
    ap.add_argument("--json", dest="json_out", help="Write per-case results to this file.")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.corpus):
        print(f"evasion corpus not found at {args.corpus}; nothing to evaluate", file=sys.stderr)
        return 0
    cases = load_cases(args.corpus)
    invalid = len(read_lines(args.corpus)) - len(cases)
    with CorpusWorkspace.temporary() as workspace:
        t0 = time.perf_counter()
        decisions: list[Decision] = [workspace.check(case) for case in cases]
        elapsed = time.perf_counter() - t0
        tether = [_verdict(d.verdict) for d in decisions]
        peer: list[str | None] | None = None
        peer_note = "not measured (--no-peer)"
        if not args.no_peer:
            peer, peer_note = run_peer_cases(workspace, cases)
            if all(v is None for v in peer):
                peer = None
    print(f"corpus: {args.corpus} ({len(cases)} cases"
          f"{f', {invalid} invalid lines skipped' if invalid else ''})")
    print(f"tether: default policy, {elapsed * 1000 / max(len(cases), 1):.2f} ms per case "
          "in-process")
    print(f"peer:   cc-safety-net {peer_note}, command cases only")
    print("cases = block / allow; missed = share of block and deny cases allowed; friction = "
          "share of allow cases not allowed (ask and deny both count)")
    print()
    for line in table(cases, tether, peer):
        print(line)
    if args.show_misses:
        print()
        print("disagreements (tether):")
        for i, case in enumerate(cases):
            if case.passes(decisions[i].verdict):
                continue
            kind = "FRICTION" if case.expect == "allow" else "MISSED  "
            what = case.command if case.kind == "command" else f"{case.tool} {json.dumps(case.input)}"
            what = what.replace("\n", "\\n")[:110]
            other = f", cc-safety-net {peer[i]}" if peer is not None and peer[i] else ""
            print(f"  {kind} [{case.id}] {what}")
            print(f"           -> {decisions[i].verdict} {','.join(decisions[i].rules)}"
                  f" (expected {case.expect}{other})")
    if args.json_out:
        rows: list[dict[str, Any]] = [
            {"id": case.id, "kind": case.kind, "command": case.command, "tool": case.tool,
             "input": case.input, "expect": case.expect, "tether": tether[i],
             "tether_decision": decisions[i].to_json(),
             "cc_safety_net": peer[i] if peer is not None else None}
            for i, case in enumerate(cases)]
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
