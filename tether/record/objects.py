"""The content store: a git object database that only tether writes to.

File contents are kept as git blobs: addressed by their SHA-1, compressed with
zlib, deduplicated by construction, and readable with any git tool. Single
objects are written here in Python (the hook's hot path must not pay for a
subprocess); whole-tree snapshots are left to git itself (see snapshot.py).
Reading a packed object falls back to ``git cat-file``.
"""

from __future__ import annotations

import os
import zlib

from tether.errors import StoreError
from tether.fsutil import atomic_write, fsync_dir
from tether.record.digest import sha1

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

# Git config of the store: never prune (our objects are referenced from SQLite,
# not from refs), never run hooks or filters, and keep bytes exactly as they are
# on disk so that a restore is byte for byte.
_CONFIG = """\
[core]
\trepositoryformatversion = 0
\tbare = true
\tfilemode = true
\tsymlinks = true
\tignorecase = false
\tautocrlf = false
\tsafecrlf = false
\tfsmonitor = false
\tuntrackedCache = true
\tsplitIndex = true
\tpreloadIndex = true
\tquotePath = false
\thooksPath = /dev/null
\tbigFileThreshold = 64m
\tfsync = loose-object,index
\tfsyncMethod = batch
[gc]
\tauto = 0
\tpruneExpire = never
\treflogExpire = never
[index]
\tversion = 4
[advice]
\taddEmbeddedRepo = false
\taddIgnoredFile = false
"""

# Highest-precedence attributes: no end-of-line conversion, no clean/smudge
# filter, no ident expansion, whatever the workspace's .gitattributes say.
_ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding\n"


def blob_oid(data: bytes) -> str:
    return sha1(b"blob %d\0" % len(data) + data).hexdigest()


class ObjectStore:
    """A bare git repository used only as an object database."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.objects = os.path.join(path, "objects")

    def exists(self) -> bool:
        return os.path.isfile(os.path.join(self.path, "HEAD"))

    def create(self) -> None:
        """Lay out the bare repository. Idempotent; fixes the config if it drifted."""
        for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
            os.makedirs(os.path.join(self.path, sub), exist_ok=True)
        _write_if_changed(os.path.join(self.path, "HEAD"), "ref: refs/heads/main\n")
        _write_if_changed(os.path.join(self.path, "config"), _CONFIG)
        _write_if_changed(os.path.join(self.path, "info", "attributes"), _ATTRIBUTES)
        _write_if_changed(os.path.join(self.path, "description"), "tether object store\n")

    def _loose(self, oid: str) -> str:
        return os.path.join(self.objects, oid[:2], oid[2:])

    def has(self, oid: str) -> bool:
        if os.path.exists(self._loose(oid)):
            return True
        return self._cat(oid, check_only=True) is not None

    def write_blob(self, data: bytes) -> str:
        """Store one blob durably and return its id; a blob already present is not rewritten."""
        raw = b"blob %d\0" % len(data) + data
        oid = sha1(raw).hexdigest()
        path = self._loose(oid)
        if os.path.exists(path):
            return oid
        folder = os.path.dirname(path)
        new_folder = not os.path.isdir(folder)
        if new_folder:
            os.makedirs(folder, exist_ok=True)
        # Durable before the database points at it, content and name alike.
        atomic_write(path, zlib.compress(raw, 1 if len(raw) > 1 << 20 else 6), 0o444)
        if new_folder:
            # A new folder's own name lives in its parent.
            fsync_dir(self.objects)
        return oid

    def read(self, oid: str) -> tuple[str, bytes]:
        """The type and content of an object."""
        path = self._loose(oid)
        try:
            with open(path, "rb") as fh:
                raw = zlib.decompress(fh.read())
        except FileNotFoundError:
            found = self._cat(oid)
            if found is None:
                raise StoreError(f"object {oid} is missing from the store {self.path}") from None
            return found
        except zlib.error as exc:
            raise StoreError(f"object {oid} is corrupt: {exc}") from None
        header, _, body = raw.partition(b"\0")
        kind, _, size = header.partition(b" ")
        if int(size) != len(body):
            raise StoreError(f"object {oid} is corrupt: wrong length")
        return kind.decode("ascii"), body

    def read_blob(self, oid: str) -> bytes:
        kind, body = self.read(oid)
        if kind != "blob":
            raise StoreError(f"object {oid} is a {kind}, not a blob")
        return body

    def verify(self, oid: str) -> bool:
        """Recompute an object's hash from its stored content."""
        try:
            kind, body = self.read(oid)
        except StoreError:
            return False
        header = b"%s %d\0" % (kind.encode("ascii"), len(body))
        return sha1(header + body).hexdigest() == oid

    def loose_estimate(self) -> int:
        """Roughly how many loose objects there are (git's own estimate: one folder of 256, scaled)."""
        try:
            return len(os.listdir(os.path.join(self.objects, "17"))) * 256
        except FileNotFoundError:
            return 0

    def pack(self) -> None:
        """Move every loose object into a new pack; nothing is ever pruned."""
        from tether.record import gitcmd

        oids = []
        for sub in os.listdir(self.objects):
            if len(sub) == 2:
                oids += [sub + name for name in os.listdir(os.path.join(self.objects, sub))
                         if len(name) == 38 and not name.startswith(".")]
        if not oids:
            return
        # An explicit list: with no refs, git's own repack would see none of them as worth keeping.
        gitcmd.run(self.path, ["pack-objects", "-q", os.path.join(self.objects, "pack", "pack")],
                   input="\n".join(oids).encode() + b"\n")
        gitcmd.run(self.path, ["prune-packed", "-q"])

    def _cat(self, oid: str, check_only: bool = False) -> tuple[str, bytes] | None:
        from tether.record import gitcmd

        if check_only:
            res = gitcmd.run(self.path, ["cat-file", "-e", oid], check=False)
            return ("", b"") if res.returncode == 0 else None
        res = gitcmd.run(self.path, ["cat-file", "-t", oid], check=False)
        if res.returncode != 0:
            return None
        kind = res.stdout.decode("ascii").strip()
        body = gitcmd.run(self.path, ["cat-file", kind, oid]).stdout
        return kind, body


def _write_if_changed(path: str, text: str) -> None:
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return
    except FileNotFoundError:
        pass
    atomic_write(path, text.encode("utf-8"))
