"""File, web and MCP tools: path classes, the workspace boundary and the network allowlist."""

from __future__ import annotations

import os

import pytest

from tests.guard.conftest import Workspace


def test_reads(ws: Workspace) -> None:
    ws.write(".env", "TOKEN=x")
    ws.write(".env.example", "TOKEN=")
    assert ws.tool("Read", {"file_path": str(ws.root / "src" / "app.py")}).verdict == "allow"
    d = ws.tool("Read", {"file_path": str(ws.root / ".env")})
    assert d.verdict == "deny" and "path.secrets.read" in d.rules and "secrets" in d.risks
    assert ws.tool("Read", {"file_path": str(ws.root / ".env.example")}).verdict == "allow"
    assert ws.tool("Read", {"file_path": "/etc/hostname"}).verdict == "allow"
    assert ws.tool("Read", {"file_path": "/etc/shadow"}).verdict == "deny"
    assert ws.tool("Read", {"file_path": str(ws.home / ".aws" / "credentials")}).verdict == "deny"
    assert ws.tool("Read", {"file_path": str(ws.home / ".ssh" / "id_ed25519.pub")}).verdict == "allow"
    assert ws.tool("Read", {"file_path": str(ws.root / "deploy" / "server.pem")}).verdict == "deny"


def test_relative_dotdot_and_symlinked_paths_are_resolved(ws: Workspace) -> None:
    ws.write(".env", "TOKEN=x")
    assert ws.tool("Read", {"file_path": "src/../.env"}).verdict == "deny"
    (ws.root / "config.txt").symlink_to(ws.root / ".env")
    assert ws.tool("Read", {"file_path": str(ws.root / "config.txt")}).verdict == "deny"
    (ws.root / "out").symlink_to("/etc")
    d = ws.tool("Write", {"file_path": str(ws.root / "out" / "profile"), "content": "x"})
    assert d.verdict == "deny"
    assert "fs.write.system" in d.rules or "path.persistence.write" in d.rules


def test_writes(ws: Workspace) -> None:
    assert ws.tool("Write", {"file_path": str(ws.root / "src" / "new.py"), "content": "x"}).verdict == "allow"
    assert ws.tool("Edit", {"file_path": str(ws.root / "src" / "app.py"), "old_string": "a",
                            "new_string": "b"}).verdict == "allow"
    assert ws.tool("Write", {"file_path": str(ws.scratch / "x.txt"), "content": "x"}).verdict == "allow"
    d = ws.tool("Write", {"file_path": str(ws.home / "notes.txt"), "content": "x"})
    assert d.verdict == "ask" and "fs.write.outside" in d.rules and "outside-workspace" in d.risks
    d = ws.tool("Write", {"file_path": "/etc/cron.d/job", "content": "x"})
    assert d.verdict == "deny"
    d = ws.tool("Edit", {"file_path": str(ws.home / ".bashrc")})
    assert d.verdict == "deny" and "path.persistence.write" in d.rules
    d = ws.tool("NotebookEdit", {"notebook_path": str(ws.root / "nb.ipynb"), "new_source": "x"})
    assert d.verdict == "allow"


@pytest.mark.parametrize("rel", [
    ".tether/policy.toml", ".claude/settings.json", ".claude/settings.local.json",
    ".codex/config.toml", ".gemini/settings.json", ".git/hooks/pre-commit",
    ".git/tether/events.db",
])
def test_the_agent_cannot_loosen_its_own_guard(ws: Workspace, rel: str) -> None:
    for tool in ("Write", "Edit", "MultiEdit"):
        d = ws.tool(tool, {"file_path": str(ws.root / rel), "content": "x"})
        assert d.verdict == "deny", (tool, rel, d.rules)
        assert "self-protection" in d.risks
    # Reading them is fine: the agent may know its own policy.
    assert ws.tool("Read", {"file_path": str(ws.root / rel)}).verdict == "allow"


def test_locked_protection_survives_a_tool_allow_rule(ws: Workspace) -> None:
    (ws.root / ".tether").mkdir()
    (ws.root / ".tether" / "policy.toml").write_text('[tools]\nWrite = "allow"\nBash = "allow"\n')
    ws.guard = ws.load()
    assert ws.tool("Write", {"file_path": str(ws.home / "x"), "content": "x"}).verdict == "allow"
    assert ws.tool("Write", {"file_path": str(ws.root / ".tether" / "policy.toml")}).verdict == "deny"
    assert ws.command("rm -rf /").verdict == "allow"
    assert ws.command("echo x > .claude/settings.json").verdict == "deny"


