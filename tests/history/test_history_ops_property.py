"""Property tests of history on generated multi-session histories.

Every line ever written has unique text and a known author (an agent step, a
person, or the baseline), and line order is never permuted, so any correct
line diff gives exactly one right answer. On each generated history:

- blame names the right author for every line of every file;
- rewinding to any agent step reproduces, byte for byte, the files as they were
  just before that step ran; and undo brings back the exact state before;
- reverting any agent step whose files no later step touched equals the history
  without that step; a revert that is refused changes nothing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.history import operations as ops
from tether.history.blame import blame
from tether.record.recorder import Recorder
from tether.record.store import Store
from tether.record.verify import verify
from tether.types import Event

FILES = ["a.txt", "b.txt", "d/c.txt"]
EXAMPLES = int(os.environ.get("TETHER_PROPERTY_EXAMPLES", "20"))

# An edit of one file: how to change its list of lines.
edit = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 50)),
    st.tuples(st.just("replace"), st.integers(0, 50)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("rewrite"), st.integers(0, 3)),  # keep every other line, add new ones
    st.tuples(st.just("remove"), st.just(0)),  # delete the file
)
action = st.tuples(
    st.sampled_from(["write", "bash", "person"]),
    st.sampled_from(["A", "B"]),  # the session, for agent steps
    st.lists(st.tuples(st.sampled_from(FILES), edit), min_size=1, max_size=2),
)


class World:
    """The ground truth: each file is a list of (text, author) lines."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: dict[str, list[tuple[str, str]]] = {}
        self.counter = itertools.count()

    def line(self, author: str) -> tuple[str, str]:
        return (f"line {next(self.counter)} by {author}", author)

    def change(self, rel: str, how: tuple[str, int], author: str) -> None:
        kind, n = how
        lines = list(self.files.get(rel, []))
        if kind == "remove":
            self.files.pop(rel, None)
            self._sync(rel)
            return
        if kind == "insert" or not lines:
            lines.insert(n % (len(lines) + 1), self.line(author))
        elif kind == "replace":
            lines[n % len(lines)] = self.line(author)
        elif kind == "delete":
            del lines[n % len(lines)]
        else:
            lines = [ln for i, ln in enumerate(lines) if i % 2 == 0] + [self.line(author) for _ in range(n + 1)]
        self.files[rel] = lines
        self._sync(rel)

    def _sync(self, rel: str) -> None:
        path = os.path.join(self.root, rel)
        if rel not in self.files:
            if os.path.exists(path):
                os.unlink(path)
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write("".join(text + "\n" for text, _ in self.files[rel]))

    def disk(self) -> dict[str, bytes]:
        out = {}
        for rel in FILES:
            path = os.path.join(self.root, rel)
            if os.path.exists(path):
                with open(path, "rb") as fh:
                    out[rel] = fh.read()
        return out


def _setup() -> tuple[str, Store, World]:
    root = os.path.realpath(tempfile.mkdtemp(prefix="tether-hist-"))
    subprocess.run(["git", "init", "-q", root], check=True)
    world = World(root)
    for rel in FILES[:2]:
        world.files[rel] = [world.line("baseline") for _ in range(3)]
        world._sync(rel)
    store = Store.open(root, create=True)
    Recorder(store).baseline("test")
    return root, store, world


