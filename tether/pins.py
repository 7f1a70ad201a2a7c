"""Tamper evidence: the policy and the agent's hook settings, pinned as a person accepted them.

The guard decides what the agent asks to do and the sandbox confines what the code it runs
can do; whatever gets past both and changes the policy or the hook settings is caught here.
Only tether's own commands pin (``tether init``, ``tether policy accept``, ``tether
uninstall``); every hook call compares, and a PreToolUse call is denied while anything
differs from what was accepted (docs/policy.md, "Tamper evidence").

What is pinned, per file (paths relative to the workspace root):

- ``.tether/policy.toml``: its bytes.
- ``.claude/settings.local.json`` and ``.claude/settings.json``: the part that can loosen the
  guard or the sandbox (``claude.pinned_view``: hooks, permission rules other than "allow",
  the sandbox, ``disableAllHooks``, ``env``). Claude Code itself writes "allow" rules there
  when a person says "don't ask again", and an allow rule cannot override tether's deny.

Layout in the store folder::

    pins.json   {"version": 1,
                 "files": {PATH: {"digest": "sha256:HEX" | null, "stat": [size, mtime_ns,
                                  ctime_ns, inode] | null}},
                 "hooks": [EVENT, ...]}   # the events tether's hooks were installed for

``digest`` is null for a file that was absent (or, for settings, held nothing pinned). The
stat is a cache key: while a file's size, modification time, change time and inode are
what was pinned, it is not read at all; ctime, which no program can set, catches an edit
that put the old size and mtime back. The accepted contents, which ``tether policy accept``
diffs against, are kept in the store's database (meta ``pins.accepted``), so the hook reads
one small file; that row also tells a store pinned once (a pins.json that then disappears
is a change) from a store made before pins existed (pinned on first use).

Imports are kept to the core and the agent module on the hook's path: this runs on every
tool call.
"""

from __future__ import annotations

import os
import stat

from tether import fastjson, workspace
from tether.agents import claude

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tether.record.store import Store

PINS_NAME = "pins.json"
ACCEPTED_KEY = "pins.accepted"
POLICY = os.path.join(workspace.POLICY_DIR, workspace.POLICY_FILE)
SETTINGS_FILES = (claude.LOCAL_SETTINGS, claude.SETTINGS)
FILES = (POLICY, *SETTINGS_FILES)
_VERSION = 1
ACCEPT_HINT = "a person must review the change and run `tether policy accept`"


# -- what a file pins -----------------------------------------------------------


