"""Change notification: the paths that changed in a workspace since its last walk.

The daemon gives each workspace it records a ``Watcher`` (inotify on Linux, through
inotify_simple), registered with tether.record.snapshot as the workspace's change source.
A walk then looks only at the paths the kernel reported instead of every file.

The invariant: a walk may use the watcher's paths only if every change since the walk
before it is among them. So:

- Each event gets a sequence number; a walk records, in the same transaction as what it
  found, the mark ``<watcher id>:<seq>`` it walked up to (``meta.watch_mark``). A walk whose
  transaction rolls back leaves the old mark, so its paths are looked at again.
- Before answering, the queue is drained (inotify events are queued when the change is
  made, before the writing call returns), so nothing made before the walk is missed.
- Whatever could hide a change makes the next walk a full one: a mark of another watcher
  (the daemon restarted; a hook that worked in-process leaves the mark alone, which is
  fine: the paths since it are still all here), the kernel's queue overflowing, a watch that
  could not be added (the user's watch limit), a directory moved (its watches' names are
  stale), a change to a .gitignore.
- Folders git ignores are not watched (node_modules would use up the watch limit); a file
  that appears in a watched folder is checked against .gitignore by the walk.
"""

from __future__ import annotations

import os
import threading

from tether.record import snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from inotify_simple import INotify

_MASK = 0
_LOCK = threading.Lock()
_WATCHERS: dict[str, Watcher | None] = {}
# How often the background drain empties the kernel's queues between walks.
DRAIN_SECONDS = 0.5


class Watcher(snapshot.ChangeSource):
    def __init__(self, root: str) -> None:
        from inotify_simple import INotify, flags

        self.root = root
        self.id = os.urandom(6).hex()
        self.lock = threading.Lock()
        self.seq = 0
        self.changed: dict[bytes, int] = {}
        self.full_after = 0  # a walk from a mark below this must be full
        self.broken = False
        self.wds: dict[int, bytes] = {}
        self.fd: INotify = INotify(nonblocking=True)
        self.f = flags
        self.mask = (flags.CREATE | flags.DELETE | flags.MODIFY | flags.CLOSE_WRITE | flags.ATTRIB
                     | flags.MOVED_FROM | flags.MOVED_TO | flags.DELETE_SELF | flags.MOVE_SELF
                     | flags.DONT_FOLLOW | flags.ONLYDIR)
        from tether.record.store import Store

        # Walks ask git with the store's object database as the git directory: the same here.
        self.git_dir = Store.for_root(root).objects.path
        self._watch_tree(b"")

    # -- watches ------------------------------------------------------------------

    def _add(self, full: bytes, rel: bytes | None = None) -> None:
        try:
            wd = self.fd.add_watch(full, self.mask)
        except OSError:
            # ENOSPC: the watch limit (fs.inotify.max_user_watches); or the folder went away.
            # Either way this folder's changes would go unseen: walks are full from now on.
            if os.path.isdir(full):
                self.broken = True
            return
        self.wds[wd] = rel or b""

    def _watch_tree(self, top: bytes) -> None:
        """Watch ``top`` (relative, b"" for the root) and every folder under it that git does not ignore."""
        root = os.fsencode(self.root)
        level = [top]
        while level:
            for rel in level:
                self._add(os.path.join(root, rel) if rel else root, rel)
            below: list[bytes] = []
            for rel in level:
                try:
                    entries = os.scandir(os.path.join(root, rel) if rel else root)
                except OSError:
                    continue
                with entries:
                    for e in entries:
                        if e.name == b".git":
                            continue
                        if e.is_dir(follow_symlinks=False):
                            child = rel + b"/" + e.name if rel else e.name
                            if not os.path.lexists(os.path.join(root, child, b".git")):
                                below.append(child)
            level = sorted(set(below) - set(self._ignored(below)))

    def _ignored(self, rels: list[bytes]) -> list[bytes]:
        if not rels:
            return []
        from tether.record import gitcmd

        res = gitcmd.run(self.git_dir, ["check-ignore", "-z", "--stdin", "--no-index"],
                         work_tree=self.root, input=b"\0".join(r + b"/" for r in rels) + b"\0", check=False)
        if res.returncode not in (0, 1):
            return []
        return [p.rstrip(b"/") for p in res.stdout.split(b"\0") if p]

    # -- events -------------------------------------------------------------------

    def drain(self) -> None:
        with self.lock:
            f = self.f
            while True:
                try:
                    events = self.fd.read(timeout=0)
                except OSError:
                    self.broken = True
                    return
                if not events:
                    return
                for ev in events:
                    self.seq += 1
                    if ev.mask & f.Q_OVERFLOW:
                        self.full_after = self.seq
                        continue
                    base = self.wds.get(ev.wd)
                    if base is None:
                        continue
                    name = os.fsencode(ev.name)
                    if ev.mask & (f.DELETE_SELF | f.MOVE_SELF | f.IGNORED) and not name:
                        if ev.mask & f.MOVE_SELF:
                            self.full_after = self.seq
                        self.wds.pop(ev.wd, None)
                        continue
                    if not name:
                        continue
                    rel = base + b"/" + name if base else name
                    if name == b".gitignore":
                        self.full_after = self.seq
                    self.changed[rel] = self.seq
                    if ev.mask & f.ISDIR:
                        if ev.mask & (f.MOVED_FROM | f.MOVED_TO):
                            # Watches under a moved folder keep their old names.
                            self.full_after = self.seq
                        if ev.mask & (f.CREATE | f.MOVED_TO) and name != b".git":
                            self._watch_tree(rel)

    def since(self, mark: str | None) -> tuple[str, set[bytes]] | None:
        """(the mark to record, the paths changed since ``mark``), or None: walk everything."""
        self.drain()
        with self.lock:
            now = f"{self.id}:{self.seq}"
            if self.broken or not mark or not mark.startswith(self.id + ":"):
                return None
            seq = int(mark.split(":", 1)[1])
            if seq < self.full_after:
                return None
            # Everything up to the recorded mark was walked and committed: forget it.
            self.changed = {p: s for p, s in self.changed.items() if s > seq}
            return now, set(self.changed)

    def mark(self) -> str:
        """The mark of "now", taken before a full walk: what changes during it is looked at again."""
        self.drain()
        with self.lock:
            return f"{self.id}:{self.seq}"

    def close(self) -> None:
        self.fd.close()


def source_for(root: str) -> Watcher | None:
    """The watcher of a workspace, started on first use; None where none can be had."""
    with _LOCK:
        if root in _WATCHERS:
            return _WATCHERS[root]
        watcher: Watcher | None
        try:
            watcher = Watcher(root)
        except (ImportError, OSError):
            watcher = None  # not Linux, or no inotify: full walks, as without the daemon
        _WATCHERS[root] = watcher
        return watcher


def _background(stop: threading.Event) -> None:
    while not stop.wait(DRAIN_SECONDS):
        with _LOCK:
            watchers = [w for w in _WATCHERS.values() if w is not None]
        for w in watchers:
            w.drain()


_STOP = threading.Event()


def install() -> None:
    """Let this process's walks use watchers (the daemon calls this once at start)."""
    _STOP.clear()
    snapshot.change_source = source_for
    threading.Thread(target=_background, args=(_STOP,), daemon=True).start()


def uninstall() -> None:
    """Stop every watch."""
    _STOP.set()
    snapshot.change_source = None
    with _LOCK:
        for w in _WATCHERS.values():
            if w is not None:
                w.close()
        _WATCHERS.clear()
