"""Line attribution: for every line of every recorded file version, the step that wrote it.

Kept beside each recorded change (``step_files.runs``) as runs of
``[count, step_seq, origin_line]``: ``count`` consecutive lines that step
``step_seq`` wrote (0 stands for the baseline, what was there before recording
began), starting at line ``origin_line`` (0-based) of the version that step
produced. Lines that a change leaves alone keep their runs, so attribution
survives edits, shell commands, a person's edits, renames and commits.

It is computed when a step is recorded, for text files of modest size; any
version left without it (a huge shell step, a file over the limit) is filled in
on the first ``tether blame`` that needs it, from the nearest version that has it.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

    from tether.record.objects import ObjectStore
    from tether.record.snapshot import FileChange

# Per line: (step seq, line index in the version that step wrote).
Origin = tuple[int, int]
Runs = list[list[int]]

BASELINE = 0
# Files larger than this are attributed lazily, at blame time, not in the hook.
HOOK_LIMIT = 512 * 1024
# At most this many files of one step are attributed in the hook; the rest lazily.
HOOK_FILES = 64
# No attribution at all above this size or for binary content.
MAX_BYTES = 16 << 20


def split_lines(data: bytes) -> list[bytes]:
    """Lines as git sees them: split after each newline; the last may lack one."""
    if not data:
        return []
    parts = data.split(b"\n")
    out = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def is_text(data: bytes) -> bool:
    return len(data) <= MAX_BYTES and b"\0" not in data[:8192]


def expand(runs: Runs) -> list[Origin]:
    out: list[Origin] = []
    for count, seq, start in runs:
        out.extend((seq, start + i) for i in range(count))
    return out


def compress(origins: Sequence[Origin]) -> Runs:
    runs: Runs = []
    for seq, line in origins:
        if runs and runs[-1][1] == seq and runs[-1][2] + runs[-1][0] == line:
            runs[-1][0] += 1
        else:
            runs.append([1, seq, line])
    return runs


def baseline_runs(count: int) -> Runs:
    return [[count, BASELINE, 0]] if count else []


def carry(old_lines: Sequence[bytes], old: Sequence[Origin], new_lines: Sequence[bytes], seq: int,
          ) -> list[Origin]:
    """Attribution of ``new_lines``: lines kept from ``old_lines`` keep theirs, the rest are ``seq``'s."""
    n_old, n_new = len(old_lines), len(new_lines)
    # Most changes are local: match the common head and tail first, diff only the middle.
    head = 0
    while head < n_old and head < n_new and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while (tail < n_old - head and tail < n_new - head
           and old_lines[n_old - 1 - tail] == new_lines[n_new - 1 - tail]):
        tail += 1
    out: list[Origin] = list(old[:head])
    mid_old = old_lines[head:n_old - tail]
    mid_new = new_lines[head:n_new - tail]
    if mid_old and mid_new:
        from difflib import SequenceMatcher

        matcher = SequenceMatcher(None, mid_old, mid_new, autojunk=False)
        j_done = 0
        for i, j, size in matcher.get_matching_blocks():
            out.extend((seq, head + jj) for jj in range(j_done, j))
            out.extend(old[head + i:head + i + size])
            j_done = j + size
    else:
        out.extend((seq, head + jj) for jj in range(len(mid_new)))
    out.extend(old[n_old - tail:])
    assert len(out) == n_new
    return out


def dumps(runs: Runs | None) -> str:
    return json.dumps(runs, separators=(",", ":"))


def loads(text: str) -> Runs | None:
    value = json.loads(text)
    assert value is None or isinstance(value, list)
    return value


# -- maintained as steps are recorded -------------------------------------------------


def fill(db: sqlite3.Connection, objects: ObjectStore, path: bytes, seq: int, limit: int = MAX_BYTES,
         ) -> Runs | None:
    """The attribution of a path's version after step ``seq``, computing and storing what is missing.

    Works forward from the nearest earlier version that has it (or from the baseline).
    None for binary or oversized content.
    """
    row = db.execute("SELECT ord FROM step_files WHERE path = ? AND step = ?", (path, seq)).fetchone()
    if row is None:
        return None
    rows = db.execute("SELECT step, old_oid, new_oid, runs FROM step_files WHERE path = ? AND ord <= ? "
                      "ORDER BY ord", (path, row[0])).fetchall()
    first = len(rows) - 1
    while first > 0 and rows[first][3] is None:
        first -= 1
    prev_runs: Runs | None
    if rows[first][3] is not None:
        if first == len(rows) - 1:
            return loads(rows[first][3])
        prev_runs = loads(rows[first][3])
        first += 1
    else:
        prev_runs = None  # rows[0] has none: start from the baseline
    for step, old_oid, new_oid, _ in rows[first:]:
        try:
            runs = _compute(db, objects, path, step, old_oid, new_oid, prev_runs,
                            baseline=(step == rows[0][0]), limit=limit)
        except _OverLimit:
            return None  # over the hook's budget: left for a later, unhurried caller
        # JSON null marks "no attribution" (binary), as opposed to SQL NULL, "not computed yet".
        db.execute("UPDATE step_files SET runs = ? WHERE step = ? AND path = ?", (dumps(runs), step, path))
        prev_runs = runs
    return prev_runs


