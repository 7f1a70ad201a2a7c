"""Finding what changed in the workspace, cheaply.

Two ways, chosen by the tool:

- ``record_file``: a tool that names its file (Write, Edit, NotebookEdit). Only
  that path is looked at: one lstat, one read, one hash, in-process.
- ``walk``: any other tool (Bash, MCP tools, ...) and every point where a person
  may have edited files. ``git add -A`` against a private index in the store is
  the stat cache: git lstat()s every file in parallel, honours .gitignore, and
  re-reads only the files whose stat changed, storing them as blobs. The index
  is turned into a tree, and the tree compared with the previous walk's tree.

The ``files`` table is the known state of the workspace. Single-file records
update it directly and mark the path dirty; the next walk compares each dirty path
that git saw no change in with the file itself, so a change is reported once, by
whoever saw it first.
Every function here must run with the store locked and inside one transaction.
"""

from __future__ import annotations

import os
import stat

from tether.errors import StoreError
from tether.record.objects import EMPTY_TREE
from tether.record.store import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

    from tether.types import Change

MODE_FILE = 0o100644
MODE_EXEC = 0o100755
MODE_LINK = 0o120000
MODE_GITLINK = 0o160000

_STREAM_ABOVE = 32 << 20


class ChangeSource:
    """What a walk may ask a watcher (tether.daemon.watch.Watcher implements it)."""

    def since(self, mark: str | None) -> tuple[str, set[bytes]] | None:
        """(mark of now, every path changed since ``mark``), or None: walk everything."""
        raise NotImplementedError

    def mark(self) -> str:
        """The mark of now, taken before a full walk."""
        raise NotImplementedError


# Set by the daemon: the change source of a workspace root, or None. A process without
# one (a hook working in-process) walks everything, as it always did.
change_source: Callable[[str], ChangeSource | None] | None = None


class FileChange:
    """One path's change: its state before (oid, mode) and after; None for absent."""

    __slots__ = ("change", "new_mode", "new_oid", "old_mode", "old_oid", "path")

    def __init__(self, path: bytes, change: Change, old_oid: str | None, new_oid: str | None,
                 old_mode: int | None, new_mode: int | None) -> None:
        self.path = path
        self.change = change
        self.old_oid = old_oid
        self.new_oid = new_oid
        self.old_mode = old_mode
        self.new_mode = new_mode

    def _key(self) -> tuple[object, ...]:
        return (self.path, self.change, self.old_oid, self.new_oid, self.old_mode, self.new_mode)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileChange) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"FileChange({self.path!r}, {self.change!r})"

    @property
    def name(self) -> str:
        return os.fsdecode(self.path)


def _kind(old: str | None, new: str | None) -> Change:
    if old is None:
        return "added"
    if new is None:
        return "deleted"
    return "modified"


def git_mode(st: os.stat_result) -> int | None:
    """The git mode of a file as lstat sees it; None for what git does not store."""
    if stat.S_ISLNK(st.st_mode):
        return MODE_LINK
    if stat.S_ISREG(st.st_mode):
        return MODE_EXEC if st.st_mode & 0o100 else MODE_FILE
    return None


