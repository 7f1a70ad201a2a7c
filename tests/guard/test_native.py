"""Claude Code's native permission rules mirroring the policy."""

from __future__ import annotations

from tests.guard.conftest import Workspace
from tether.guard.native import claude_rules


def test_rules_mirror_the_path_classes(ws: Workspace) -> None:
    rules = claude_rules(ws.guard)
    deny, ask = rules["deny"], rules["ask"]
    assert "Read(**/.env)" in deny
    assert "Read(**/*.pem)" in deny
    assert "Read(//etc/shadow)" in deny
    assert "Edit(./.tether/**)" in deny
    assert "Edit(./.claude/settings.json)" in deny
    assert "Edit(./.git/hooks/**)" in deny
    assert "Edit(~/.bashrc)" in deny
    assert f"Edit(/{ws.store}/**)" in deny
    assert "Edit(**/.env)" in ask
    # A pattern the class's exceptions could match is left to the hook (.env.example).
    assert "Read(**/.env.*)" not in deny
    # Classes that are only asked about in the hook are not asked natively on every edit.
    assert not any(r.startswith("Edit(./.github") for r in ask)
    assert not set(deny) & set(ask)
    for r in deny + ask:
        assert r.startswith(("Read(", "Edit(")) and r.endswith(")")


def test_rules_follow_a_project_policy(ws: Workspace) -> None:
    (ws.root / ".tether").mkdir()
    (ws.root / ".tether" / "policy.toml").write_text(
        '[paths.keys]\nglobs = ["keys/**"]\nread = "deny"\nwrite = "deny"\n')
    rules = claude_rules(ws.load())
    # keys/ does not exist yet: Claude Code's sandbox would mount a placeholder there, which
    # `git add -A` refuses, so the rule is left to the hook until the folder exists.
    assert not any("(./keys" in r for r in rules["deny"]), [r for r in rules["deny"] if "keys" in r]
    (ws.root / "keys").mkdir()
    rules = claude_rules(ws.load())
    assert "Read(./keys/**)" in rules["deny"] and "Edit(./keys/**)" in rules["deny"]


def test_rules_the_sandbox_cannot_hold_are_left_to_the_hook(ws: Workspace) -> None:
    deny = claude_rules(ws.guard)["deny"]
    # bubblewrap fails at random on a mount under /proc; an absent .codex gets a placeholder.
    assert not any("/proc/" in r for r in deny)
    assert not any(r.startswith("Edit(./.codex") for r in deny)
    (ws.root / ".codex").mkdir()
    assert "Edit(./.codex/**)" in claude_rules(ws.load())["deny"]
