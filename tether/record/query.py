"""Reading the record: steps, sessions, prompts and diffs, in the shapes CONTRACTS.md promises."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any, NamedTuple

from tether.errors import TetherError
from tether.record.snapshot import MODE_LINK
from tether.record.store import Store

MIN_PREFIX = 7
# Files above this many bytes, or with a NUL byte near the start, are never diffed as text.
DIFF_LIMIT = 1 << 20

_STEP_COLUMNS = ("seq, id, session, agent, origin, prompt, tool, input, decision, decision_detail, "
                 "status, error, task, started, ended, response")


def path_text(raw: bytes) -> str:
    """A stored path for display and JSON: UTF-8, with undecodable bytes escaped."""
    return raw.decode("utf-8", "backslashreplace")


def resolve_step(db: sqlite3.Connection, ref: str) -> tuple[Any, ...]:
    """A step by its number (as `tether log` shows it) or by an id prefix of 7+ characters."""
    ref = ref.strip().lstrip("#")
    if ref.isdigit() and len(ref) < MIN_PREFIX:
        row = db.execute(f"SELECT {_STEP_COLUMNS} FROM steps WHERE seq = ?", (int(ref),)).fetchone()
        if row is None:
            raise TetherError(f"no step number {ref}")
        return tuple(row)
    if len(ref) < MIN_PREFIX:
        raise TetherError(f"step id {ref!r} is too short: give at least {MIN_PREFIX} characters, or the step number")
    if not all(c in "0123456789abcdef" for c in ref.lower()):
        raise TetherError(f"{ref!r} is not a step id")
    rows = db.execute(f"SELECT {_STEP_COLUMNS} FROM steps WHERE id >= ? AND id < ? LIMIT 2",
                      (ref.lower(), ref.lower() + "g")).fetchall()
    if not rows:
        raise TetherError(f"no step {ref}")
    if len(rows) > 1:
        raise TetherError(f"step id {ref} is ambiguous: give more characters")
    return tuple(rows[0])


def _resolve(db: sqlite3.Connection, table: str, what: str, ref: str) -> str:
    """An id of ``table`` from an unambiguous prefix (an exact id always wins)."""
    rows = db.execute(f"SELECT id FROM {table} WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                      (ref, ref + "\U0010ffff")).fetchall()
    if not rows:
        raise TetherError(f"no {what} {ref}")
    if len(rows) > 1 and rows[0][0] != ref:
        raise TetherError(f"{what} id {ref} is ambiguous: give more characters")
    return str(rows[0][0])


def resolve_prompt(db: sqlite3.Connection, ref: str) -> str:
    return _resolve(db, "prompts", "prompt", ref)


def resolve_session(db: sqlite3.Connection, ref: str) -> str:
    return _resolve(db, "sessions", "session", ref)


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def step_json(db: sqlite3.Connection, row: Any, with_response: bool = False) -> dict[str, Any]:
    (seq, sid, session, agent, origin, prompt, tool, input_, decision, detail, status, error, task,
     started, ended, response) = row
    files = [{"path": path_text(p), "change": c} for p, c in db.execute(
        "SELECT path, change FROM step_files WHERE step = ? ORDER BY path", (seq,))]
    prompt_text = None
    if prompt:
        r = db.execute("SELECT text FROM prompts WHERE id = ?", (prompt,)).fetchone()
        prompt_text = r[0] if r else None
    detail_json = _loads(detail) or {}
    op = db.execute("SELECT id, kind FROM operations WHERE step = ?", (seq,)).fetchone()
    out: dict[str, Any] = {
        "id": sid,
        "seq": seq,
        "session": session,
        "agent": agent,
        "origin": origin,
        "prompt": prompt,
        "prompt_text": prompt_text,
        "tool": tool,
        "input": _loads(input_),
        "decision": decision,
        "reasons": detail_json.get("reasons", []) if isinstance(detail_json, dict) else [],
        "risks": detail_json.get("risks", []) if isinstance(detail_json, dict) else [],
        "rules": detail_json.get("rules", []) if isinstance(detail_json, dict) else [],
        "status": status,
        "error": error,
        "task": task,
        "files": files,
        "time": started,
        "ended": ended,
        # For tether's own changes (rewind, revert, restore, undo): the operation behind them.
        "operation": {"id": op[0], "kind": op[1]} if op else None,
    }
    if with_response:
        out["response"] = _loads(response)
    return out


def log(store: Store, session: str | None = None, prompt: str | None = None) -> list[dict[str, Any]]:
    db = store.db
    where, args = [], []
    if session:
        where.append("session = ?")
        args.append(resolve_session(db, session))
    if prompt:
        where.append("prompt = ?")
        args.append(resolve_prompt(db, prompt))
    sql = f"SELECT {_STEP_COLUMNS} FROM steps"
    if where:
        sql += " WHERE " + " AND ".join(where)
    # By time: a call refused by the agent's own rules is found in its transcript at the end of
    # the turn, after later calls; its time is when it happened.
    sql += " ORDER BY started, seq"
    return [step_json(db, row) for row in db.execute(sql, args).fetchall()]


def sessions(store: Store) -> list[dict[str, Any]]:
    db = store.db
    out = []
    for sid, agent, cwd, started, ended, end_reason in db.execute(
            "SELECT id, agent, cwd, started, ended, end_reason FROM sessions ORDER BY started, id"):
        prompts = db.execute("SELECT COUNT(*) FROM prompts WHERE session = ?", (sid,)).fetchone()[0]
        steps, blocked, errors = db.execute(
            "SELECT COUNT(*), SUM(status = 'blocked'), SUM(status = 'error') FROM steps "
            "WHERE session = ? AND origin = 'agent'", (sid,)).fetchone()
        files = db.execute("SELECT COUNT(DISTINCT f.path) FROM step_files f JOIN steps s ON s.seq = f.step "
                           "WHERE s.session = ? AND s.origin = 'agent'", (sid,)).fetchone()[0]
        first = db.execute("SELECT text FROM prompts WHERE session = ? ORDER BY time LIMIT 1", (sid,)).fetchone()
        out.append({"id": sid, "agent": agent, "cwd": cwd, "started": started, "ended": ended,
                    "end_reason": end_reason, "prompts": prompts, "steps": steps or 0,
                    "blocked": blocked or 0, "errors": errors or 0, "files": files,
                    "first_prompt": first[0] if first else None})
    return out


# -- diffs ---------------------------------------------------------------------------


class FileDiff(NamedTuple):
    path: bytes
    change: str
    old_oid: str | None
    new_oid: str | None
    old_mode: int | None
    new_mode: int | None


def _is_binary(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def render_diff(store: Store, d: FileDiff) -> str:
    """One file's change as a git-style unified diff."""
    name = path_text(d.path)
    head = [f"diff --tether a/{name} b/{name}"]
    if d.change == "added":
        head.append(f"new file mode {d.new_mode:o}")
    elif d.change == "deleted":
        head.append(f"deleted file mode {d.old_mode:o}")
    elif d.old_mode != d.new_mode:
        head += [f"old mode {d.old_mode:o}", f"new mode {d.new_mode:o}"]
    if d.old_oid == d.new_oid:
        return "\n".join(head) + "\n"
    old = store.objects.read_blob(d.old_oid) if d.old_oid else b""
    new = store.objects.read_blob(d.new_oid) if d.new_oid else b""
    head.append(f"index {(d.old_oid or '0' * 7)[:7]}..{(d.new_oid or '0' * 7)[:7]}")
    if d.old_mode == MODE_LINK or d.new_mode == MODE_LINK:
        pass  # a symlink's target is short text: diff it as such
    elif max(len(old), len(new)) > DIFF_LIMIT:
        head.append(f"Large file a/{name} and b/{name} differ ({len(old)} -> {len(new)} bytes)")
        return "\n".join(head) + "\n"
    elif _is_binary(old) or _is_binary(new):
        head.append(f"Binary files a/{name} and b/{name} differ")
        return "\n".join(head) + "\n"
    import difflib

    a = old.decode("utf-8", "replace").splitlines(keepends=True)
    b = new.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(a, b, "/dev/null" if d.change == "added" else f"a/{name}",
                                      "/dev/null" if d.change == "deleted" else f"b/{name}", n=3))
    body = []
    for line in lines:
        if line.endswith("\n"):
            body.append(line)
        else:
            body.append(line + "\n\\ No newline at end of file\n")
    return "\n".join(head) + "\n" + "".join(body)


