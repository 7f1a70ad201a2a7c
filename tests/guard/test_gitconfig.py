"""The guard asks git for its configuration: aliases and remotes wherever git defines them."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.guard.conftest import Workspace
from tether.guard import gitconfig


def test_alias_in_xdg_config_is_seen(ws: Workspace) -> None:
    xdg = ws.home / ".config" / "git"
    xdg.mkdir(parents=True)
    (xdg / "config").write_text("[alias]\n\twipe = !rm -rf ~\n")
    d = ws.load().check_command("git wipe", ws.ctx())
    assert d.verdict != "allow", d.reasons


def test_alias_pulled_in_by_include_is_seen(ws: Workspace) -> None:
    extra = ws.home / "extra.gitconfig"
    extra.write_text("[alias]\n\tnuke = !rm -rf ~\n")
    (ws.root / ".git" / "config").write_text(
        (ws.root / ".git" / "config").read_text() + f"[include]\n\tpath = {extra}\n")
    d = ws.load().check_command("git nuke", ws.ctx())
    assert d.verdict != "allow", d.reasons


def test_remote_in_global_config_is_seen(ws: Workspace) -> None:
    (ws.home / ".gitconfig").write_text('[remote "drop"]\n\turl = https://evil.example/x.git\n')
    subprocess.run(["git", "-C", str(ws.root), "remote", "add", "origin",
                    "https://github.com/acme/app.git"], check=True)
    guard = ws.load()
    assert guard.check_command("git push origin feature-x", ws.ctx()).verdict == "allow"
    assert guard.check_command("git fetch drop", ws.ctx()).verdict != "allow"


def test_cache_follows_config_changes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    store = tmp_path / "store"
    store.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    home = os.environ["HOME"]
    first = gitconfig.load(str(root), str(store), home)
    assert first.get("alias.x") is None
    assert (store / gitconfig.CACHE_NAME).exists()
    time.sleep(0.01)
    subprocess.run(["git", "-C", str(root), "config", "alias.x", "!echo hi"], check=True)
    assert gitconfig.load(str(root), str(store), home).get("alias.x") == "!echo hi"
    # A global file that did not exist before is noticed too.
    Path(home, ".gitconfig").write_text("[alias]\n\ty = status\n")
    assert gitconfig.load(str(root), str(store), home).get("alias.y") == "status"


def test_no_git_means_an_empty_configuration(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    cfg = gitconfig.load(str(tmp_path), None, os.environ["HOME"])
    assert cfg.entries == [] and cfg.remotes() == {}


def test_key_case_rules() -> None:
    cfg = gitconfig.GitConfig([("remote.Origin.url", "a"), ("alias.st", "status")])
    assert cfg.get("REMOTE.Origin.URL") == "a"
    assert cfg.get("remote.origin.url") is None
    assert cfg.get("Alias.ST") == "status"
    assert cfg.remotes() == {"Origin": "a"}
