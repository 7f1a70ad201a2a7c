"""Turning hook events into sessions, prompts and steps.

Every event is first appended to the hash-chained journal, then applied to the
step tables, in one transaction: either both happen or neither does.

How changes are attributed:

- A tool that names its file is checked on that path alone, before the call
  (a difference is someone else's edit: an external step) and after it (the
  tool's own change).
- Any other tool that may change files gets a whole-workspace walk before the
  call (differences are external) and after it (differences are the tool's).
- Session start, each prompt and the end of a turn walk the workspace too, so
  edits a person made between prompts become external steps of their own and
  are never blamed on the agent.
- Another session's file tool that is still running owns its path: a walk
  leaves that path for it to record.
"""

from __future__ import annotations

from tether import fastjson, workspace
from tether.record import journal
from tether.record.snapshot import FileChange, Snapshot
from tether.record.store import Store, new_id, now
from tether.trust.redact import redact
from tether.types import FILE_TOOLS, READ_ONLY_TOOLS, Decision, Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

# Longest string kept from a tool's input or output; files themselves are kept
# whole in the object store.
TEXT_LIMIT = 32 * 1024
JOURNAL_LIMIT = 16 * 1024
# How long a running file tool's path is left for it to record; file tools finish in
# seconds, so a call still "running" after this belongs to a session that died.
OWNERSHIP_SECONDS = 600.0
# Loose objects beyond which the object store is packed at the end of a session.
PACK_ABOVE = 2048


def _dumps(value: Any) -> str:
    return fastjson.dumps(value, sort_keys=True, default=str)


# The error of a call that never reported back by the end of its turn.
_NO_RESULT = "no result was reported for this call: it was declined, interrupted or cancelled"


class Recorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.snap = Snapshot(store)

    # -- entry point -------------------------------------------------------------

    def handle(self, ev: Event, decision: Decision | None = None, task: str | None = None) -> str | None:
        """Record one event; returns the id of the step it created or finished, if any.

        An interrupted rewind or revert must be completed first, or its half-written files
        would be taken for someone's edit. Completing one is history's work, which sits above
        the recorder, so the caller does it: tether.hook.record.
        """
        with self.store.locked():
            try:
                return self._handle(ev, decision, task)
            except Exception:
                # Whatever went wrong applying it, the event itself is kept in the journal.
                with self.store.transaction() as db:
                    if not journal.delivered(db, ev.delivery)[0]:
                        self._journal(db, ev, None)
                raise

    def _handle(self, ev: Event, decision: Decision | None, task: str | None) -> str | None:
        with self.store.transaction() as db:
            done, step = journal.delivered(db, ev.delivery)
            if done:
                # The daemon recorded this very delivery and died before it could answer.
                return step
            step_id: str | None = None
            if ev.session_id:
                self._ensure_session(db, ev)
            if ev.name == "SessionStart":
                # Calls of sessions that died long ago will never report back: close them.
                db.execute("UPDATE steps SET status = 'error', error = ?, ended = ? WHERE status = 'running' "
                           "AND started < ? AND session IS NOT ?",
                           ("no result was ever reported: its session ended without one", now(),
                            now(OWNERSHIP_SECONDS), ev.session_id))
                first = db.execute("SELECT 1 FROM meta WHERE key = 'walk_tree'").fetchone() is None
                changes = self.snap.walk(db, defer=self._owned_paths(db))
                if not first:
                    self._external(db, ev, changes)
                db.execute("INSERT INTO baselines(time, tree, reason) VALUES (?, ?, ?)",
                           (now(), self.snap.tree(db), f"session start ({ev.source or 'startup'})"))
            elif ev.name == "UserPromptSubmit":
                self._external(db, ev, self.snap.walk(db, defer=self._owned_paths(db)))
                self._prompt(db, ev)
            elif ev.name == "PreToolUse":
                step_id = self._pre_tool(db, ev, decision, task)
            elif ev.name in ("PostToolUse", "PostToolUseFailure"):
                step_id = self._post_tool(db, ev, task)
            elif ev.name in ("Stop", "SubagentStop", "SessionEnd"):
                self._end_turn(db, ev)
            self._journal(db, ev, step_id)
            return step_id

    # -- journal -----------------------------------------------------------------

    def _journal(self, db: sqlite3.Connection, ev: Event, step: str | None) -> None:
        journal.append(db, now(), ev.agent, ev.session_id, ev.name, step,
                       _dumps(redact(ev.raw, JOURNAL_LIMIT)), ev.delivery)

    # -- sessions and prompts ----------------------------------------------------------

    def _ensure_session(self, db: sqlite3.Connection, ev: Event) -> None:
        db.execute(
            "INSERT INTO sessions(id, agent, cwd, transcript_path, permission_mode, source, started) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "transcript_path = COALESCE(excluded.transcript_path, transcript_path), "
            "permission_mode = COALESCE(excluded.permission_mode, permission_mode), ended = NULL",
            (ev.session_id, ev.agent, ev.cwd, ev.transcript_path, ev.permission_mode,
             ev.source if ev.name == "SessionStart" else None, now()))

    def _prompt(self, db: sqlite3.Connection, ev: Event) -> str:
        pid = ev.prompt_id or new_id()
        text = redact(ev.prompt or "", TEXT_LIMIT)
        db.execute("INSERT INTO prompts(id, session, text, time) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(id) DO UPDATE SET text = COALESCE(excluded.text, text)",
                   (pid, ev.session_id, text, now()))
        db.execute("UPDATE sessions SET last_prompt = ? WHERE id = ?", (pid, ev.session_id))
        return pid

    def _prompt_of(self, db: sqlite3.Connection, ev: Event) -> str | None:
        if ev.prompt_id:
            known = db.execute("SELECT 1 FROM prompts WHERE id = ?", (ev.prompt_id,)).fetchone()
            if not known:
                # The hook was installed mid-turn: keep the link, text unknown.
                db.execute("INSERT INTO prompts(id, session, text, time) VALUES (?, ?, NULL, ?)",
                           (ev.prompt_id, ev.session_id, now()))
            return ev.prompt_id
        if not ev.session_id:
            return None
        row = db.execute("SELECT last_prompt FROM sessions WHERE id = ?", (ev.session_id,)).fetchone()
        return row[0] if row else None

    # -- steps ---------------------------------------------------------------------

    def _rel(self, ev: Event) -> bytes | None:
        key = FILE_TOOLS.get(ev.tool or "")
        raw = (ev.tool_input or {}).get(key) if key else None
        if not isinstance(raw, str) or not raw:
            return None
        rel = workspace.relpath(ev.root, raw, ev.cwd)
        return None if rel is None else rel.encode("utf-8", "surrogateescape")

    def _owned_paths(self, db: sqlite3.Connection, but: str | None = None) -> set[bytes]:
        """Paths named by file tools that are running right now (except in session ``but``).

        Each such path is left to its own call to record, even by a walk of the same session:
        a Write still in flight when a shell command finishes is the Write's change.
        """
        owned: set[bytes] = set()
        # A call whose session died never reports back: after a while it owns nothing.
        for tool, raw_input, cwd in db.execute(
                "SELECT tool, input, cwd FROM steps WHERE status = 'running' AND session IS NOT ? "
                f"AND tool IN ({', '.join('?' * len(FILE_TOOLS))}) AND started > ?",
                (but if but else "\0", *FILE_TOOLS, now(OWNERSHIP_SECONDS))):
            try:
                value = fastjson.loads(raw_input or "{}").get(FILE_TOOLS[tool])
            except (ValueError, AttributeError):
                continue
            if isinstance(value, str):
                rel = workspace.relpath(self.store.root, value, cwd)
                if rel is not None:
                    owned.add(rel.encode("utf-8", "surrogateescape"))
        return owned

    def _changes(self, db: sqlite3.Connection, ev: Event) -> list[FileChange]:
        """What changed since the known state, looking only where this tool can have changed things."""
        tool = ev.tool or ""
        if tool in READ_ONLY_TOOLS:
            return []
        if tool in FILE_TOOLS:
            rel = self._rel(ev)
            if rel is None:
                return []
            change = self.snap.record_file(db, rel)
            return [] if change is None else [change]
        return self.snap.walk(db, defer=self._owned_paths(db))

    def _pre_tool(self, db: sqlite3.Connection, ev: Event, decision: Decision | None,
                  task: str | None) -> str:
        blocked = decision is not None and decision.verdict == "deny"
        if not blocked:
            self._external(db, ev, self._changes(db, ev))
        existing = db.execute("SELECT id FROM steps WHERE tool_use_id = ? AND session IS ?",
                              (ev.tool_use_id, ev.session_id)).fetchone() if ev.tool_use_id else None
        if existing:
            return str(existing[0])
        step_id = new_id()
        db.execute(
            "INSERT INTO steps(id, session, agent, origin, prompt, tool, tool_use_id, input, decision, "
            "decision_detail, status, task, started, ended, cwd) "
            "VALUES (?, ?, ?, 'agent', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (step_id, ev.session_id, ev.agent, self._prompt_of(db, ev), ev.tool, ev.tool_use_id,
             _dumps(redact(ev.tool_input, TEXT_LIMIT)),
             decision.verdict if decision else None,
             _dumps(redact(decision.to_json())) if decision else None,
             "blocked" if blocked else "running", task, now(), now() if blocked else None, ev.cwd))
        return step_id

    def _post_tool(self, db: sqlite3.Connection, ev: Event, task: str | None) -> str:
        row = None
        if ev.tool_use_id:
            row = db.execute("SELECT seq, id, status FROM steps WHERE tool_use_id = ? AND session IS ?",
                             (ev.tool_use_id, ev.session_id)).fetchone()
        if row is None:
            # No PreToolUse was seen (hooks installed mid-call): the step starts here.
            step_id = new_id()
            cur = db.execute(
                "INSERT INTO steps(id, session, agent, origin, prompt, tool, tool_use_id, input, status, task, "
                "started) VALUES (?, ?, ?, 'agent', ?, ?, ?, ?, 'running', ?, ?)",
                (step_id, ev.session_id, ev.agent, self._prompt_of(db, ev), ev.tool, ev.tool_use_id,
                 _dumps(redact(ev.tool_input, TEXT_LIMIT)), task, now()))
            seq = int(cur.lastrowid or 0)
        else:
            seq, step_id, status = int(row[0]), str(row[1]), row[2]
            if status != "running":
                return step_id
        changes = self._changes(db, ev)
        self.add_files(db, seq, changes)
        failed = ev.name == "PostToolUseFailure"
        response = redact(ev.tool_response, TEXT_LIMIT) if ev.tool_response is not None else None
        db.execute("UPDATE steps SET status = ?, error = ?, response = ?, ended = ? WHERE seq = ?",
                   ("error" if failed else "ok", redact(ev.error, TEXT_LIMIT) if failed else None,
                    None if response is None else _dumps(response), now(), seq))
        return step_id

    def _end_turn(self, db: sqlite3.Connection, ev: Event) -> None:
        """Close what the turn left open; changes since the last step are external or the interrupted call's."""
        # This session's own running calls are over: what they changed is theirs.
        changes = self.snap.walk(db, defer=self._owned_paths(db, but=ev.session_id))
        failures = self._reconcile(db, ev) if ev.session_id and ev.transcript_path else {}
        # The agent may write a call's result to its transcript after the end of the turn was
        # reported: a call closed then for want of a result, whose "ask" the transcript now
        # shows declined, is the blocked step it was (if nothing was put down to it since).
        for late_id, late_said in failures.items():
            db.execute("UPDATE steps SET status = 'blocked', error = ? WHERE session IS ? AND "
                       "tool_use_id = ? AND decision = 'ask' AND status = 'error' AND error = ? "
                       "AND NOT EXISTS (SELECT 1 FROM step_files WHERE step = steps.seq)",
                       (f"declined at the permission prompt: {late_said}", ev.session_id, late_id,
                        _NO_RESULT))
        running = db.execute("SELECT seq, tool_use_id, decision FROM steps WHERE status = 'running' "
                             "AND session IS ? ORDER BY seq", (ev.session_id,)).fetchall()
        may_have_run = None
        for seq, tool_use_id, verdict in running:
            said = failures.get(tool_use_id or "")
            if said is not None and verdict == "ask":
                # Asked, and the answer was no (in a non-interactive run, "ask" is a no).
                status, error = "blocked", f"declined at the permission prompt: {said}"
            elif said is not None:
                status, error = "error", said
                may_have_run = seq
            else:
                status, error = "error", _NO_RESULT
                may_have_run = seq
            db.execute("UPDATE steps SET status = ?, error = ?, ended = ? WHERE seq = ?",
                       (status, error, now(), seq))
        if may_have_run is not None:
            # An interrupted call is the likeliest author of what changed since it started.
            self.add_files(db, int(may_have_run), changes)
        else:
            # A call that was declined never ran: what changed is someone else's.
            self._external(db, ev, changes)
        if ev.name == "SessionEnd" and self.store.objects.loose_estimate() > PACK_ABOVE:
            # Thousands of small files cost a block each on disk: pack them once a session ends.
            self.store.objects.pack()
        if ev.name == "SessionEnd" and ev.session_id:
            db.execute("UPDATE sessions SET ended = ?, end_reason = ? WHERE id = ?",
                       (now(), (ev.raw.get("reason") if isinstance(ev.raw.get("reason"), str) else None),
                        ev.session_id))

    def _reconcile(self, db: sqlite3.Connection, ev: Event) -> dict[str, str]:
        """Record the calls that the agent refused before any hook ran, from its transcript.

        Claude Code applies its own permission rules (tether init writes some as a second
        layer) before PreToolUse hooks: such a call never reaches tether's hook, but the
        record must still show it. Only the part of the transcript not read before is read.
        """
        from tether.record import transcript

        row = db.execute("SELECT transcript_offset FROM sessions WHERE id = ?", (ev.session_id,)).fetchone()
        offset = int(row[0]) if row else 0
        calls, failures, offset = transcript.read(ev.transcript_path or "", offset)
        db.execute("UPDATE sessions SET transcript_offset = ? WHERE id = ?", (offset, ev.session_id))
        for call in calls:
            if db.execute("SELECT 1 FROM steps WHERE tool_use_id = ? AND session IS ?",
                          (call.tool_use_id, ev.session_id)).fetchone():
                continue
            decision = Decision("deny", [redact(call.reason)], [], ["agent.permissions"])
            db.execute(
                "INSERT INTO steps(id, session, agent, origin, prompt, tool, tool_use_id, input, decision, "
                "decision_detail, status, started, ended) VALUES (?, ?, ?, 'agent', ?, ?, ?, ?, 'deny', ?, "
                "'blocked', ?, ?)",
                (new_id(), ev.session_id, ev.agent, call.prompt_id or self._prompt_of(db, ev), call.tool,
                 call.tool_use_id, _dumps(redact(call.tool_input, TEXT_LIMIT)), _dumps(redact(decision.to_json())),
                 call.time or now(), call.time or now()))
        return {k: redact(v) for k, v in failures.items()}

    def _external(self, db: sqlite3.Connection, ev: Event | None, changes: list[FileChange]) -> str | None:
        if not changes:
            return None
        step_id = new_id()
        t = now()
        cur = db.execute(
            "INSERT INTO steps(id, session, agent, origin, status, started, ended) "
            "VALUES (?, ?, NULL, 'external', 'ok', ?, ?)",
            (step_id, ev.session_id if ev else None, t, t))
        self.add_files(db, int(cur.lastrowid or 0), changes)
        return step_id

    def baseline(self, reason: str) -> tuple[int, str | None]:
        """Take a baseline: the first one stores the workspace as it is (no step); a later one
        records what changed since the last known state as an external step.
        Returns (files in the workspace, id of the external step if any)."""
        with self.store.locked(), self.store.transaction() as db:
            first = db.execute("SELECT 1 FROM meta WHERE key = 'walk_tree'").fetchone() is None
            changes = self.snap.walk(db)
            step = None if first else self._external(db, None, changes)
            db.execute("INSERT INTO baselines(time, tree, reason) VALUES (?, ?, ?)",
                       (now(), self.snap.tree(db), reason))
            (count,) = db.execute("SELECT COUNT(*) FROM files WHERE oid IS NOT NULL").fetchone()
            return int(count), step

    # -- for tether's own operations (tether.history.operations) ---------------------------

    def catch_up(self, db: sqlite3.Connection) -> str | None:
        """Record, as one external step, whatever changed that nobody recorded yet.

        A walk like any other: paths named by running file tools are left to those calls.
        Returns the step's id, or None when nothing changed.
        """
        return self._external(db, None, self.snap.walk(db, defer=self._owned_paths(db)))

    def add_external(self, db: sqlite3.Connection, changes: list[FileChange]) -> str | None:
        """Record changes found outside any hook event as one external step of no session."""
        return self._external(db, None, changes)

    def add_files(self, db: sqlite3.Connection, seq: int, changes: list[FileChange],
                  attribute: bool = True) -> None:
        """Add changes to step ``seq``; with ``attribute``, attribute their lines within the hook's budget
        (without, the caller supplies or fills the attribution itself)."""
        if not changes:
            return
        for c in changes:
            prior = db.execute("SELECT old_oid, old_mode FROM step_files WHERE step = ? AND path = ?",
                               (seq, c.path)).fetchone()
            if prior:
                # The same step changed the path twice (seen before and after): keep the first old side.
                old_oid, old_mode = prior
                change = "added" if old_oid is None else ("deleted" if c.new_oid is None else "modified")
                if old_oid == c.new_oid and old_mode == c.new_mode:
                    db.execute("DELETE FROM step_files WHERE step = ? AND path = ?", (seq, c.path))
                else:
                    db.execute("UPDATE step_files SET change = ?, new_oid = ?, new_mode = ?, runs = NULL "
                               "WHERE step = ? AND path = ?", (change, c.new_oid, c.new_mode, seq, c.path))
                continue
            db.execute("INSERT INTO step_files(step, path, ord, change, old_oid, new_oid, old_mode, new_mode) "
                       "VALUES (?, ?, (SELECT COALESCE(MAX(ord), 0) + 1 FROM step_files), ?, ?, ?, ?, ?)",
                       (seq, c.path, c.change, c.old_oid, c.new_oid, c.old_mode, c.new_mode))
        if attribute:
            from tether.record import attribution

            attribution.record_step(db, self.store.objects, seq, changes)