def test_sensitive_source_classes_ask(ws: Workspace) -> None:
    for rel, rule in [("src/auth/login.py", "path.auth.write"),
                      ("db/migrations/0002_add.py", "path.migrations.write"),
                      (".github/workflows/ci.yml", "path.ci.write"),
                      ("infra/main.tf", "path.infrastructure.write"),
                      ("package.json", "path.dependencies.write"),
                      ("src/billing/invoice.py", "path.billing.write")]:
        d = ws.tool("Edit", {"file_path": str(ws.root / rel)})
        assert d.verdict == "ask" and rule in d.rules, (rel, d.rules)
        assert ws.tool("Read", {"file_path": str(ws.root / rel)}).verdict == "allow"


def test_grep_and_glob(ws: Workspace) -> None:
    ws.write(".env", "TOKEN=x")
    assert ws.tool("Grep", {"pattern": "TODO"}).verdict == "allow"
    assert ws.tool("Grep", {"pattern": "TOKEN", "path": str(ws.root / ".env")}).verdict == "deny"
    assert ws.tool("Grep", {"pattern": "TOKEN", "path": str(ws.root), "glob": ".env*"}).verdict == "deny"
    assert ws.tool("Glob", {"pattern": "**/*.py"}).verdict == "allow"
    assert ws.tool("LS", {"path": "/"}).verdict == "allow"


def test_web_tools(ws: Workspace) -> None:
    assert ws.tool("WebFetch", {"url": "https://docs.python.org/3/", "prompt": "x"}).verdict == "allow"
    assert ws.tool("WebFetch", {"url": "https://api.github.com/x", "prompt": "x"}).verdict == "allow"
    d = ws.tool("WebFetch", {"url": "https://unknown.example/page", "prompt": "x"})
    assert d.verdict == "ask" and "net.fetch" in d.rules and "network" in d.risks
    assert ws.tool("WebFetch", {"url": "file:///etc/shadow", "prompt": "x"}).verdict == "deny"
    assert ws.tool("WebSearch", {"query": "x"}).verdict == "allow"


def test_mcp_tools(ws: Workspace) -> None:
    ws.write(".env", "TOKEN=x")
    assert ws.tool("mcp__github__get_issue", {"issue": 1}).verdict == "allow"
    assert ws.tool("mcp__docs__search_pages", {"q": "x"}).verdict == "allow"
    d = ws.tool("mcp__github__create_pull_request", {"title": "x"})
    assert d.verdict == "ask" and "tool.mcp-write" in d.rules
    assert ws.tool("mcp__fs__read_file", {"path": str(ws.root / ".env")}).verdict == "deny"
    d = ws.tool("mcp__fs__write_file", {"path": str(ws.root / ".claude" / "settings.json")})
    assert d.verdict == "deny"
    (ws.root / ".tether").mkdir()
    (ws.root / ".tether" / "policy.toml").write_text(
        '[tools]\n"mcp__github__*" = "allow"\n"mcp__github__delete_repo" = "deny"\n')
    ws.guard = ws.load()
    assert ws.tool("mcp__github__create_pull_request", {}).verdict == "allow"
    assert ws.tool("mcp__github__delete_repo", {}).verdict == "deny"


def test_bash_tool_and_unknown_tools(ws: Workspace) -> None:
    assert ws.tool("Bash", {"command": "ls", "description": "x"}).verdict == "allow"
    assert ws.tool("Bash", {"command": "rm -rf /"}).verdict == "deny"
    assert ws.tool("Bash", {}).verdict == "ask"
    assert ws.tool("TodoWrite", {"todos": []}).verdict == "allow"
    d = ws.tool("BrandNewTool", {"x": 1})
    assert d.verdict == "ask"


def test_malformed_input_fails_closed(ws: Workspace) -> None:
    d = ws.guard.check_tool("Read", "not an object", ws.ctx())
    assert d.verdict != "allow"
    d = ws.guard.check_tool("Read", {"file_path": 42}, ws.ctx())
    assert d.verdict != "allow"


def test_cwd_of_the_call_resolves_relative_paths(ws: Workspace) -> None:
    ws.write("src/.env", "X=1")
    d = ws.guard.check_tool("Read", {"file_path": ".env"}, ws.ctx(cwd=ws.root / "src"))
    assert d.verdict == "deny"
    assert os.path.exists(ws.root / "src" / ".env")