class _OverLimit(Exception):
    pass


def _compute(db: sqlite3.Connection, objects: ObjectStore, path: bytes, seq: int, old_oid: str | None,
             new_oid: str | None, prev_runs: Runs | None, baseline: bool, limit: int) -> Runs | None:
    if new_oid is None:
        return []
    new = objects.read_blob(new_oid)
    if len(new) > limit and limit < MAX_BYTES:
        raise _OverLimit
    if not is_text(new):
        return None
    new_lines = split_lines(new)
    if old_oid is None:
        return compress(_from_rename(db, objects, path, seq, new_lines))
    old = objects.read_blob(old_oid)
    if not is_text(old):
        return compress([(seq, i) for i in range(len(new_lines))])
    old_lines = split_lines(old)
    if baseline:
        prev_runs = baseline_runs(len(old_lines))
    if prev_runs is None or sum(r[0] for r in prev_runs) != len(old_lines):
        # The previous version had no attribution (binary): every line is this step's.
        return compress([(seq, i) for i in range(len(new_lines))])
    return compress(carry(old_lines, expand(prev_runs), new_lines, seq))


def runs_before(db: sqlite3.Connection, objects: ObjectStore, path: bytes, seq: int) -> Runs | None:
    """The attribution of a path as it was just before step ``seq`` ([] when it did not exist)."""
    mine = db.execute("SELECT ord FROM step_files WHERE path = ? AND step = ?", (path, seq)).fetchone()
    if mine is None:
        (ord_,) = db.execute("SELECT COALESCE(MAX(ord), 0) + 1 FROM step_files").fetchone()
    else:
        ord_ = mine[0]
    row = db.execute("SELECT step FROM step_files WHERE path = ? AND ord < ? ORDER BY ord DESC LIMIT 1",
                     (path, ord_)).fetchone()
    if row is None:
        first = db.execute("SELECT old_oid FROM step_files WHERE path = ? ORDER BY ord LIMIT 1",
                           (path,)).fetchone()
        if first is None or first[0] is None:
            return []
        data = objects.read_blob(first[0])
        return baseline_runs(len(split_lines(data))) if is_text(data) else None
    return fill(db, objects, path, int(row[0]))


def _from_rename(db: sqlite3.Connection, objects: ObjectStore, path: bytes, seq: int,
                 new_lines: list[bytes]) -> list[Origin]:
    """A new file: if the same step deleted a file with the same or similar content, it was moved."""
    deleted = db.execute("SELECT path, old_oid FROM step_files WHERE step = ? AND new_oid IS NULL "
                         "AND old_oid IS NOT NULL LIMIT 20", (seq,)).fetchall()
    best: tuple[float, bytes, str] | None = None
    if deleted:
        from difflib import SequenceMatcher

        for old_path, old_oid in deleted:
            old = objects.read_blob(old_oid)
            if not is_text(old):
                continue
            matcher = SequenceMatcher(None, split_lines(old), new_lines, autojunk=False)
            score = 1.0 if split_lines(old) == new_lines else matcher.ratio()
            if score >= 0.5 and (best is None or score > best[0]):
                best = (score, old_path, old_oid)
    if best is None:
        return [(seq, i) for i in range(len(new_lines))]
    _, old_path, old_oid = best
    old_runs = runs_before(db, objects, old_path, seq)
    old_lines = split_lines(objects.read_blob(old_oid))
    if old_runs is None or sum(r[0] for r in old_runs) != len(old_lines):
        return [(seq, i) for i in range(len(new_lines))]
    return carry(old_lines, expand(old_runs), new_lines, seq)


def record_step(db: sqlite3.Connection, objects: ObjectStore, seq: int, changes: Sequence[FileChange]) -> None:
    """Attribute the lines of what one step changed, within the hook's budget."""
    done = 0
    # Deletions first, so that a rename within the step finds its source.
    for change in sorted(changes, key=lambda c: c.new_oid is not None):
        if change.new_oid is None:
            db.execute("UPDATE step_files SET runs = '[]' WHERE step = ? AND path = ?", (seq, change.path))
            continue
        if done >= HOOK_FILES:
            break
        fill(db, objects, change.path, seq, limit=HOOK_LIMIT)
        done += 1
