"""Three-way merges of file contents, by git's own merge machinery (``git merge-file``)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from tether.record import gitcmd


@dataclass(frozen=True)
class Merged:
    data: bytes
    conflicts: int
    hunks: list[tuple[int, int]]  # (first line, last line) of each conflict in ``data``, 1-based


def merge3(current: bytes, base: bytes, other: bytes, git_dir: str, labels: tuple[str, str, str]) -> Merged:
    """Apply the change base -> other on top of current."""
    with tempfile.TemporaryDirectory(prefix="tether-merge-") as tmp:
        paths = []
        for name, data in (("current", current), ("base", base), ("other", other)):
            path = os.path.join(tmp, name)
            with open(path, "wb") as fh:
                fh.write(data)
            paths.append(path)
        args = ["merge-file", "-p", "-L", labels[0], "-L", labels[1], "-L", labels[2], *paths]
        res = gitcmd.run(git_dir, args, check=False)
    if res.returncode < 0 or res.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {res.stderr.decode('utf-8', 'replace').strip()}")
    return Merged(res.stdout, res.returncode, _hunks(res.stdout) if res.returncode else [])


def _hunks(data: bytes) -> list[tuple[int, int]]:
    hunks = []
    start = None
    for n, line in enumerate(data.split(b"\n"), start=1):
        if line.startswith(b"<<<<<<< "):
            start = n
        elif line.startswith(b">>>>>>> ") and start is not None:
            hunks.append((start, n))
            start = None
    return hunks
