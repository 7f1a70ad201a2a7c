"""atomic_write: whole files or nothing, never through a planted link, no leftovers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tether import fsutil


def test_writes_and_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    fsutil.atomic_write(str(target), b"first\n")
    assert target.read_bytes() == b"first\n"
    fsutil.atomic_write(str(target), b"second, longer than the first\n" * 1000)
    assert target.read_bytes() == b"second, longer than the first\n" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"], "no temporary file is left behind"


def test_the_mode_is_given_less_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fsutil.atomic_write(str(tmp_path / "blob"), b"x", 0o444)
        fsutil.atomic_write(str(tmp_path / "plain"), b"x")
        fsutil.atomic_write(str(tmp_path / "open"), b"x", 0o666)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "blob").stat().st_mode) == 0o444
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "open").stat().st_mode) == 0o644


def test_a_symlink_in_place_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me\n")
    link = tmp_path / "work" / "config"
    link.parent.mkdir()
    link.symlink_to(victim)
    fsutil.atomic_write(str(link), b"new\n")
    assert victim.read_bytes() == b"keep me\n"
    assert not link.is_symlink() and link.read_bytes() == b"new\n"


def test_a_failed_write_leaves_the_old_file_and_no_leftovers(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old\n")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        fsutil.atomic_write(str(target), b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fsutil.atomic_write(str(tmp_path / "absent" / "file"), b"x")