def step_diffs(db: sqlite3.Connection, seq: int) -> list[FileDiff]:
    return [FileDiff(*r) for r in db.execute(
        "SELECT path, change, old_oid, new_oid, old_mode, new_mode FROM step_files WHERE step = ? ORDER BY path",
        (seq,))]


def net_diffs(db: sqlite3.Connection, seqs: list[int]) -> list[FileDiff]:
    """The combined change of several steps: each path from before the first to after the last."""
    first: dict[bytes, tuple[str | None, int | None]] = {}
    last: dict[bytes, tuple[str | None, int | None]] = {}
    rows = []
    for seq in set(seqs):
        rows += db.execute("SELECT ord, path, old_oid, new_oid, old_mode, new_mode FROM step_files WHERE step = ?",
                           (seq,)).fetchall()
    # In the order the changes happened, which is not always the steps' order: calls made
    # in parallel finish in any order.
    for _ord, path, old_oid, new_oid, old_mode, new_mode in sorted(rows):
        first.setdefault(path, (old_oid, old_mode))
        last[path] = (new_oid, new_mode)
    out = []
    for path in sorted(first):
        (old_oid, old_mode), (new_oid, new_mode) = first[path], last[path]
        if (old_oid, old_mode) == (new_oid, new_mode):
            continue
        change = "added" if old_oid is None else "deleted" if new_oid is None else "modified"
        out.append(FileDiff(path, change, old_oid, new_oid, old_mode, new_mode))
    return out


def diff_text(store: Store, diffs: list[FileDiff]) -> str:
    return "".join(render_diff(store, d) for d in diffs)


def steps_for(db: sqlite3.Connection, *, prompt: str | None = None, session: str | None = None) -> list[int]:
    if prompt is not None:
        pid = resolve_prompt(db, prompt)
        return [r[0] for r in db.execute("SELECT seq FROM steps WHERE prompt = ? ORDER BY seq", (pid,))]
    if session is not None:
        sid = resolve_session(db, session)
        return [r[0] for r in db.execute("SELECT seq FROM steps WHERE session = ? AND origin = 'agent' "
                                         "ORDER BY seq", (sid,))]
    return [r[0] for r in db.execute("SELECT seq FROM steps ORDER BY seq")]


def errors(store: Store, limit: int = 10) -> list[dict[str, Any]]:
    rows = store.db.execute("SELECT time, event, session, message FROM errors ORDER BY seq DESC LIMIT ?",
                            (limit,)).fetchall()
    out = [{"time": t, "event": e, "session": s, "message": m} for t, e, s, m in rows]
    fallback = os.path.join(store.path, "errors.log")
    if os.path.exists(fallback):
        with open(fallback, encoding="utf-8", errors="replace") as fh:
            for line in fh.readlines()[-limit:]:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    out.sort(key=lambda e: str(e.get("time")), reverse=True)
    return out[:limit]
