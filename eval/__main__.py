"""`python -m eval`: every evaluation in turn."""

from __future__ import annotations

import sys

from eval import commands

if __name__ == "__main__":
    sys.exit(commands.main(sys.argv[1:]))
