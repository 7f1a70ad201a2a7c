"""The store of one workspace: SQLite metadata, a git object database, a lock.

Layout of the store folder (see tether.workspace.store_dir for where it lives)::

    tether.db        metadata (WAL), migrated on open
    objects.git/     content-addressed file contents (a bare git repository)
    index            the private git index that serves as the stat cache of walks
    lock             serialises recorders of concurrent sessions
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from tether import workspace
from tether.errors import StoreError
from tether.record import journal, rows
from tether.record.objects import ObjectStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
else:
    try:
        # The C module itself: the sqlite3 package also imports datetime to register
        # adapters tether never uses, a cost every hook process would pay.
        import _sqlite3 as sqlite3
    except ImportError:  # pragma: no cover - builds that only ship the package
        import sqlite3

DB_NAME = "tether.db"
# The number of migrations in tether.record.migrations; checked here so that opening an
# up-to-date store does not import them.
SCHEMA_VERSION = 5
LOCK_TIMEOUT = 30.0
BUSY_TIMEOUT_MS = 10_000


def now(ago: float = 0.0) -> str:
    """The current time (or ``ago`` seconds before it) as ISO 8601 UTC with milliseconds."""
    t = time.time() - ago
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def new_id() -> str:
    """A step, prompt or operation id: random, so that any 7-character prefix is almost surely unique."""
    return os.urandom(16).hex()


class Store:
    def __init__(self, root: str, path: str) -> None:
        self.root = root
        self.path = path
        self.db_path = os.path.join(path, DB_NAME)
        self.objects = ObjectStore(os.path.join(path, "objects.git"))
        self.index_path = os.path.join(path, "index")
        self.lock_path = os.path.join(path, "lock")
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._lock_depth = 0
        # The journal event this process last anchored (anchor.py), to skip anchoring again.
        self._anchored: tuple[int, str] | None = None

    # -- opening ----------------------------------------------------------

    @classmethod
    def for_root(cls, root: str) -> Store:
        return cls(root, workspace.store_dir(root))

    def exists(self) -> bool:
        return os.path.isfile(self.db_path)

    @classmethod
    def open(cls, root: str, create: bool = False) -> Store:
        """Open the store of a workspace; with create, lay it out when absent."""
        store = cls.for_root(root)
        if not store.exists():
            if not create:
                raise StoreError(f"tether is not set up in {root}; run `tether init` there first")
            store._create()
        store.db  # noqa: B018 - opens and migrates now, so errors surface here
        return store

    def _create(self) -> None:
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store at {self.path}: {exc.strerror}") from None
        self.objects.create()

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._connect()
        return self._db

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_MS / 1000,
                                 isolation_level=None, check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            (mode,) = db.execute("PRAGMA journal_mode").fetchone()
            if mode != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            # FULL: a recorded event survives power loss, not only a crash. An fsync
            # costs well under a millisecond on the machines measured.
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version != SCHEMA_VERSION:
                from tether.record.migrations import migrate

                migrate(db)
                # A migration may append to the journal (the upgrade to row digests does).
                self.anchor(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store database {self.db_path}: {exc}") from None
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- transactions and the lock -----------------------------------------

    def transaction(self) -> _Transaction:
        """``with store.transaction() as db``: BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

        Every transaction is sealed: the sealed rows it changed are in a journal event
        before it commits (journal.seal, when no hook event of the recorder covered them),
        and the journal's new head is anchored outside the store after it commits.
        """
        return _Transaction(self)

    def scratch(self) -> _Transaction:
        """``with store.scratch() as db``: a transaction that is always rolled back (dry runs)."""
        return _Transaction(self, keep=False)

    def anchor(self, db: sqlite3.Connection | None = None) -> None:
        """Write the journal's head to its anchor outside the store (anchor.py). Never raises:
        a failure is kept for `tether status`, and `tether verify` reports the anchor behind."""
        db = db or self.db
        try:
            last = journal.head(db)
            if last is None or last == self._anchored:
                return
            from tether.record import anchor

            problem = anchor.advance(db, self.path, last[0], last[1], now())
            self._anchored = last
            if problem:
                self.log_error(problem, "anchor", db=db)
        except Exception as exc:
            self.log_error(f"could not anchor the journal: {exc}", "anchor", db=db)

    def locked(self, timeout: float = LOCK_TIMEOUT) -> _Lock:
        """``with store.locked()``: exclusive use of the workspace snapshot (the private
        index and the known state).

        Reentrant within one process; between processes an flock, so a recorder
        that dies releases it with its file descriptor.
        """
        return _Lock(self, timeout)

    # -- metadata ------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def pending_operation(self) -> bool:
        """Whether one of tether's own operations (a rewind, revert, restore or undo) was
        interrupted midway and waits to be completed (tether.history.operations.recover)."""
        return self.db.execute("SELECT 1 FROM operations WHERE state = 'pending' LIMIT 1").fetchone() is not None

    def log_error(self, message: str, event: str | None = None, session: str | None = None,
                  db: sqlite3.Connection | None = None) -> None:
        """Keep a recording failure for `tether status`. Never raises."""
        message = message[:2000]
        try:
            (db or self.db).execute("INSERT INTO errors(time, event, session, message) VALUES (?, ?, ?, ?)",
                            (now(), event, session, message))
        except Exception:
            fallback_error(self.path, message, event, session)


# Plain classes rather than contextlib: importing contextlib costs the hook milliseconds.
class _Transaction:
    def __init__(self, store: Store, keep: bool = True) -> None:
        self.store = store
        self.db = store.db
        self.keep = keep

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        if self.keep:
            # Changes noted by a write from outside tether are never sealed as tether's.
            rows.discard_foreign(self.db)
        return self.db

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if kind is not None or not self.keep:
            self.db.execute("ROLLBACK")
            return
        try:
            journal.seal(self.db, now(), _seal_payload)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        self.store.anchor()


def _seal_payload() -> str:
    """What the journal keeps about a write that no hook event covers: the command that made it."""
    import sys

    from tether import fastjson
    from tether.trust.redact import redact

    return fastjson.dumps({"argv": redact(sys.argv[1:]), "pid": os.getpid()}, sort_keys=True)


class _Lock:
    def __init__(self, store: Store, timeout: float) -> None:
        self.store = store
        self.timeout = timeout

    def __enter__(self) -> None:
        store = self.store
        if store._lock_depth:
            store._lock_depth += 1
            return
        fd = os.open(store.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    os.close(fd)
                    raise
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise StoreError(
                        f"the store at {store.path} stayed locked for {self.timeout:.0f} s") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        store._lock_fd = fd
        store._lock_depth = 1

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        store = self.store
        store._lock_depth -= 1
        if store._lock_depth == 0 and store._lock_fd is not None:
            fd, store._lock_fd = store._lock_fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def fallback_error(folder: str, message: str, event: str | None = None,
                   session: str | None = None) -> None:
    """Append a failure to a plain log when even the database is unusable."""
    import json

    line = json.dumps({"time": now(), "event": event, "session": session, "message": message[:2000]})
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(os.path.join(folder, "errors.log"), "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:
        pass