def _play(store: Store, world: World, history: list[Any]) -> tuple[dict[str, int], dict[str, dict[str, bytes]]]:
    """Play the history through the recorder; returns each agent step's seq and the disk before it."""
    root = world.root
    rec = Recorder(store)
    prompts: dict[str, int] = {}

    def ev(name: str, session: str, **kw: Any) -> Event:
        return Event(name, "claude", session, root, root, prompt_id=f"{session}-{prompts.get(session, 0)}", **kw)

    for session in ("A", "B"):
        rec.handle(ev("SessionStart", session))
        rec.handle(ev("UserPromptSubmit", session, prompt="go"))
    before: dict[str, dict[str, bytes]] = {}
    seqs: dict[str, int] = {}
    for n, (kind, session, edits) in enumerate(history):
        tid = f"t{n}"
        if kind == "person":
            # A person edits between prompts. (An edit made in the middle of a turn is found at
            # the next walk, and counts from then: a file tool's hook looks only at its own file.)
            for rel, how in edits:
                world.change(rel, how, "person")
            prompts[session] = prompts.get(session, 0) + 1
            rec.handle(ev("UserPromptSubmit", session, prompt=f"prompt {n}"))
            continue
        if kind == "write":
            edits = edits[:1]  # a file tool names one file
            inp: dict[str, Any] = {"file_path": os.path.join(root, edits[0][0]), "content": "..."}
            tool = "Write"
        else:
            inp = {"command": "..."}
            tool = "Bash"
        rec.handle(ev("PreToolUse", session, tool=tool, tool_input=inp, tool_use_id=tid))
        before[tid] = world.disk()
        for rel, how in edits:
            world.change(rel, how, tid)
        rec.handle(ev("PostToolUse", session, tool=tool, tool_input=inp, tool_use_id=tid))
        row = store.db.execute("SELECT seq FROM steps WHERE tool_use_id = ?", (tid,)).fetchone()
        seqs[tid] = int(row[0])
    for session in ("A", "B"):
        rec.handle(ev("Stop", session))
    return seqs, before


def _check_blame(store: Store, world: World, seqs: dict[str, int]) -> None:
    for rel, lines in world.files.items():
        got = blame(store, rel, world.root)
        assert [e["text"] for e in got] == [t for t, _ in lines]
        for entry, (_text, author) in zip(got, lines, strict=True):
            if author == "baseline":
                assert entry["origin"] == "baseline", entry
            elif author == "person":
                assert entry["origin"] == "external" and entry["step"] is not None, entry
            else:
                assert (entry["origin"], entry["seq"]) == ("agent", seqs[author]), (entry, author)


def _apply(store: Store, make: Any) -> tuple[ops.Plan, str | None, str | None]:
    return ops.execute(store, make, dry_run=False, confirm=None)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(action, min_size=1, max_size=7), pick=st.integers(0, 1000), revert_pick=st.integers(0, 1000))
def test_blame_rewind_revert_undo(history: list[Any], pick: int, revert_pick: int) -> None:
    root, store, world = _setup()
    try:
        seqs, before = _play(store, world, history)
        _check_blame(store, world, seqs)
        final = world.disk()
        if not seqs:
            return
        tids = sorted(seqs, key=seqs.__getitem__)

        # Rewind to a step, then undo.
        target = tids[pick % len(tids)]
        _, op, _ = _apply(store, lambda: ops.plan_rewind(store, seqs[target], "test"))
        assert world.disk() == before[target]
        assert (op is None) == (before[target] == final), "an operation exactly when something changes"
        if op is not None:
            _apply(store, lambda: ops.plan_undo(store))
        assert world.disk() == final
        _check_blame(store, world, seqs)

        # Revert one step.
        victim = tids[revert_pick % len(tids)]
        touched = {os.fsdecode(p) for (p,) in store.db.execute(
            "SELECT path FROM step_files WHERE step = ?", (seqs[victim],))}
        later = {os.fsdecode(p) for (p,) in store.db.execute(
            "SELECT path FROM step_files WHERE step > ?", (seqs[victim],))}
        plan, op, _ = _apply(store, lambda: ops.plan_revert(store, [seqs[victim]], "test"))
        if not touched & later:
            assert op is not None or not plan.changes
            expected = dict(final)
            for rel in touched:
                if rel in before[victim]:
                    expected[rel] = before[victim][rel]
                else:
                    expected.pop(rel, None)
            assert world.disk() == expected
        elif op is None:
            assert world.disk() == final, "a refused revert changes nothing"
        if op is not None:
            _apply(store, lambda: ops.plan_undo(store))
            assert world.disk() == final
        # Everything tether itself wrote, operations and attribution included, is in the journal.
        report = verify(store, objects=False)
        assert report.ok, report.problems
        store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
