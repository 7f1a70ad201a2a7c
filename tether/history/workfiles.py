"""Writing recorded file versions back into the workspace, safely.

The agent may still be running while a person rewinds, and it can plant
symlinks, hard links or folders anywhere in the workspace. So every write walks
down the path one folder at a time with ``O_NOFOLLOW`` and works relative to
the folder's file descriptor: a symlinked folder is refused, and it cannot be
swapped in between a check and the write. Files are written to a new, randomly
named temporary file (``O_EXCL``: a planted hard link is never written through)
and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import errno
import os
import stat

from tether.errors import TetherError
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


def _descend(root: bytes, parts: list[bytes], create: bool) -> list[int] | None:
    """File descriptors of the root and each folder down to the path's parent.

    None when a folder is missing and ``create`` is false. Raises TetherError on a
    symlinked folder or a file where a folder should be.
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
            fds.append(os.open(part, _DIR, dir_fd=fds[-1]))
    except BaseException:
        _close(fds)
        raise
    return fds


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def remove(root: bytes, rel: bytes) -> None:
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
        for depth in range(len(parts) - 1, 0, -1):
            try:
                os.rmdir(parts[depth - 1], dir_fd=fds[depth - 1])
            except OSError:
                break
    finally:
        _close(fds)


def write(root: bytes, rel: bytes, objects: ObjectStore, oid: str, mode: int) -> None:
    """Put one recorded version of a file in place, atomically."""
    parts = _parts(rel)
    data = objects.read_blob(oid)
    fds = _descend(root, parts, create=True)
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
            os.symlink(data, tmp, dir_fd=folder)
        else:
            perm = 0o777 if mode == MODE_EXEC else 0o666
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, perm, dir_fd=folder)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(fd, perm & ~umask)
            finally:
                os.close(fd)
        # Not synced here: the operation syncs once after its last write, before it is done.
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=folder)
        except OSError:
            pass
        raise
    finally:
        _close(fds)


def put(root: bytes, rel: bytes, objects: ObjectStore, oid: str | None, mode: int | None) -> None:
    if oid is None or mode is None:
        remove(root, rel)
    else:
        write(root, rel, objects, oid, mode)


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
