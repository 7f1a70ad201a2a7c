"""`python -m eval [--no-peer] [--show-misses]`: every evaluation in turn.

The outside command corpus (``eval.commands``), then the evasion corpus
(``eval.evasion``); run either module for its other options.
"""

from __future__ import annotations

import argparse
import sys

from eval import commands, evasion


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval", description="Every evaluation in turn.")
    ap.add_argument("--no-peer", action="store_true", help="Do not measure cc-safety-net.")
    ap.add_argument("--show-misses", action="store_true",
                    help="List the cases where tether disagrees with each corpus.")
    args = ap.parse_args(argv)
    shared = [flag for flag, on in (("--no-peer", args.no_peer),
                                    ("--show-misses", args.show_misses)) if on]
    status = commands.main(shared)
    print()
    return max(status, evasion.main(shared))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
