"""`tether blame`: which step, session and prompt wrote each line of a file as it is now."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from tether import workspace
from tether.errors import TetherError
from tether.record import attribution
from tether.record.store import Store

UNRECORDED = -1


def _rel(store: Store, path: str, cwd: str) -> bytes:
    rel = workspace.relpath(store.root, path, cwd)
    if rel is None:
        raise TetherError(f"{path} is outside the workspace {store.root}")
    return rel.encode("utf-8", "surrogateescape")


def origins(store: Store, rel: bytes, data: bytes) -> list[tuple[int, int]]:
    """Per line of ``data`` (the file as it is now): (step seq or 0 for baseline, line in that version)."""
    db = store.db
    objects = store.objects
    lines = attribution.split_lines(data)
    row = db.execute("SELECT step, new_oid FROM step_files WHERE path = ? ORDER BY ord DESC LIMIT 1",
                     (rel,)).fetchone()
    if row is None:
        known = db.execute("SELECT oid FROM files WHERE path = ?", (rel,)).fetchone()
        if known is None or known[0] is None:
            return [(UNRECORDED, i) for i in range(len(lines))]
        recorded_oid: str = known[0]
        runs: attribution.Runs | None = attribution.baseline_runs(
            len(attribution.split_lines(objects.read_blob(recorded_oid))))
    else:
        if row[1] is None:
            return [(UNRECORDED, i) for i in range(len(lines))]
        recorded_oid = row[1]
        with store.transaction() as wdb:
            runs = attribution.fill(wdb, objects, rel, int(row[0]))
    recorded = objects.read_blob(recorded_oid)
    if runs is None:
        raise TetherError("the recorded versions of this file are binary: no line attribution")
    expanded = attribution.expand(runs)
    if recorded == data:
        return expanded
    # Changed since it was last recorded: those lines are nobody's step yet.
    return attribution.carry(attribution.split_lines(recorded), expanded, lines, UNRECORDED)


def _baseline_source(store: Store, rel: bytes) -> str | None:
    row = store.db.execute("SELECT old_oid FROM step_files WHERE path = ? ORDER BY ord LIMIT 1", (rel,)).fetchone()
    if row is not None:
        return None if row[0] is None else str(row[0])
    known = store.db.execute("SELECT oid FROM files WHERE path = ?", (rel,)).fetchone()
    return None if known is None else str(known[0])


def baseline_commits(store: Store, rel: bytes) -> dict[int, str]:
    """For each line of the baseline version, the git commit that last changed it (where there is one)."""
    oid = _baseline_source(store, rel)
    if oid is None or not os.path.exists(os.path.join(store.root, ".git")):
        return {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    head = subprocess.run(["git", "-C", store.root, "rev-parse", "-q", "--verify", "HEAD"], capture_output=True,
                          text=True, env=env)
    if head.returncode != 0:
        return {}
    head_oid = head.stdout.strip()
    db = store.db
    cached = db.execute("SELECT commits FROM baseline_commits WHERE path = ? AND oid = ? AND head = ?",
                        (rel, oid, head_oid)).fetchone()
    if cached is not None:
        import json

        return {int(k): v for k, v in json.loads(cached[0]).items()}
    res = subprocess.run(["git", "-C", store.root, "blame", "--porcelain", "--contents", "-", "--",
                          os.fsdecode(rel)], input=store.objects.read_blob(oid), capture_output=True, env=env)
    commits: dict[int, str] = {}
    if res.returncode == 0:
        for line in res.stdout.split(b"\n"):
            parts = line.split(b" ")
            if len(parts) >= 3 and len(parts[0]) == 40 and parts[1].isdigit() and parts[2].isdigit():
                sha = parts[0].decode("ascii")
                if sha != "0" * 40:
                    commits[int(parts[2]) - 1] = sha
    import json

    with store.transaction() as wdb:
        wdb.execute("INSERT OR REPLACE INTO baseline_commits(path, oid, head, commits) VALUES (?, ?, ?, ?)",
                    (rel, oid, head_oid, json.dumps(commits)))
    return commits


def blame(store: Store, path: str, cwd: str, start: int | None = None, end: int | None = None,
          ) -> list[dict[str, Any]]:
    rel = _rel(store, path, cwd)
    full = os.path.join(os.fsencode(store.root), rel)
    if os.path.isdir(full):
        raise TetherError(f"{path} is a folder; blame takes a file")
    try:
        with open(full, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise TetherError(f"{path} does not exist") from None
    except OSError as exc:
        raise TetherError(f"cannot read {path}: {exc.strerror}") from None
    if not attribution.is_text(data):
        raise TetherError(f"{path} is binary: no line attribution")
    lines = attribution.split_lines(data)
    first = 1 if start is None else start
    last = len(lines) if end is None else min(end, len(lines))
    if first < 1 or (lines and first > len(lines)) or last < first - 1:
        raise TetherError(f"line range {first},{end} is outside the file's {len(lines)} lines")
    found = origins(store, rel, data)
    db = store.db
    seqs = sorted({s for s, _ in found[first - 1:last] if s > 0})
    steps: dict[int, tuple[Any, ...]] = {}
    for i in range(0, len(seqs), 500):
        chunk = seqs[i:i + 500]
        for row in db.execute(
                "SELECT s.seq, s.id, s.origin, s.session, s.prompt, s.tool, s.started, p.text, s.operation "
                f"FROM steps s LEFT JOIN prompts p ON p.id = s.prompt WHERE s.seq IN ({','.join('?' * len(chunk))})",
                chunk):
            steps[row[0]] = row
    commits = baseline_commits(store, rel) if any(s == 0 for s, _ in found[first - 1:last]) else {}
    out = []
    for n in range(first, last + 1):
        seq, orig = found[n - 1]
        text = lines[n - 1].rstrip(b"\n").decode("utf-8", "replace")
        entry: dict[str, Any] = {"line": n, "text": text}
        if seq == 0:
            entry.update(origin="baseline", step=None, session=None, prompt=None, seq=None, commit=commits.get(orig))
        elif seq == UNRECORDED or seq not in steps:
            entry.update(origin="external", step=None, session=None, prompt=None, seq=None, unrecorded=True)
        else:
            _, sid, origin, session, prompt, tool, started, prompt_text, operation = steps[seq]
            entry.update(origin=origin, step=sid, session=session, prompt=prompt, seq=seq, tool=tool,
                         time=started, prompt_text=prompt_text)
            if operation:
                entry["operation"] = operation
        out.append(entry)
    return out
