"""Finding changes: single files and whole-workspace walks, against real git and SQLite."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tether.record.objects import blob_oid
from tether.record.snapshot import MODE_EXEC, MODE_FILE, MODE_LINK, FileChange, Snapshot
from tether.record.store import Store


def walk(store: Store, defer: set[bytes] | None = None) -> list[FileChange]:
    with store.locked(), store.transaction() as db:
        return Snapshot(store).walk(db, defer or set())


def record(store: Store, rel: str) -> FileChange | None:
    with store.locked(), store.transaction() as db:
        return Snapshot(store).record_file(db, rel.encode())


def summary(changes: list[FileChange]) -> list[tuple[str, str]]:
    return [(c.name, c.change) for c in changes]


def known(store: Store) -> dict[str, str]:
    return {os.fsdecode(p): o for p, o in store.db.execute("SELECT path, oid FROM files WHERE oid IS NOT NULL")}


def test_baseline_stores_every_file_and_honours_gitignore(repo: Path, store: Store) -> None:
    (repo / "x.log").write_text("ignored")
    assert walk(store) == []
    files = known(store)
    assert set(files) == {".gitignore", "README.md", "src/app.py"}
    assert files["src/app.py"] == blob_oid(b"def main():\n    return 1\n")
    assert store.objects.read_blob(files["README.md"]) == b"# demo\n"


def test_walk_reports_added_modified_deleted(repo: Path, store: Store) -> None:
    (repo / "README.md").write_text("# changed\n")
    (repo / "src" / "app.py").unlink()
    (repo / "new dir").mkdir()
    (repo / "new dir" / "n.txt").write_text("new\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_bytes(b"\0" * 10)
    changes = walk(store)
    assert summary(changes) == [("README.md", "modified"), ("new dir/n.txt", "added"), ("src/app.py", "deleted")]
    deleted = changes[2]
    assert deleted.old_oid == blob_oid(b"def main():\n    return 1\n") and deleted.new_oid is None
    assert walk(store) == [], "a second walk with nothing changed finds nothing"


def test_walk_sees_same_size_rewrite_within_the_same_second(repo: Path, store: Store) -> None:
    path = repo / "README.md"
    st = path.stat()
    path.write_text("# DEMO\n")  # same length
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime: only content differs
    assert summary(walk(store)) == [("README.md", "modified")]


def test_mode_and_symlink_changes(repo: Path, store: Store) -> None:
    os.chmod(repo / "src" / "app.py", 0o755)
    os.symlink("/etc/passwd", repo / "outside-link")
    changes = {c.name: c for c in walk(store)}
    assert changes["src/app.py"].new_mode == MODE_EXEC and changes["src/app.py"].old_mode == MODE_FILE
    link = changes["outside-link"]
    assert link.new_mode == MODE_LINK
    # The link itself is stored, never what it points at.
    assert store.objects.read_blob(link.new_oid or "") == b"/etc/passwd"


def test_record_file_sees_only_the_named_file(repo: Path, store: Store) -> None:
    (repo / "README.md").write_text("other change\n")
    (repo / "src" / "app.py").write_text("edited\n")
    change = record(store, "src/app.py")
    assert change is not None and (change.name, change.change) == ("src/app.py", "modified")
    assert record(store, "src/app.py") is None, "recording again finds nothing new"
    # The walk reports the other file once, and not the one already recorded.
    assert summary(walk(store)) == [("README.md", "modified")]
    assert walk(store) == []


def test_record_file_new_deleted_and_ignored(repo: Path, store: Store) -> None:
    (repo / "fresh.py").write_text("x = 1\n")
    change = record(store, "fresh.py")
    assert change is not None and change.change == "added"
    (repo / "fresh.py").unlink()
    change = record(store, "fresh.py")
    assert change is not None and change.change == "deleted"
    (repo / "debug.log").write_text("ignored by .gitignore\n")
    assert record(store, "debug.log") is None
    assert walk(store) == []


def test_a_file_recorded_then_changed_back_is_seen_by_the_walk(repo: Path, store: Store) -> None:
    original = (repo / "README.md").read_bytes()
    (repo / "README.md").write_text("by the agent\n")
    record(store, "README.md")
    (repo / "README.md").write_bytes(original)
    changes = walk(store)
    assert summary(changes) == [("README.md", "modified")]
    assert changes[0].new_oid == blob_oid(original)


def test_deferred_paths_are_left_for_their_owner(repo: Path, store: Store) -> None:
    (repo / "README.md").write_text("being written by another session\n")
    (repo / "src" / "app.py").write_text("changed by this session\n")
    assert summary(walk(store, {b"README.md"})) == [("src/app.py", "modified")]
    owner = record(store, "README.md")
    assert owner is not None and owner.change == "modified"
    assert walk(store) == []


def test_bytes_are_kept_exactly_whatever_gitattributes_say(repo: Path, store: Store) -> None:
    (repo / ".gitattributes").write_text("* text=auto eol=crlf\n*.txt filter=lfs diff=lfs\n")
    data = b"line one\r\nline two\nno newline"
    (repo / "crlf.txt").write_bytes(data)
    changes = {c.name: c for c in walk(store)}
    assert store.objects.read_blob(changes["crlf.txt"].new_oid or "") == data


def test_odd_file_names(repo: Path, store: Store) -> None:
    names = [b"with space.txt", b"new\nline.txt", b"quote'\"s.txt", "ünïcødé.txt".encode(), b"bad-\xff-utf8.txt",
             b"-dash.txt"]
    for name in names:
        with open(os.path.join(os.fsencode(repo), name), "wb") as fh:
            fh.write(name)
    changes = walk(store)
    assert sorted(c.path for c in changes) == sorted(names)
    for c in changes:
        assert store.objects.read_blob(c.new_oid or "") == c.path


def test_unreadable_file_does_not_stop_the_walk(repo: Path, store: Store) -> None:
    if os.geteuid() == 0:
        # root reads every file: make one unreadable by being a dangling FIFO-like special file instead
        os.mkfifo(repo / "a-fifo")
    else:
        (repo / "secret.txt").write_text("no")
        os.chmod(repo / "secret.txt", 0)
    (repo / "README.md").write_text("still seen\n")
    assert ("README.md", "modified") in summary(walk(store))


def test_nested_repository_is_not_descended(repo: Path, store: Store) -> None:
    nested = repo / "vendor" / "lib"
    nested.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(nested)], check=True)
    (nested / "inner.txt").write_text("inner\n")
    (repo / "README.md").write_text("outer\n")
    assert summary(walk(store)) == [("README.md", "modified")]


def test_large_and_binary_files_are_stored(repo: Path, store: Store) -> None:
    big = os.urandom(1024) * (40 * 1024)  # 40 MiB: streamed through git, not read whole
    (repo / "big.bin").write_bytes(big)
    change = record(store, "big.bin")
    assert change is not None and change.new_oid == blob_oid(big)
    assert store.objects.read_blob(change.new_oid) == big


def test_recording_never_touches_the_users_git(repo: Path, store: Store) -> None:
    def state() -> tuple[str, ...]:
        def run(*a: str) -> str:
            return subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True, check=True).stdout
        index = (repo / ".git" / "index").read_bytes()
        return (run("rev-parse", "HEAD"), run("status", "--porcelain"), run("for-each-ref"),
                run("stash", "list"), str(hash(index)))

    (repo / "README.md").write_text("changed\n")
    before = state()
    walk(store)
    record(store, "README.md")
    assert state() == before


def test_a_walk_lost_to_a_rollback_is_found_again(repo: Path, store: Store) -> None:
    (repo / "README.md").write_text("changed before a crash\n")
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    assert summary(Snapshot(store).walk(db)) == [("README.md", "modified")]
    db.execute("ROLLBACK")  # the process died before its transaction committed
    assert summary(walk(store)) == [("README.md", "modified")]


def test_the_schema_version_matches_the_migrations() -> None:
    from tether.record.migrations import MIGRATIONS
    from tether.record.store import SCHEMA_VERSION

    assert len(MIGRATIONS) == SCHEMA_VERSION


def test_packing_keeps_every_object_readable(repo: Path, store: Store) -> None:
    for i in range(30):
        (repo / f"f{i}.txt").write_text(f"version {i}\n" * 50)
    changes = walk(store)
    loose = sum(len(files) for _, _, files in os.walk(store.objects.objects))
    store.objects.pack()
    assert sum(len(files) for _, _, files in os.walk(store.objects.objects)) < loose
    for c in changes:
        assert store.objects.read_blob(c.new_oid or "") == c.path.replace(b"f", b"version ").replace(
            b".txt", b"\n") * 50
        assert store.objects.verify(c.new_oid or "")
    (repo / "f0.txt").write_text("after packing\n")
    assert summary(walk(store)) == [("f0.txt", "modified")]