def _stat_key(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


# What a path that is not a regular file (a fifo, a folder) reads as: never a file's content,
# and reading a fifo would wait for a writer.
_NOT_A_FILE = b"\0(not a regular file)"


def _read(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return _NOT_A_FILE
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _sha256(data: bytes) -> str:
    from tether.record.digest import sha256

    return "sha256:" + sha256(data).hexdigest()


def settings_view(data: bytes | None) -> dict[str, Any]:
    """The pinned part of a settings file's bytes ({} when absent or empty)."""
    if data is None or not data.strip():
        return {}
    try:
        parsed = fastjson.loads(data)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        # Claude Code cannot read it either; pin the text, so that any change shows.
        return {"(not a JSON object)": data.decode("utf-8", "replace")}
    return claude.pinned_view(parsed)


def _accepted_form(rel: str, data: bytes | None) -> tuple[str | None, Any]:
    """(digest, what `policy accept` diffs) of one file's bytes."""
    if rel == POLICY:
        if data is None:
            return None, None
        return _sha256(data), data.decode("utf-8", "replace")
    view = settings_view(data)
    if not view:
        return None, None
    return _sha256(fastjson.dumps(view, sort_keys=True).encode()), view


def _current(root: str, rel: str) -> tuple[list[int] | None, str | None, Any]:
    """(stat key, digest, accepted form) of a file as it is now, read consistently."""
    path = os.path.join(root, rel)
    for _ in range(5):
        before = _stat_key(path)
        data = _read(path)
        after = _stat_key(path)
        if before == after:
            return (after, *_accepted_form(rel, data))
    # Still being written: no stat is cached, so the next check reads it again.
    return (None, *_accepted_form(rel, _read(path)))


# -- pinning (tether's commands only) ----------------------------------------------


def pin(store: Store) -> dict[str, Any]:
    """Pin the policy and the hook settings as they are now; returns what was pinned.

    Called by ``tether init`` (after it merged its settings), ``tether policy accept`` and
    ``tether uninstall``, and once by the hook for a store made before pins existed.
    """
    from tether.fsutil import atomic_write

    root = store.root
    files: dict[str, Any] = {}
    accepted: dict[str, Any] = {}
    for rel in FILES:
        key, digest, form = _current(root, rel)
        files[rel] = {"digest": digest, "stat": key}
        accepted[rel] = form
    pins = {"version": _VERSION, "files": files, "hooks": sorted(_tether_events(root))}
    # The database row first: a crash in between leaves pins.json missing on a store that
    # says it was pinned, which blocks rather than re-pins whatever is there next time.
    with store.transaction():
        store.set_meta(ACCEPTED_KEY, fastjson.dumps(accepted, sort_keys=True))
    atomic_write(os.path.join(store.path, PINS_NAME), fastjson.dumps(pins, sort_keys=True).encode())
    return pins


def _tether_events(root: str) -> set[str]:
    """The events tether's hooks are installed for in the settings as they are now."""
    found: set[str] = set()
    for rel in SETTINGS_FILES:
        data = _read(os.path.join(root, rel))
        try:
            parsed = fastjson.loads(data) if data and data.strip() else None
        except ValueError:
            continue
        if isinstance(parsed, dict):
            found |= claude.hook_events(parsed)
    return found


# -- comparing (every hook call) ---------------------------------------------------


def _load_pins(store_path: str) -> dict[str, Any] | None:
    data = _read(os.path.join(store_path, PINS_NAME))
    if data is None:
        return None
    pins = fastjson.loads(data)
    if not isinstance(pins, dict) or pins.get("version") != _VERSION or not isinstance(pins.get("files"), dict):
        raise ValueError(f"{os.path.join(store_path, PINS_NAME)} is not a pins file")
    return pins


def changes(root: str, pins: dict[str, Any]) -> dict[str, str]:
    """{path: "changed" | "missing"} for each pinned file that differs from its pin."""
    found: dict[str, str] = {}
    for rel in FILES:
        pinned = pins["files"].get(rel)
        if not isinstance(pinned, dict):
            found[rel] = "changed"
            continue
        key = _stat_key(os.path.join(root, rel))
        if key is not None and key == pinned.get("stat"):
            continue
        if key is None and pinned.get("stat") is None:
            continue
        _, digest, _ = _current(root, rel)
        if digest != pinned.get("digest"):
            found[rel] = "missing" if key is None else "changed"
    return found


def guard(root: str, store_path: str) -> str | None:
    """Why a tool call must be denied because the pins do not hold, or None.

    A store made before pins existed is pinned here, on first use (trust on first use, as
    ssh does with host keys); refusing instead would lock every upgraded workspace until a
    person ran `tether policy accept`. A store that was pinned once and lost its pins file
    is a change. Raises on anything unexpected; the hook then blocks the call.
    """
    if not os.path.isfile(os.path.join(store_path, "tether.db")):
        return None  # not set up here: nothing was accepted, and the hook records nothing
    pins = _load_pins(store_path)
    if pins is None:
        from tether.record.store import Store

        store = Store(root, store_path)
        try:
            if store.meta(ACCEPTED_KEY) is None:
                pin(store)
                return None
        finally:
            store.close()
        return (f"tether's pins of the accepted policy and hook settings are gone from its store "
                f"({os.path.join(store_path, PINS_NAME)}), so every call is blocked; {ACCEPT_HINT}")
    found = changes(root, pins)
    if not found:
        return None
    return describe(found) + f", so every call is blocked; {ACCEPT_HINT}"


def describe(found: dict[str, str]) -> str:
    """One phrase naming the files that differ from what was accepted."""
    parts = [f"{rel} was {'deleted' if how == 'missing' else 'changed'}" for rel, how in found.items()]
    return "; ".join(parts) + " since it was last accepted"


def report(root: str, store_path: str) -> list[str]:
    """What a Stop or SessionEnd hook reports: tether hooks that vanished, files that changed."""
    pins = _load_pins(store_path)
    if pins is None:
        return []
    out = []
    vanished = sorted(set(pins.get("hooks") or ()) - _tether_events(root))
    if vanished:
        out.append(f"tether's hooks for {', '.join(vanished)} vanished from the agent's settings "
                   "during the session: the guard or the record no longer sees those events; "
                   "run `tether init` to put them back, then `tether policy accept`")
    found = changes(root, pins)
    if found:
        out.append(describe(found) + f"; {ACCEPT_HINT}")
    return out


def state(root: str, store_path: str) -> dict[str, Any]:
    """``tether status``'s "pins": {"policy", "settings": "ok"|"changed"|"missing"|"unpinned",
    "changed_files": [path]}."""
    try:
        pins = _load_pins(store_path)
    except ValueError:
        pins = {"files": {}}
    if pins is None:
        return {"policy": "unpinned", "settings": "unpinned", "changed_files": []}
    found = changes(root, pins)

    def of(names: tuple[str, ...]) -> str:
        hows = {found[n] for n in names if n in found}
        return "changed" if "changed" in hows else ("missing" if hows else "ok")

    return {"policy": of((POLICY,)), "settings": of(SETTINGS_FILES), "changed_files": sorted(found)}


# -- accepting ---------------------------------------------------------------------


def pending(store: Store) -> tuple[dict[str, str], str, dict[str, str | None]]:
    """What `tether policy accept` shows: ({path: how}, a unified diff against what was
    accepted, {path: digest now}), the digests so that accept pins what was shown."""
    import difflib
    import json

    root = store.root
    raw = store.meta(ACCEPTED_KEY)
    accepted: dict[str, Any] = fastjson.loads(raw) if raw else {}
    try:
        pins = _load_pins(store.path) or {"files": {}}
    except ValueError:
        pins = {"files": {}}
    found = changes(root, pins)
    text: list[str] = []
    digests: dict[str, str | None] = {}
    for rel in FILES:
        _, digest, now = _current(root, rel)
        digests[rel] = digest
        if rel not in found:
            continue
        before = accepted.get(rel)

        def lines(form: Any) -> list[str]:
            if form is None:
                return []
            if isinstance(form, str):
                return form.splitlines(keepends=True)
            return (json.dumps(form, indent=2, sort_keys=True, ensure_ascii=False) + "\n").splitlines(keepends=True)

        label = rel if rel == POLICY else f"{rel} (the hooks, rules and sandbox settings tether pins)"
        diff = list(difflib.unified_diff(lines(before), lines(now), f"accepted: {label}", f"now: {label}"))
        if not diff:
            diff = [f"--- accepted: {label}\n+++ now: {label}\n(no earlier copy to compare with)\n"]
        text.extend(d if d.endswith("\n") else d + "\n" for d in diff)
    return found, "".join(text), digests


def accept(store: Store, shown: dict[str, str | None]) -> dict[str, Any]:
    """Pin what is there now, provided it is what was shown (``pending``'s digests)."""
    from tether.errors import TetherError

    for rel in FILES:
        _, digest, _ = _current(store.root, rel)
        if digest != shown.get(rel):
            raise TetherError(f"{rel} changed again while you were reviewing it; nothing was accepted")
    return pin(store)
