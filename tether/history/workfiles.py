"""Writing recorded file versions back into the workspace, safely.

The agent may still be running while a person rewinds, and it can plant
symlinks, hard links or folders anywhere in the workspace. So every write walks
down the path one folder at a time with ``O_NOFOLLOW`` and works relative to
the folder's file descriptor: a symlinked folder is refused, and it cannot be
swapped in between a check and the write. Files are written to a new, randomly
named temporary file (``O_EXCL``: a planted hard link is never written through)
and renamed into place, so a reader never sees half a file.

An operation makes what it wrote durable before it is marked done (see
tether.history.operations), but not one file at a time: a ``Durable`` batch syncs
each file written in background threads while the next ones are written, and at
the end syncs each folder whose entries changed. Only what the operation touched
is flushed, never the whole machine (``os.sync``), whose cost depends on whatever
else is being written.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from queue import SimpleQueue

from tether.errors import TetherError
from tether.fsutil import write_all
from tether.record.objects import ObjectStore
from tether.record.snapshot import MODE_EXEC, MODE_LINK

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _name(rel: bytes) -> str:
    return rel.decode("utf-8", "backslashreplace")


def _parts(rel: bytes) -> list[bytes]:
    parts = rel.split(b"/")
    if rel.startswith(b"/") or b"\0" in rel or any(p in (b"", b".", b"..") for p in parts):
        raise TetherError(f"refusing an unsafe path: {_name(rel)}")
    return parts


def _descend(root: bytes, parts: list[bytes], create: bool, durable: Durable | None = None) -> list[int] | None:
    """File descriptors of the root and each folder down to the path's parent.

    None when a folder is missing and ``create`` is false. Raises TetherError on a
    symlinked folder or a file where a folder should be. A folder created on the way is
    an entry of its parent, for ``durable`` to sync.
    """
    fds = [os.open(root, _DIR)]
    try:
        for i, part in enumerate(parts[:-1]):
            try:
                fds.append(os.open(part, _DIR, dir_fd=fds[-1]))
                continue
            except FileNotFoundError:
                if not create:
                    _close(fds)
                    return None
            except OSError as exc:
                where = _name(b"/".join(parts[:i + 1]))
                if exc.errno in (errno.ELOOP, errno.EMLINK):
                    raise TetherError(f"refusing to write through the symlinked folder {where}") from None
                if exc.errno == errno.ENOTDIR:
                    raise TetherError(f"{where} is a file, not a folder") from None
                raise
            os.mkdir(part, 0o777, dir_fd=fds[-1])
            if durable is not None:
                durable.folder(b"/".join(parts[:i]))
            fds.append(os.open(part, _DIR, dir_fd=fds[-1]))
    except BaseException:
        _close(fds)
        raise
    return fds


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def remove(root: bytes, rel: bytes, durable: Durable | None = None) -> None:
    """Delete a workspace file (or symlink), then the folders it leaves empty."""
    parts = _parts(rel)
    fds = _descend(root, parts, create=False)
    if fds is None:
        return
    try:
        try:
            st = os.lstat(parts[-1], dir_fd=fds[-1])
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            raise TetherError(f"{_name(rel)} is a folder now; move it away first")
        os.unlink(parts[-1], dir_fd=fds[-1])
        if durable is not None:
            durable.folder(b"/".join(parts[:-1]))
        for depth in range(len(parts) - 1, 0, -1):
            try:
                os.rmdir(parts[depth - 1], dir_fd=fds[depth - 1])
            except OSError:
                break
            if durable is not None:
                durable.folder(b"/".join(parts[:depth - 1]))
    finally:
        _close(fds)


def write(root: bytes, rel: bytes, objects: ObjectStore, oid: str, mode: int, durable: Durable | None = None,
          ) -> None:
    """Put one recorded version of a file in place, atomically."""
    parts = _parts(rel)
    data = objects.read_blob(oid)
    fds = _descend(root, parts, create=True, durable=durable)
    assert fds is not None
    folder, name = fds[-1], parts[-1]
    tmp = b".tether-restore-" + os.urandom(8).hex().encode()
    try:
        try:
            if stat.S_ISDIR(os.lstat(name, dir_fd=folder).st_mode):
                raise TetherError(f"{_name(rel)} is a folder now; move it away first")
        except FileNotFoundError:
            pass
        if mode == MODE_LINK:
            # A symlink cannot be opened to sync it: syncing its folder is what there is (and on
            # journaling file systems it commits the link with its name).
            os.symlink(data, tmp, dir_fd=folder)
        else:
            perm = 0o777 if mode == MODE_EXEC else 0o666
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, perm, dir_fd=folder)
            try:
                write_all(fd, data)
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(fd, perm & ~umask)
            except BaseException:
                os.close(fd)
                raise
            if durable is None:
                os.close(fd)
            else:
                durable.file(fd)  # synced in the background, while the next files are written
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        if durable is not None:
            durable.folder(b"/".join(parts[:-1]))
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=folder)
        except OSError:
            pass
        raise
    finally:
        _close(fds)


def put(root: bytes, rel: bytes, objects: ObjectStore, oid: str | None, mode: int | None,
        durable: Durable | None = None) -> None:
    if oid is None or mode is None:
        remove(root, rel, durable)
    else:
        write(root, rel, objects, oid, mode, durable)


class Durable:
    """Makes the files and folders an operation wrote durable, in one batch.

    ``with Durable(root) as durable``: pass it to each write and removal, then call
    ``flush()`` before the operation is marked done. Each file handed over is synced
    by a few threads while the writes go on (fsync releases the GIL, and the file
    system can commit concurrent syncs together); ``flush()`` waits for them, then
    syncs each folder whose entries changed (a rename, a removal, a new folder is a
    change to the folder, not to the file). Leaving the block without ``flush()``
    (a failed write) stops the threads and closes every file, and promises nothing.
    """

    THREADS = 16
    # Files handed over and not yet synced are held open: at most this many.
    IN_FLIGHT = 64

    def __init__(self, root: bytes) -> None:
        self.root = root
        self._folders: set[bytes] = set()
        self._queue: SimpleQueue[int | None] = SimpleQueue()
        self._slots = threading.BoundedSemaphore(self.IN_FLIGHT)
        self._threads: list[threading.Thread] = []
        self._errors: list[OSError] = []

    def __enter__(self) -> Durable:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self._stop()

    def file(self, fd: int) -> None:
        """Take a written file's descriptor: it is synced, then closed."""
        self._slots.acquire()
        if len(self._threads) < self.THREADS:
            thread = threading.Thread(target=self._work, name="tether-fsync", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._queue.put(fd)

    def folder(self, rel: bytes) -> None:
        """A folder (b"" for the root) whose entries changed: synced by flush()."""
        self._folders.add(rel)

    def flush(self) -> None:
        """Return once everything handed over is on disk; raises the first failure to sync."""
        for rel in sorted(self._folders):
            fds = _descend(self.root, [*_parts(rel), b"-"] if rel else [b"-"], create=False)
            if fds is None:
                continue  # removed since: its parent, where it was removed, is synced instead
            for fd in fds[:-1]:
                os.close(fd)
            self.file(fds[-1])
        self._folders.clear()
        self._stop()
        if self._errors:
            raise self._errors[0]

    def _work(self) -> None:
        while True:
            fd = self._queue.get()
            if fd is None:
                return
            try:
                os.fsync(fd)
            except OSError as exc:
                self._errors.append(exc)
            finally:
                os.close(fd)
                self._slots.release()

    def _stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()


def problems(root: bytes, plan: list[tuple[bytes, str | None]]) -> list[str]:
    """What would stop a plan of (path, new oid or None to delete) from being carried out.

    Checked before anything is written, so that a refused operation changes nothing.
    """
    deleted = {rel for rel, oid in plan if oid is None}
    out = []
    for rel, oid in plan:
        if oid is None:
            continue
        try:
            parts = _parts(rel)
        except TetherError as exc:
            out.append(str(exc))
            continue
        # Each folder on the way must be a real folder, or absent, or a file the plan deletes.
        for i in range(1, len(parts)):
            sub = b"/".join(parts[:i])
            try:
                st = os.lstat(os.path.join(root, sub))
            except FileNotFoundError:
                break
            if stat.S_ISLNK(st.st_mode) and sub not in deleted:
                out.append(f"{_name(sub)} is a symlink now; tether does not write through it")
                break
            if not stat.S_ISDIR(st.st_mode) and sub not in deleted:
                out.append(f"{_name(sub)} is a file now, where {_name(rel)} needs a folder; move it away first")
                break
        full = os.path.join(root, rel)
        if os.path.isdir(full) and not os.path.islink(full):
            leftover = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(full) for f in fs]
            extra = [f for f in leftover if f not in deleted]
            if extra:
                out.append(f"{_name(rel)} is a folder now, holding files tether never recorded "
                           f"({', '.join(_name(e) for e in extra[:3])}); move it away first")
    return out
