"""Replacing a file whole: readers and crashes see the old content or the new, never a mix.

Imports nothing but ``os``: the hook writes objects through here on every recorded change.
(Writing back into the workspace, where the agent may plant links, has stricter needs and its
own routine: tether.history.workfiles.)
"""

from __future__ import annotations

import os

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def atomic_write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Put ``data`` at ``path``, atomically and durably.

    Readers see either the old file or the new one, never part of either; once this
    returns, the new content survives a crash or a power cut. The new file gets ``mode``
    less the umask, as ``open()`` would give it. The folder must exist.
    """
    folder = os.path.dirname(path) or "."
    # In the same folder, because a rename is atomic only within one file system. A random
    # name opened with O_EXCL is always a new file: a concurrent writer of the same path, a
    # stale leftover or a planted link of that name is never written through.
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, mode)
    try:
        try:
            write_all(fd, data)
            # The content must reach the disk before the new name does, or a crash soon after
            # the rename can leave the name pointing at an empty or partial file.
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # The rename is a change to the folder: until the folder is synced, a power cut can
    # bring back the old name (or no name at all for a new file).
    fsync_dir(folder)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte: a single os.write may write less than it was given."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def fsync_dir(path: str) -> None:
    """Make the names in a folder (files created, renamed or removed in it) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
