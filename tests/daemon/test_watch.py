"""The daemon's change notification: real inotify, the real store, against full walks.

The invariant held here: after a walk that used the watcher, a full walk of the same
workspace finds nothing more; and a walk that could have missed something is full.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.daemon import watch
from tether.record import snapshot
from tether.record.recorder import Recorder
from tether.record.store import Store

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify is Linux's")


@pytest.fixture
def watched(store: Store) -> Iterator[Store]:
    watch.install()
    try:
        yield store
    finally:
        watch.uninstall()


class Spy:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = 0
        real = self.real = snapshot.Snapshot._walk_all

        def counting(this: snapshot.Snapshot, *a: object, **kw: object) -> list[snapshot.FileChange]:
            self.full += 1
            return real(this, *a, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(snapshot.Snapshot, "_walk_all", counting)


def walk(store: Store) -> list[tuple[str, str]]:
    rec = Recorder(store)
    with store.locked(), store.transaction() as db:
        return [(c.name, c.change) for c in rec.snap.walk(db)]


_REAL_WALK_ALL = snapshot.Snapshot._walk_all


def full_walk_finds(store: Store) -> list[tuple[str, str]]:
    """What a full walk would still find (in a transaction that is rolled back)."""
    rec = Recorder(store)
    with store.locked(), store.scratch() as db:
        return [(c.name, c.change) for c in _REAL_WALK_ALL(rec.snap, db)]


def test_watched_walks_look_only_where_something_changed(watched: Store, repo: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    assert walk(watched) == []
    assert spy.full == 1  # the first walk of a watcher is full: it cannot vouch for before
    (repo / "src" / "app.py").write_text("changed\n")
    (repo / "new.txt").write_text("new\n")
    (repo / "debug.log").write_text("ignored\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_text("ignored folder\n")
    assert walk(watched) == [("new.txt", "added"), ("src/app.py", "modified")]
    assert spy.full == 1
    assert full_walk_finds(watched) == []
    # Nothing changed: nothing found, still without a full walk.
    assert walk(watched) == []
    assert spy.full == 1


def test_random_changes_are_all_seen(watched: Store, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    walk(watched)
    rng = random.Random(5)
    names = ["a.txt", "b.py", "src/c.txt", "src/deep/d.txt", "x/y/z.txt", "run.log", "build/e.txt"]
    for _ in range(40):
        for _ in range(rng.randint(1, 4)):
            rel = rng.choice(names)
            path = repo / rel
            op = rng.random()
            if op < 0.5:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"{rng.random()}\n")
            elif op < 0.65 and path.exists():
                path.unlink()
            elif op < 0.75 and path.exists():
                path.chmod(path.stat().st_mode ^ 0o100)
            elif op < 0.85:
                folder = repo / rng.choice(["src/deep", "x", "fresh"])
                if folder.exists():
                    shutil.rmtree(folder)
                else:
                    (folder / "sub").mkdir(parents=True)
                    (folder / "sub" / "f.txt").write_text("made with its folder\n")
            else:
                link = repo / "link"
                if link.is_symlink():
                    link.unlink()
                else:
                    link.symlink_to(rng.choice(["a.txt", "src"]))
        walk(watched)
        assert full_walk_finds(watched) == []
    # None of these needed a full walk.
    assert spy.full == 1


def test_what_could_hide_a_change_makes_the_walk_full(watched: Store, repo: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    walk(watched)
    # A .gitignore edit can un-ignore files no event was seen for.
    (repo / "debug.log").write_text("was ignored\n")
    walk(watched)
    (repo / ".gitignore").write_text("build/\n")
    assert walk(watched) == [(".gitignore", "modified"), ("debug.log", "added")]
    assert spy.full == 2
    # A folder moved: the watches under it keep their old names.
    (repo / "src" / "inner").mkdir()
    walk(watched)
    os.rename(repo / "src", repo / "lib")
    (repo / "lib" / "inner" / "late.txt").write_text("under the moved folder\n")
    found = walk(watched)
    assert ("lib/inner/late.txt", "added") in found and ("src/app.py", "deleted") in found
    assert spy.full == 3  # the mkdir's walk was not full; the move's was
    assert full_walk_finds(watched) == []
    # The daemon restarted: a new watcher cannot vouch for what happened before it.
    watch.uninstall()
    (repo / "lib" / "while-down.txt").write_text("x\n")
    watch.install()
    assert walk(watched) == [("lib/while-down.txt", "added")]
    assert spy.full == 4


def test_a_watch_limit_reached_means_full_walks(store: Store, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inotify_simple import INotify

    def refuse(self: INotify, path: object, mask: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(INotify, "add_watch", refuse)
    spy = Spy(monkeypatch)
    watch.install()
    try:
        walk(store)
        (repo / "n.txt").write_text("n\n")
        assert walk(store) == [("n.txt", "added")]
        assert spy.full == 2
    finally:
        watch.uninstall()
