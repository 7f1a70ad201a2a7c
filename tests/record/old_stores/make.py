"""Make a store with an older commit's own code and keep it as a fixture of test_old_stores.py.

    git archive COMMIT | tar -x -C /tmp/tether-COMMIT
    PYTHONPATH=/tmp/tether-COMMIT .venv/bin/python tests/record/old_stores/make.py COMMIT

plays one session through that commit's hook entry (_record: the guard of some of those
commits was not there yet, so decisions are given here), with a Write, a shell step, a
denied call, a person's edit and an Edit; rewinds the Edit as `tether rewind --yes` does
where the commit has operations; then writes tests/record/old_stores/COMMIT.json: the
schema version, the database as SQL statements (sqlite3's iterdump) and every object of
the object store.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def main(commit: str) -> None:
    import tether

    old = os.environ.get("PYTHONPATH", "")
    assert old and tether.__file__ and tether.__file__.startswith(old), f"tether comes from {tether.__file__}"
    label = subprocess.run(["git", "-C", str(HERE), "log", "-1", "--date=short", "--format=%h %ad %s", commit],
                           check=True, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.realpath(tmp)
        fixture = play(root)
    fixture = {"made_by": label, **fixture}
    (HERE / f"{commit}.json").write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"{commit}.json: schema {fixture['user_version']}, {len(fixture['sql'])} statements, "
          f"{len(fixture['objects'])} objects")


def play(root: str) -> dict[str, Any]:
    from tether import hook
    from tether.agents import claude
    from tether.record.store import Store
    from tether.types import Decision

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                       check=True, capture_output=True)

    def put(rel: str, text: str) -> None:
        path = Path(root, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    git("init", "-q", "-b", "main")
    put(".gitignore", "*.log\n")
    put("README.md", "# demo\n")
    put("src/app.py", "def main():\n    return 1\n")
    git("add", "-A")
    git("commit", "-qm", "initial")
    try:
        from tether import setup

        setup.init(root, "claude")
        created = "setup.init"
    except ImportError:
        # `tether init` of some of these commits imports a guard they did not have yet.
        from tether.record.recorder import Recorder

        store = Store.open(root, create=True)
        Recorder(store).baseline("tether init")
        store.close()
        created = "Store.open(create=True) and Recorder.baseline, as that commit's init does"

    calls = 0

    def send(name: str, decision: Any = None, **payload: Any) -> None:
        ev = claude.parse({"hook_event_name": name, "session_id": "old-session", "cwd": root, **payload}, name)
        hook._record(ev, decision, None)

    def tool(name: str, tool_input: dict[str, Any], *effects: tuple[str, str], decision: Any = None) -> None:
        nonlocal calls
        calls += 1
        tid = f"toolu_{calls:02d}"
        send("PreToolUse", decision, tool_name=name, tool_input=tool_input, tool_use_id=tid)
        if decision is not None:
            return
        for rel, text in effects:
            put(rel, text)
        send("PostToolUse", tool_name=name, tool_input=tool_input, tool_use_id=tid, tool_response={"ok": True})

    hello = os.path.join(root, "src", "hello.py")
    send("SessionStart", source="startup")
    send("UserPromptSubmit", prompt="add a greeting and tidy the readme; my token is ghp_" + "a" * 36)
    tool("Write", {"file_path": hello, "content": "def hello():\n    return 'hi'\n"},
         ("src/hello.py", "def hello():\n    return 'hi'\n"))
    tool("Bash", {"command": "sed -i s/demo/Demo/ README.md && echo notes > notes.txt"},
         ("README.md", "# Demo\n"), ("notes.txt", "notes\n"))
    tool("Bash", {"command": "rm -rf /"},
         decision=Decision("deny", ["deletes everything"], ["destructive"], ["fs.rm.root"]))
    send("Stop")
    put("src/app.py", "def main():\n    return 2  # a person's edit\n")
    send("UserPromptSubmit", prompt="make hello louder")
    tool("Edit", {"file_path": hello, "old_string": "'hi'", "new_string": "'HI'"},
         ("src/hello.py", "def hello():\n    return 'HI'\n"))
    send("Stop")

    store = Store.open(root)
    if store.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'operations'").fetchone():
        from tether.history import operations as ops

        (seq,) = store.db.execute("SELECT seq FROM steps WHERE tool = 'Edit'").fetchone()
        # What `tether rewind SEQ --yes -m "too loud"` does (the CLI of some of these commits cannot start).
        sys.argv = ["tether", "rewind", str(seq), "--yes", "-m", "too loud"]
        plan, op, step = ops.execute(store, lambda: ops.plan_rewind(store, seq, f"to before step {seq}"),
                                     dry_run=False, confirm=lambda plan: True, reason="too loud")
        assert op and step and plan.changes
    store.close()
    send("SessionEnd", reason="exit")

    store = Store.for_root(root)
    db = sqlite3.connect(store.db_path)
    (version,) = db.execute("PRAGMA user_version").fetchone()
    sql = [stmt for stmt in db.iterdump() if stmt not in ("BEGIN TRANSACTION;", "COMMIT;")]
    db.close()
    objects = {}
    folder = Path(store.path, "objects.git", "objects")
    for loose in sorted(folder.glob("[0-9a-f][0-9a-f]/*")):
        header, _, body = zlib.decompress(loose.read_bytes()).partition(b"\0")
        objects[loose.parent.name + loose.name] = [header.split(b" ")[0].decode(), base64.b64encode(body).decode()]
    return {"created_by": created, "user_version": version, "sql": sql, "objects": objects}


if __name__ == "__main__":
    main(sys.argv[1])
