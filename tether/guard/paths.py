"""Where a path lies: the workspace, a temporary folder, a system folder, elsewhere.

Paths reach the guard from tool inputs and from shell words. They are made
absolute against the command's working folder, ``..`` is collapsed, and
symlinks are resolved so that ``ln -s /etc x; rm -rf x/`` and a link to a
secret are judged by where they lead. A path may also stand for many files
(``PATH/**`` for "anything under PATH", or a shell glob); such paths are judged
by their fixed prefix.
"""

from __future__ import annotations

import os

from tether.guard.policy import PathClass, Policy
from tether.guard.syntax import UNKNOWN, expand_user

# Devices and pseudo-files a redirection may target without writing to disk.
HARMLESS_DEVICES = frozenset({
    "/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty",
    "/dev/random", "/dev/urandom", "/dev/full", "/dev/ptmx",
})
# Block devices: writing to one destroys a file system.
_DISK_PREFIXES = ("/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk",
                  "/dev/disk", "/dev/rdisk", "/dev/md", "/dev/dm-", "/dev/mapper/", "/dev/loop",
                  "/dev/sr", "/dev/fd0", "/dev/mem", "/dev/kmem", "/dev/port")
# Top-level folders whose recursive deletion ruins the machine.
_TOP_LEVEL = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
    "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/var",
    "/Users", "/System", "/Library", "/Applications", "/Volumes", "/private", "/nix", "/snap",
})


def is_dynamic(text: str) -> bool:
    return UNKNOWN in text


def absolute(text: str, cwd: str | None, home: str) -> str | None:
    """An absolute, normalised path for a word, or None when it cannot be known."""
    if not text or is_dynamic(text):
        return None
    text = expand_user(text, home)
    if not text.startswith("/"):
        if cwd is None:
            return None
        text = cwd.rstrip("/") + "/" + text
    norm = os.path.normpath(text)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def resolve(path: str, follow_last: bool) -> str:
    """Resolve symlinks in the parents (and the last part when the access follows it)."""
    if follow_last:
        return os.path.realpath(path)
    parent, name = os.path.split(path)
    if not name:
        return path
    return os.path.join(os.path.realpath(parent), name)


def within(path: str, folder: str) -> bool:
    if folder == "/":
        return True
    return path == folder or path.startswith(folder + "/")


def is_disk_device(path: str) -> bool:
    return path.startswith(_DISK_PREFIXES)


class Place:
    """What the guard knows about one (absolute) path."""

    __slots__ = ("abs", "classes", "inside", "rel", "system", "temp", "temp_root", "top_level",
                 "workspace_root_or_above")

    def __init__(self, abs_path: str, policy: Policy) -> None:
        self.abs = abs_path
        root = policy.root
        # The root counts as inside for writes (`unzip x.zip`, `curl -O` write into it); deleting
        # it is caught first as the workspace root.
        self.inside = within(abs_path, root)
        self.rel = abs_path[len(root):].lstrip("/") if self.inside else None
        self.workspace_root_or_above = within(root, abs_path)
        home = policy.home.rstrip("/") or "/"
        # The home folder outranks the temporary folders: with HOME under /tmp (containers,
        # CI), ~/.ssh is still the home folder's, unless a temporary folder lies inside home.
        in_home = within(abs_path, home)
        self.temp = any(within(abs_path, z) and (not in_home or within(z, home))
                        for z in policy.temp_zones)
        self.temp_root = abs_path in policy.temp_zones
        self.system = (not self.temp) and any(within(abs_path, z) for z in policy.system_zones)
        # The home folder and every folder that holds it count as top-level.
        self.top_level = abs_path in _TOP_LEVEL or within(home, abs_path)
        segs = [s for s in abs_path.split("/") if s]
        rel_segs = self.rel.split("/") if self.rel else None
        self.classes: list[PathClass] = [c for c in policy.classes if c.matches(segs, rel_segs)]

    def covered_classes(self, policy: Policy) -> list[PathClass]:
        """Classes with a path under this folder (for deleting or moving a whole folder)."""
        segs = [s for s in self.abs.split("/") if s]
        rel_segs = self.rel.split("/") if self.rel else ([] if self.abs == policy.root else None)
        return [c for c in policy.classes if c.contains_match_under(segs, rel_segs)]


def place(path: str, policy: Policy, follow_last: bool = True) -> list[Place]:
    """Places to judge for a path: its lexical form and, when it differs, where it leads."""
    out = [Place(path, policy)]
    try:
        real = resolve(path, follow_last)
    except (OSError, ValueError):
        return out
    if real != path:
        out.append(Place(real, policy))
    return out
