"""Linking git commits to the steps behind them, by content.

Nothing is written into the user's repository (no trailers, no notes): a
commit is linked at query time. For each file the commit changed, the lines
it added are looked up in the line attribution of that file, which gives the
steps (and so the sessions and prompts) that wrote them. It keeps working
after rebases and amends, since it follows content, not commit ids.
"""

from __future__ import annotations

import os
import subprocess

from tether.errors import TetherError
from tether.history.blame import origins
from tether.record import attribution
from tether.record.gitcmd import raw_diff
from tether.record.store import Store

_NEW = -2


def _git(root: str, *args: str, input: bytes | None = None) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    res = subprocess.run(["git", "-C", root, *args], capture_output=True, input=input, env=env)
    if res.returncode != 0:
        detail = res.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TetherError(f"git {args[0]}: {detail[-1] if detail else 'failed'}")
    return res.stdout


def steps_of_commit(store: Store, rev: str) -> list[int]:
    """Step numbers that wrote lines this commit added, or deleted files it deletes; oldest first."""
    root = store.root
    if not os.path.exists(os.path.join(root, ".git")):
        raise TetherError("this workspace is not a git repository")
    commit = _git(root, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    parents = _git(root, "rev-list", "--parents", "-n", "1", commit).decode().split()[1:]
    base = parents[0] if parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    raw = _git(root, "diff-tree", "-r", "-z", "--no-renames", "--raw", base, commit)
    found: set[int] = set()
    db = store.db
    for old_mode, new_mode, old_oid, new_oid, path in raw_diff(raw):
        if 0o160000 in (old_mode, new_mode):
            continue  # a submodule: its own history
        if new_mode == 0:
            row = db.execute("SELECT step FROM step_files WHERE path = ? AND new_oid IS NULL ORDER BY ord DESC "
                             "LIMIT 1", (path,)).fetchone()
            if row:
                found.add(int(row[0]))
            continue
        new = _git(root, "cat-file", "blob", new_oid)
        if not attribution.is_text(new):
            row = db.execute("SELECT step FROM step_files WHERE path = ? AND new_oid = ? ORDER BY ord DESC LIMIT 1",
                             (path, new_oid)).fetchone()
            if row:
                found.add(int(row[0]))
            continue
        old = b"" if set(old_oid) == {"0"} else _git(root, "cat-file", "blob", old_oid)
        new_lines = attribution.split_lines(new)
        old_lines = attribution.split_lines(old)
        marks = attribution.carry(old_lines, [(0, n) for n in range(len(old_lines))], new_lines, _NEW)
        added = [n for n, (seq, _) in enumerate(marks) if seq == _NEW]
        if not added:
            continue
        try:
            by_line = origins(store, path, new)
        except TetherError:
            continue
        found.update(by_line[n][0] for n in added if by_line[n][0] > 0)
    return sorted(found)
