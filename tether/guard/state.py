"""The guard's per-workspace state: the mode (normal or investigate) and the active task scope.

Kept as a small JSON file in the store folder, outside the files the agent
works on; the default policy denies tool calls that write there. Writes are
atomic (``tether.fsutil.atomic_write``) so a crash never leaves half a
file, and a file that cannot be read raises rather than silently dropping a
mode or scope that should apply.
"""

from __future__ import annotations

import os
import time

from tether.errors import StoreError, TetherError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATE_FILE = "guard-state.json"
MODES = ("normal", "investigate")


class Task:
    """A task scope: what the session is for, which paths it may change, which commands it may run."""

    __slots__ = ("allow_cmds", "id", "intent", "scope", "started")

    def __init__(self, task_id: str, intent: str, scope: list[str], allow_cmds: list[str],
                 started: str) -> None:
        self.id = task_id
        self.intent = intent
        self.scope = scope
        self.allow_cmds = allow_cmds
        self.started = started

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "intent": self.intent, "scope": list(self.scope),
                "allow_cmds": list(self.allow_cmds), "started": self.started}

    @classmethod
    def from_json(cls, data: Any) -> Task:
        if not isinstance(data, dict):
            raise ValueError("task is not an object")
        scope = data.get("scope", [])
        allow = data.get("allow_cmds", [])
        if not (isinstance(data.get("id"), str) and isinstance(data.get("intent"), str)
                and isinstance(scope, list) and all(isinstance(s, str) for s in scope)
                and isinstance(allow, list) and all(isinstance(s, str) for s in allow)):
            raise ValueError("task has missing or mistyped fields")
        return cls(data["id"], data["intent"], scope, allow, str(data.get("started", "")))


class GuardState:
    __slots__ = ("mode", "task")

    def __init__(self, mode: str = "normal", task: Task | None = None) -> None:
        self.mode = mode
        self.task = task

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, "mode": self.mode, "task": self.task.to_json() if self.task else None}


def state_path(store: str) -> str:
    return os.path.join(store, STATE_FILE)


def _store(root: str, store: str | None) -> str:
    if store is not None:
        return store
    from tether.workspace import store_dir

    return store_dir(root)


_cache: dict[str, tuple[tuple[int, int], GuardState]] = {}


def load(root: str, store: str | None = None) -> GuardState:
    """The state for a workspace; the default (normal mode, no task) when none was saved."""
    path = state_path(_store(root, store))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return GuardState()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the guard state: {exc.strerror}") from exc
    key = (st.st_mtime_ns, st.st_size)
    hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    from tether import fastjson

    try:
        with open(path, "rb") as fh:
            data = fastjson.loads(fh.read())
        mode = data.get("mode", "normal")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        task = Task.from_json(data["task"]) if data.get("task") else None
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
        raise StoreError(f"{path}: the guard state is unreadable ({exc}); delete the file to "
                         "reset the mode and task") from exc
    state = GuardState(mode, task)
    _cache[path] = (key, state)
    return state


def save(root: str, state: GuardState, store: str | None = None) -> None:
    import json

    from tether.fsutil import atomic_write

    folder = _store(root, store)
    path = state_path(folder)
    try:
        os.makedirs(folder, exist_ok=True)
        atomic_write(path, (json.dumps(state.to_json(), indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise StoreError(f"{path}: cannot save the guard state: {exc.strerror}") from exc
    _cache.pop(path, None)


def set_mode(root: str, mode: str, store: str | None = None) -> GuardState:
    if mode not in MODES:
        raise TetherError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
    state = load(root, store)
    state = GuardState(mode, state.task)
    save(root, state, store)
    return state


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def normalise_scope(root: str, cwd: str, entries: list[str]) -> list[str]:
    """Scope entries as paths relative to the root (globs kept); entries outside the root are refused."""
    out: list[str] = []
    for raw in entries:
        for entry in (e.strip() for e in raw.split(",")):
            if not entry:
                continue
            path = os.path.expanduser(entry)
            if not os.path.isabs(path):
                path = os.path.join(cwd, path)
            path = os.path.normpath(path)
            rel = os.path.relpath(path, root)
            if rel == ".":
                rel = ""
            if rel.startswith(".."):
                raise TetherError(f"scope {entry!r} is outside the workspace {root}")
            out.append(rel.replace(os.sep, "/"))
    if not out:
        raise TetherError("a task needs at least one --scope path")
    return out


def start_task(root: str, intent: str, scope: list[str], allow_cmds: list[str],
               store: str | None = None, cwd: str | None = None) -> Task:
    if not intent.strip():
        raise TetherError("a task needs an intent, e.g. tether task start \"fix the login button\" --scope src/ui")
    task = Task("task-" + os.urandom(6).hex(), intent.strip(),
                normalise_scope(root, cwd or root, scope), [c for c in allow_cmds if c.strip()],
                _now())
    state = load(root, store)
    save(root, GuardState(state.mode, task), store)
    return task


def end_task(root: str, store: str | None = None) -> Task | None:
    state = load(root, store)
    if state.task is None:
        return None
    save(root, GuardState(state.mode, None), store)
    return state.task


def active_task(root: str, store: str | None = None) -> Task | None:
    """The active task (the recorder tags steps with its id), or None."""
    return load(root, store).task
