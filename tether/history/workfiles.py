"""Writing recorded file versions back into the workspace, safely.

Every write goes to a temporary file beside its target and is renamed into
place, so a reader never sees half a file. Nothing is written through a
symlinked folder: a link an agent planted (``src -> /etc``) must not turn a
rewind into a write outside the workspace.
"""

from __future__ import annotations

import os
import stat

from tether.errors import TetherError
from tether.record.objects import ObjectStore
from tether.record.snapshot import MODE_EXEC, MODE_LINK


def _safe_parent(root: bytes, rel: bytes) -> bytes:
    """The absolute folder of a workspace path, checked to hold no symlink on the way."""
    if rel.startswith(b"/") or b"\0" in rel or any(part in (b"", b".", b"..") for part in rel.split(b"/")):
        raise TetherError(f"refusing an unsafe path: {rel.decode('utf-8', 'backslashreplace')}")
    folder = root
    for part in rel.split(b"/")[:-1]:
        folder = os.path.join(folder, part)
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            raise TetherError(f"refusing to write through the symlinked folder "
                              f"{os.path.relpath(folder, root).decode('utf-8', 'backslashreplace')}")
        if not stat.S_ISDIR(st.st_mode):
            raise TetherError(f"{os.path.relpath(folder, root).decode('utf-8', 'backslashreplace')} is a file, "
                              "not a folder")
    return os.path.join(root, *rel.split(b"/")[:-1]) if b"/" in rel else root


def remove(root: bytes, rel: bytes) -> None:
    """Delete a workspace file (or symlink), then the folders it leaves empty."""
    parent = _safe_parent(root, rel)
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise TetherError(f"{rel.decode('utf-8', 'backslashreplace')} is a folder now; move it away first")
    os.unlink(full)
    while parent != root:
        try:
            os.rmdir(parent)
        except OSError:
            break
        parent = os.path.dirname(parent)


def write(root: bytes, rel: bytes, objects: ObjectStore, oid: str, mode: int) -> None:
    """Put one recorded version of a file in place, atomically."""
    parent = _safe_parent(root, rel)
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
        if stat.S_ISDIR(st.st_mode):
            raise TetherError(f"{rel.decode('utf-8', 'backslashreplace')} is a folder now; move it away first")
    except FileNotFoundError:
        pass
    os.makedirs(parent, exist_ok=True)
    data = objects.read_blob(oid)
    tmp = os.path.join(parent, b".tether-restore-%d-%s" % (os.getpid(), oid[:12].encode()))
    try:
        if mode == MODE_LINK:
            os.symlink(data, tmp)
        else:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                         0o777 if mode == MODE_EXEC else 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, (0o777 if mode == MODE_EXEC else 0o666) & ~umask)
        os.replace(tmp, full)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def put(root: bytes, rel: bytes, objects: ObjectStore, oid: str | None, mode: int | None) -> None:
    if oid is None or mode is None:
        remove(root, rel)
    else:
        write(root, rel, objects, oid, mode)