class Snapshot:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- single files --------------------------------------------------------

    def _git(self, args: list[str], **kw: object) -> bytes:
        from tether.record import gitcmd

        res = gitcmd.run(self.store.objects.path, args, work_tree=self.store.root,
                         index=self.store.index_path, **kw)  # type: ignore[arg-type]
        return res.stdout

    def is_ignored(self, rel: bytes) -> bool:
        from tether.record import gitcmd

        res = gitcmd.run(self.store.objects.path, ["check-ignore", "-q", "--no-index", "--", os.fsdecode(rel)],
                         work_tree=self.store.root, index=self.store.index_path, check=False)
        return res.returncode == 0

    def _store_path(self, full: bytes) -> tuple[str | None, int | None]:
        """Write one workspace path into the object store: (oid, mode), or (None, None) if absent."""
        try:
            st = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            return None, None
        mode = git_mode(st)
        if mode is None:
            return None, None
        if mode == MODE_LINK:
            return self.store.objects.write_blob(os.readlink(full)), mode
        if st.st_size > _STREAM_ABOVE:
            # Large files go through git, which streams them instead of holding them in memory.
            from tether.record import gitcmd

            out = gitcmd.run(self.store.objects.path, ["hash-object", "-w", "--no-filters", "--",
                                                       os.fsdecode(full)])
            return out.stdout.decode("ascii").strip(), mode
        with open(full, "rb") as fh:
            data = fh.read()
        return self.store.objects.write_blob(data), mode

    def disk_state(self, root: bytes, rel: bytes) -> tuple[str | None, int | None]:
        """(oid, mode) of a workspace path as it is on disk, storing its content."""
        return self._store_path(os.path.join(root, rel))

    def _unseen(self, rel: bytes) -> bool:
        """A path no walk would see: inside a .git folder or a nested repository."""
        parts = rel.split(b"/")
        if b".git" in parts:
            return True
        root = os.fsencode(self.store.root)
        return any(os.path.lexists(os.path.join(root, *parts[:i], b".git")) for i in range(1, len(parts)))

    def record_file(self, db: sqlite3.Connection, rel: bytes, *, new_only_if_tracked: bool = True,
                    ) -> FileChange | None:
        """Bring one path's known state up to date; the change, if there was one."""
        if self._unseen(rel):
            return None
        row = db.execute("SELECT oid, mode FROM files WHERE path = ?", (rel,)).fetchone()
        known_oid, known_mode = (row[0], row[1]) if row else (None, None)
        oid, mode = self._store_path(os.path.join(os.fsencode(self.store.root), rel))
        if (oid, mode) == (known_oid, known_mode):
            return None
        if known_oid is None and oid is not None and new_only_if_tracked and self.is_ignored(rel):
            # A walk would never see this file: keep the known state in step with walks.
            return None
        if row:
            db.execute("UPDATE files SET oid = ?, mode = ?, dirty = 1 WHERE path = ?", (oid, mode, rel))
        else:
            db.execute("INSERT INTO files(path, oid, mode, dirty) VALUES (?, ?, ?, 1)", (rel, oid, mode))
        return FileChange(rel, _kind(known_oid, oid), known_oid, oid, known_mode, mode)

    # -- whole workspace ---------------------------------------------------------

    def _index_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.store.index_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def walk(self, db: sqlite3.Connection, defer: set[bytes] | frozenset[bytes] = frozenset(),
             ) -> list[FileChange]:
        """Compare the workspace with the known state and record the differences.

        Paths in ``defer`` belong to a running call of another session: what the walk
        saw of them is noted, but the change is left for that call to record.
        With a change source (the daemon's watcher) that can vouch for every change since
        the last walk, only the paths it names are looked at; otherwise every file.
        """
        source = change_source(self.store.root) if change_source is not None else None
        if source is None:
            return self._walk_all(db, defer)
        got = source.since(self._meta(db, "watch_mark"))
        if got is None:
            mark = source.mark()
            changes = self._walk_all(db, defer)
        else:
            mark, paths = got
            changes = self._walk_paths(db, paths, defer)
        # In the walk's own transaction: a walk rolled back is a walk not made.
        db.execute("INSERT INTO meta(key, value) VALUES ('watch_mark', ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (mark,))
        return changes

    def _candidates(self, db: sqlite3.Connection, paths: set[bytes]) -> set[bytes]:
        """The files a set of changed paths stands for: a folder stands for every file
        under it, on disk and in the known state (a folder moved away or deleted)."""
        root = os.fsencode(self.store.root)
        out: set[bytes] = set()
        for rel in paths:
            out.add(rel)
            for (known,) in db.execute("SELECT path FROM files WHERE path > ? AND path < ?",
                                       (rel + b"/", rel + b"0")):
                out.add(known)
            full = os.path.join(root, rel)
            if os.path.isdir(full) and not os.path.islink(full):
                for folder, dirs, names in os.walk(full):
                    dirs[:] = [d for d in dirs if d != b".git"
                               and not os.path.lexists(os.path.join(folder, d, b".git"))]
                    for name in names:
                        out.add(os.path.relpath(os.path.join(folder, name), root))
        return out

    def _walk_paths(self, db: sqlite3.Connection, paths: set[bytes], defer: set[bytes] | frozenset[bytes],
                    ) -> list[FileChange]:
        """A walk of only these paths (from a change source), with the full walk's outcome.

        Each path found changed is brought up to date as ``record_file`` does, and marked
        dirty, since the private index (the full walk's stat cache) did not see it.
        """
        root = os.fsencode(self.store.root)
        found: dict[bytes, tuple[str | None, int | None, str | None, int | None, bool]] = {}
        for rel in self._candidates(db, paths):
            if self._unseen(rel):
                continue
            row = db.execute("SELECT oid, mode FROM files WHERE path = ?", (rel,)).fetchone()
            known_oid, known_mode = (row[0], row[1]) if row else (None, None)
            oid, mode = self._store_path(os.path.join(root, rel))
            if (oid, mode) != (known_oid, known_mode):
                found[rel] = (known_oid, known_mode, oid, mode, row is not None)
        new = [rel for rel, v in found.items() if not v[4]]
        for rel in self._ignored(new):
            del found[rel]
        changes: list[FileChange] = []
        for rel, (known_oid, known_mode, oid, mode, _) in found.items():
            if rel in defer:
                db.execute("INSERT INTO files(path, oid, mode, dirty) VALUES (?, NULL, NULL, 1) "
                           "ON CONFLICT(path) DO UPDATE SET dirty = 1", (rel,))
                continue
            changes.append(FileChange(rel, _kind(known_oid, oid), known_oid, oid, known_mode, mode))
            if oid is None:
                db.execute("DELETE FROM files WHERE path = ?", (rel,))
            else:
                db.execute("INSERT INTO files(path, oid, mode, dirty) VALUES (?, ?, ?, 1) "
                           "ON CONFLICT(path) DO UPDATE SET oid = excluded.oid, mode = excluded.mode, dirty = 1",
                           (rel, oid, mode))
        changes.sort(key=lambda c: c.path)
        return changes

    def _ignored(self, rels: list[bytes]) -> set[bytes]:
        """Which of these paths git ignores (one git process for all of them)."""
        if not rels:
            return set()
        from tether.record import gitcmd

        res = gitcmd.run(self.store.objects.path, ["check-ignore", "-z", "--stdin", "--no-index"],
                         work_tree=self.store.root, index=self.store.index_path,
                         input=b"\0".join(rels) + b"\0", check=False)
        if res.returncode not in (0, 1):
            raise StoreError("git check-ignore failed: " + res.stderr.decode("utf-8", "replace").strip())
        return {p for p in res.stdout.split(b"\0") if p}

    def _walk_all(self, db: sqlite3.Connection, defer: set[bytes] | frozenset[bytes] = frozenset(),
                  ) -> list[FileChange]:
        from tether.record import gitcmd

        prev_tree = self._meta(db, "walk_tree") or EMPTY_TREE
        before = self._index_stamp()
        # --ignore-errors: an unreadable file must not stop the rest from being seen.
        # --verbose names each entry it adds or removes; only whether it names any is used
        # here (the names themselves come from diff-tree, which quotes nothing).
        # Only tether uses this index, always under the store lock (held here): a lock file
        # left behind is from a process that died, and would make git refuse.
        try:
            os.unlink(self.store.index_path + ".lock")
        except FileNotFoundError:
            pass
        res = gitcmd.run(self.store.objects.path, ["add", "-A", "--verbose", "--ignore-errors", "--", "."],
                         work_tree=self.store.root, index=self.store.index_path, check=False)
        if res.returncode not in (0, 1):
            # 1: some files could not be read (they keep their last known state); anything
            # else means git saw nothing, and "nothing changed" would be a lie.
            detail = res.stderr.decode("utf-8", "replace").strip().splitlines()
            raise StoreError(f"git add failed ({res.returncode}): {detail[-1] if detail else 'no message'}")
        added = res.stdout
        # Nothing named: no content changed, so the tree is the previous walk's and writing
        # it (tens of milliseconds on a large workspace) is skipped. Only when the index is
        # the very one this database last committed a walk for, though: after a crash or a
        # rolled-back transaction the index may be ahead of the database.
        if (not added.strip() and before is not None and prev_tree != EMPTY_TREE
                and self._meta(db, "index_stamp") == repr(before)):
            new_tree = prev_tree
        else:
            new_tree = self._git(["write-tree"]).decode("ascii").strip()
        seen: dict[bytes, tuple[str | None, int | None]] = {}
        if new_tree != prev_tree:
            seen = self._diff_trees(prev_tree, new_tree)
        root = os.fsencode(self.store.root)
        for (path,) in db.execute("SELECT path FROM files WHERE dirty = 1").fetchall():
            if path not in seen and path not in defer:
                # Recorded by a file tool since the last walk, and git saw no change since:
                # look at the file itself (a path git does not see, such as a newly ignored
                # one, must not read as deleted).
                seen[path] = self._store_path(os.path.join(root, path))
        changes: list[FileChange] = []
        for path, (oid, mode) in seen.items():
            row = db.execute("SELECT oid, mode FROM files WHERE path = ?", (path,)).fetchone()
            known_oid, known_mode = (row[0], row[1]) if row else (None, None)
            if path in defer and (oid, mode) != (known_oid, known_mode):
                # Marked dirty, so that a later walk looks at the file if its owner never does.
                db.execute("INSERT INTO files(path, oid, mode, dirty) VALUES (?, NULL, NULL, 1) "
                           "ON CONFLICT(path) DO UPDATE SET dirty = 1", (path,))
                continue
            if (oid, mode) != (known_oid, known_mode):
                changes.append(FileChange(path, _kind(known_oid, oid), known_oid, oid, known_mode, mode))
            if oid is None:
                db.execute("DELETE FROM files WHERE path = ?", (path,))
            else:
                db.execute("INSERT INTO files(path, oid, mode, dirty) VALUES (?, ?, ?, 0) "
                           "ON CONFLICT(path) DO UPDATE SET oid = excluded.oid, mode = excluded.mode, dirty = 0",
                           (path, oid, mode))
        for key, value in (("walk_tree", new_tree), ("index_stamp", repr(self._index_stamp()))):
            db.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
        changes.sort(key=lambda c: c.path)
        return changes

    def _diff_trees(self, old: str, new: str) -> dict[bytes, tuple[str | None, int | None]]:
        from tether.record.gitcmd import raw_diff

        out = self._git(["diff-tree", "-r", "-z", "--no-renames", "--raw", old, new])
        result: dict[bytes, tuple[str | None, int | None]] = {}
        for old_mode, new_mode, _old_oid, new_oid, path in raw_diff(out):
            if MODE_GITLINK in (old_mode, new_mode):
                # A nested repository is its own history, not files of this workspace.
                continue
            result[path] = (None, None) if new_mode == 0 else (new_oid, new_mode)
        return result

    def tree(self, db: sqlite3.Connection) -> str:
        return self._meta(db, "walk_tree") or EMPTY_TREE

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
