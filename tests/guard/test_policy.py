"""The policy file: defaults, merging, validation with file, line and key, caching, failing closed."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tests.guard.conftest import Workspace
from tether.errors import PolicyError
from tether.guard import policy as policy_mod
from tether.guard.catalog import RULES
from tether.guard.engine import Guard


def write_policy(ws: Workspace, text: str) -> Path:
    path = ws.root / ".tether" / "policy.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_default_policy_without_a_file(ws: Workspace) -> None:
    assert ws.guard.policy.source == "<built-in default>"
    assert ws.guard.policy.decide("fs.delete.catastrophic", "destructive") == "deny"
    assert ws.guard.policy.host_allowed("github.com")
    assert ws.guard.policy.host_allowed("raw.githubusercontent.com")
    assert not ws.guard.policy.host_allowed("evil.example")
    assert ws.guard.policy.branch_protected("main")
    assert ws.guard.policy.branch_protected("release/1.2")
    assert not ws.guard.policy.branch_protected("feature-x")
    zones = ws.guard.policy.data["zones"]["temp"]
    assert "/tmp" in zones and "/var/tmp" in zones


def test_every_default_rule_is_in_the_catalogue() -> None:
    with open(policy_mod.DEFAULT_POLICY_FILE, "rb") as fh:
        data = tomllib.load(fh)
    assert set(data["rules"]) <= set(RULES)
    # ...and every catalogued rule has a decision somewhere (its own or its risk's).
    for rule, (risk, _desc) in RULES.items():
        assert rule in data["rules"] or risk in data["risks"], rule


def test_lists_replace_or_extend_with_ellipsis(ws: Workspace) -> None:
    write_policy(ws, '[network]\nallow = ["...", "api.mine.example"]\n[git]\nprotected_branches = ["prod"]\n')
    pol = ws.load().policy
    assert pol.host_allowed("api.mine.example") and pol.host_allowed("pypi.org")
    assert pol.branch_protected("prod") and not pol.branch_protected("main")


def test_user_classes_and_rules(ws: Workspace) -> None:
    write_policy(ws, '[paths.fixtures]\nglobs = ["tests/fixtures/**"]\nwrite = "deny"\nrisk = "sensitive"\n'
                     '[rules]\n"path.ci.write" = "deny"\n')
    ws.guard = ws.load()
    d = ws.tool("Write", {"file_path": str(ws.root / "tests/fixtures/a.json"), "content": "x"})
    assert d.verdict == "deny" and "path.fixtures.write" in d.rules
    d = ws.tool("Write", {"file_path": str(ws.root / ".github/workflows/x.yml"), "content": "x"})
    assert d.verdict == "deny"


@pytest.mark.parametrize(("text", "line", "key"), [
    ('[risks]\ndestructive = "maybe"\n', 2, "risks.destructive"),
    ('version = 1\n\n[rules]\n"no.such.rule" = "deny"\n', 4, "rules.no.such.rule"),
    ('[network]\nallow = "github.com"\n', 2, "network.allow"),
    ('[network]\nhosts = ["x"]\n', 2, "network.hosts"),
    ('[paths.tether]\nwrite = "allow"\n', None, "paths.tether"),
    ('[rules]\n"path.tether.write" = "allow"\n', 2, "rules.path.tether.write"),
    ('[paths.mine]\nglobs = ["x"]\nread = "sometimes"\n', 3, "paths.mine.read"),
    ('[paths.mine]\nlocked = true\n', 2, "paths.mine.locked"),
    ('[tools]\nBash = "yes"\n', 2, "tools.Bash"),
    ('[[command]]\nmatch = "x"\ndecision = "perhaps"\n', 3, "command.decision"),
    ('[[command]]\ndecision = "deny"\n', None, "command.match"),
    ('[zones]\ntemp = ["relative/path"]\n', 2, "zones.temp"),
    ('wat = 1\n', 1, "wat"),
    ('version = 2\n', 1, "version"),
])
def test_validation_errors_name_file_line_and_key(ws: Workspace, text: str, line: int | None,
                                                  key: str) -> None:
    path = write_policy(ws, text)
    with pytest.raises(PolicyError) as info:
        policy_mod.validate_file(str(path))
    msg = str(info.value)
    assert msg.startswith(str(path))
    assert key in msg
    if line is not None:
        assert f"{path}:{line}:" in msg
    assert "\n" not in msg
    # Loading the guard fails the same way: callers block the call.
    with pytest.raises(PolicyError):
        Guard.load(str(ws.root), store=str(ws.store), use_cache=False)


def test_broken_toml_fails_closed_with_a_line(ws: Workspace) -> None:
    path = write_policy(ws, '[rules]\n"fs.delete.workspace" = \n')
    with pytest.raises(PolicyError, match=rf"{path}:2: invalid TOML"):
        Guard.load(str(ws.root), store=str(ws.store), use_cache=False)


def test_cache_is_used_and_invalidated(ws: Workspace) -> None:
    ws.store.mkdir(parents=True)
    path = write_policy(ws, '[rules]\n"fs.delete.workspace" = "ask"\n')
    g1 = Guard.load(str(ws.root), store=str(ws.store))
    assert (ws.store / policy_mod.CACHE_NAME).exists()
    assert g1.policy.rules["fs.delete.workspace"] == "ask"
    g2 = Guard.load(str(ws.root), store=str(ws.store))
    assert g2.policy.rules["fs.delete.workspace"] == "ask"
    # Editing the file (new size and mtime) invalidates the cache.
    path.write_text('[rules]\n"fs.delete.workspace" = "deny" \n')
    os.utime(path, ns=(1, 1))
    g3 = Guard.load(str(ws.root), store=str(ws.store))
    assert g3.policy.rules["fs.delete.workspace"] == "deny"
    # A broken edit is never masked by the cached copy.
    path.write_text('[rules\n')
    with pytest.raises(PolicyError):
        Guard.load(str(ws.root), store=str(ws.store))
    # A corrupt cache is ignored, not trusted.
    path.write_text('[rules]\n"fs.delete.workspace" = "ask"\n')
    (ws.store / policy_mod.CACHE_NAME).write_bytes(b"garbage")
    assert Guard.load(str(ws.root), store=str(ws.store)).policy.rules["fs.delete.workspace"] == "ask"


def test_show_renders_toml_that_parses_back(ws: Workspace) -> None:
    write_policy(ws, '[[command]]\nmatch = ["a*", "b"]\ndecision = "deny"\nreason = "r \\"q\\""\n')
    pol = ws.load().policy
    again = tomllib.loads(policy_mod.to_toml(pol.data))
    assert again["rules"] == pol.data["rules"]
    assert again["paths"]["secrets"]["globs"] == pol.data["paths"]["secrets"]["globs"]
    assert again["command"][0]["match"] == ["a*", "b"]


def test_glob_semantics(ws: Workspace) -> None:
    from tether.guard.globs import PathGlob, name_match, text_match

    home = "/home/u"
    assert PathGlob("*.pem", home).match(["a", "b", "x.pem"], None)
    assert PathGlob("~/.ssh/**", home).match(["home", "u", ".ssh", "id"], None)
    assert PathGlob("**/auth/**", home).match(["w", "src", "auth", "x.py"], ["src", "auth", "x.py"])
    assert PathGlob("src/*.py", home).match(["w", "src", "a.py"], ["src", "a.py"])
    assert not PathGlob("src/*.py", home).match(["w", "src", "d", "a.py"], ["src", "d", "a.py"])
    assert PathGlob("[!.]*", home).match(["a"], None) and not PathGlob("[!.]*", home).match([".a"], None)
    assert text_match("npm run *", "npm run test -- --watch")
    assert not text_match("npm run *", "npm install")
    assert name_match("id_rsa*", "id_rsa.pub") and not name_match("*.key", "key")
