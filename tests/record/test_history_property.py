"""Property: whatever happens to the workspace, the record adds up to the files on disk.

Random histories of agent file tools, shell commands and a person's edits are
played against a real store. Afterwards the known state equals the disk, and
replaying every step's changes from the baseline reproduces the disk exactly,
with each step's "before" equal to the previous step's "after".
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.record.objects import blob_oid
from tether.record.recorder import Recorder
from tether.record.snapshot import MODE_EXEC, MODE_FILE, MODE_LINK
from tether.record.store import Store
from tether.types import Event

PATHS = ["a.txt", "b.txt", "d/c.txt", "d/e/f.bin"]
CONTENTS = [b"", b"one\n", b"two\nlines\n", b"\x00\x01binary", "ünï\n".encode()]

fs_op = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(PATHS), st.sampled_from(CONTENTS)),
    st.tuples(st.just("delete"), st.sampled_from(PATHS), st.none()),
    st.tuples(st.just("chmod"), st.sampled_from(PATHS), st.none()),
    st.tuples(st.just("link"), st.sampled_from(PATHS), st.sampled_from([b"a.txt", b"/etc/hosts"])),
)
step = st.one_of(
    st.tuples(st.just("file-tool"), st.sampled_from(PATHS), st.sampled_from(CONTENTS)),
    st.tuples(st.just("shell"), st.lists(fs_op, min_size=1, max_size=3)),
    st.tuples(st.just("person"), st.lists(fs_op, min_size=1, max_size=2)),
    st.tuples(st.just("prompt"),),
)


def apply(root: str, op: tuple[str, str, bytes | None]) -> None:
    kind, rel, data = op
    path = os.path.join(root, rel)
    if kind == "delete":
        if os.path.lexists(path):
            os.unlink(path)
        return
    if kind == "chmod":
        if os.path.isfile(path) and not os.path.islink(path):
            os.chmod(path, os.stat(path).st_mode ^ 0o111)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    if kind == "link":
        os.symlink(data or b"", path)
    else:
        with open(path, "wb") as fh:
            fh.write(data or b"")


def disk_state(root: str) -> dict[bytes, tuple[str, int]]:
    out: dict[bytes, tuple[str, int]] = {}
    for rel in [*PATHS, ".gitignore"]:
        path = os.path.join(root, rel)
        if not os.path.lexists(path):
            continue
        st_ = os.lstat(path)
        if stat.S_ISLNK(st_.st_mode):
            out[rel.encode()] = (blob_oid(os.fsencode(os.readlink(path))), MODE_LINK)
        else:
            with open(path, "rb") as fh:
                mode = MODE_EXEC if st_.st_mode & 0o100 else MODE_FILE
                out[rel.encode()] = (blob_oid(fh.read()), mode)
    return out


def tree_state(store: Store, tree: str) -> dict[bytes, tuple[str, int]]:
    out = subprocess.run(["git", "--git-dir", store.objects.path, "ls-tree", "-r", "-z", tree],
                         capture_output=True, check=True).stdout
    state = {}
    for entry in out.split(b"\0"):
        if entry:
            meta, path = entry.split(b"\t", 1)
            mode, _kind, oid = meta.split(b" ")
            state[path] = (oid.decode(), int(mode, 8))
    return state


@settings(max_examples=int(os.environ.get("TETHER_PROPERTY_EXAMPLES", "25")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=8))
def test_the_record_adds_up_to_the_disk(history: list[tuple[Any, ...]]) -> None:
    tmp = tempfile.mkdtemp(prefix="tether-prop-")
    root = os.path.realpath(tmp)
    try:
        subprocess.run(["git", "init", "-q", root], check=True)
        apply(root, ("write", "a.txt", b"base\n"))
        apply(root, ("write", ".gitignore", b"*.log\n"))
        store = Store.open(root, create=True)
        rec = Recorder(store)
        rec.baseline("test")

        def ev(name: str, **kw: Any) -> Event:
            return Event(name=name, agent="claude", session_id="s", cwd=root, root=root, prompt_id="p", **kw)

        rec.handle(ev("SessionStart"))
        expected: dict[str, dict[bytes, tuple[str, int] | None]] = {}

        def did(tid: str, before: dict[bytes, tuple[str, int]], only: bytes | None = None) -> None:
            after = disk_state(root)
            expected[tid] = {p: after.get(p) for p in set(before) | set(after)
                             if before.get(p) != after.get(p) and (only is None or p == only)}

        for n, item in enumerate(history):
            if item[0] == "prompt":
                rec.handle(ev("UserPromptSubmit", prompt="next"))
            elif item[0] == "file-tool":
                inp = {"file_path": os.path.join(root, item[1]), "content": "x"}
                rec.handle(ev("PreToolUse", tool="Write", tool_input=inp, tool_use_id=f"t{n}"))
                before = disk_state(root)
                apply(root, ("write", item[1], item[2]))
                did(f"t{n}", before, item[1].encode())
                rec.handle(ev("PostToolUse", tool="Write", tool_input=inp, tool_use_id=f"t{n}"))
            elif item[0] == "shell":
                inp = {"command": "..."}
                rec.handle(ev("PreToolUse", tool="Bash", tool_input=inp, tool_use_id=f"t{n}"))
                before = disk_state(root)
                for op in item[1]:
                    apply(root, op)
                did(f"t{n}", before)
                rec.handle(ev("PostToolUse", tool="Bash", tool_input=inp, tool_use_id=f"t{n}"))
            else:
                for op in item[1]:
                    apply(root, op)
        rec.handle(ev("Stop"))

        disk = disk_state(root)
        db = store.db
        known = {p: (o, m) for p, o, m in db.execute("SELECT path, oid, mode FROM files WHERE oid IS NOT NULL")}
        assert known == disk

        (baseline_tree,) = db.execute("SELECT tree FROM baselines ORDER BY seq LIMIT 1").fetchone()
        state = tree_state(store, baseline_tree)
        for seq, path, old_oid, new_oid, old_mode, new_mode in db.execute(
                "SELECT step, path, old_oid, new_oid, old_mode, new_mode FROM step_files ORDER BY ord"):
            before = state.get(path)
            assert before == ((old_oid, old_mode) if old_oid else None), f"step {seq} {path!r}: broken chain"
            if new_oid is None:
                state.pop(path, None)
            else:
                assert store.objects.has(new_oid)
                state[path] = (new_oid, new_mode)
        assert state == disk
        # Each agent step holds exactly what its tool did: no more (a person's edit) and no less.
        for tid, want in expected.items():
            got = {p: ((o, m) if o else None) for p, o, m in db.execute(
                "SELECT f.path, f.new_oid, f.new_mode FROM step_files f JOIN steps s ON s.seq = f.step "
                "WHERE s.tool_use_id = ?", (tid,))}
            assert got == want, f"step {tid}"
        # Only the person's edits are external, and every agent step belongs to the prompt.
        for origin, prompt in db.execute("SELECT origin, prompt FROM steps"):
            assert (origin == "agent") == (prompt == "p")
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
