"""The agent's OS sandbox, as `tether init` configures it, with the real Claude Code.

The guard decides what the agent asks to do; these tests are about what the code it
runs can do once a call got past the guard. harness/FACTS.md ("Sandbox") lists the facts
pinned here.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from harness.claude import ClaudeRun, run_claude
from harness.scripted_model import ScriptedModel, ToolCall
from tests.harness.e2e_support import git

pytestmark = pytest.mark.e2e

IDENTITY = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.invalid"}




def tether(repo: Path, *args: str) -> Any:
    res = subprocess.run([sys.executable, "-m", "tether", *args], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout) if "--json" in args else res


class Project:
    def __init__(self, tmp: Path, *init: str) -> None:
        base = Path(os.path.realpath(tmp))
        self.repo, self.home = base / "project", base / "home"
        self.repo.mkdir()
        self.home.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        (self.repo / "README.md").write_text("# project\n")
        (self.repo / ".gitignore").write_text("vendor/\n__pycache__/\n")
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-qm", "initial")
        tether(self.repo, "init", *init)

    def run(self, calls: list[ToolCall], prompt: str = "do the work") -> ClaudeRun:
        with ScriptedModel({prompt: calls}) as model:
            run = run_claude(prompt, cwd=self.repo, home=self.home, base_url=model.url,
                             allowed_tools=("Bash", "Write", "Edit", "Read"), timeout=180,
                             env=IDENTITY)
        assert run.returncode == 0, run.stderr
        return run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bash(command: str, **extra: Any) -> ToolCall:
    return ToolCall("Bash", {"command": command, "description": "a step", **extra})


# A script the agent writes, then runs: every path is put together at run time, so no
# static check of the command `python3 attack.py` can know what it touches.
ATTACK = """\
import os, subprocess, sys, urllib.request
d = "." + "tether"
targets = [os.path.join(d, "policy" + ".toml"), os.path.join(".claude", "settings" + ".local.json"),
           os.path.join(".git", "tether", "tether" + ".db"), os.path.join(".git", "hooks", "pre-commit")]
for t in targets:
    try:
        with open(t, "a") as fh:
            fh.write("\\n# loosened\\n")
        print("WROTE", t)
    except OSError as exc:
        print("REFUSED", t, exc.strerror)
for make in (lambda: os.link(targets[0], "hl"), lambda: os.rename(d, "moved"),
             lambda: os.unlink(targets[1])):
    try:
        make()
        print("DID")
    except OSError as exc:
        print("REFUSED", exc.strerror)
try:
    print("READ", open("." + "env").read())
except OSError as exc:
    print("REFUSED .env", exc.strerror)
hook = open(targets[1]).read().split('"command": "')[1].split(" ")[0]
done = subprocess.run([hook, "-m", "tether", "uninstall"], capture_output=True, text=True)
print("UNINSTALL", done.returncode, done.stderr.strip().splitlines()[-1:])
try:
    urllib.request.urlopen("http://example.com/", timeout=10)
    print("FETCHED")
except Exception as exc:
    print("REFUSED network", exc)
sys.exit(1)
"""


def test_code_the_agent_runs_cannot_loosen_its_guard(tmp_path: Path, claude_bin: str) -> None:
    p = Project(tmp_path)
    repo = p.repo
    (repo / ".env").write_text("API_TOKEN=do-not-read\n")
    # Files a person left in the workspace that overwrite the policy when unpacked or applied.
    with tarfile.open(repo / "bundle.tar", "w") as tar:
        data = b"version = 1\n[rules]\n\"fs.delete.catastrophic\" = \"allow\"\n"
        info = tarfile.TarInfo(".tether/policy.toml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    policy = repo / ".tether" / "policy.toml"
    old = policy.read_text().splitlines()
    patch = ("--- a/.tether/policy.toml\n+++ b/.tether/policy.toml\n@@ -1,2 +1,2 @@\n"
             f"-{old[0]}\n+# loosened\n {old[1]}\n")
    (repo / "fix.patch").write_text(patch)
    watched = [policy, repo / ".claude" / "settings.local.json", repo / ".git" / "info" / "exclude"]
    before = {f: digest(f) for f in watched}
    hook_python = json.loads(watched[1].read_text())["hooks"]["Stop"][0]["hooks"][0]["command"].split(" ")[0]

    run = p.run([
        ToolCall("Write", {"file_path": str(repo / "attack.py"), "content": ATTACK}),
        bash("python3 attack.py"),
        bash("perl -pi -e 's/version/# version/' .tether/policy.toml"),
        bash("cp README.md .tether/policy.toml"),
        bash("tar xf bundle.tar"),
        bash("git apply fix.patch"),
        bash("ln .tether/policy.toml hl"),
        bash(f"{hook_python} -m tether uninstall"),
        bash("echo '{}' > .claude/settings.local.json"),
        bash("python3 -c \"open('.claude/' + 'settings.local.json', 'w').write('{}')\""),
    ])
    out = json.dumps(run.tool_results()[1]["content"])
    # Each write of the script hit a read-only mount, the secret could not be read, the
    # hard link crossed a mount, the uninstall through the hook's interpreter failed, and
    # the proxy refused a host that is not on [network] allow.
    assert "WROTE" not in out and "DID" not in out, out
    assert out.count("Read-only file system") >= 4, out
    assert "Invalid cross-device link" in out and "Permission denied" in out, out
    assert "READ" not in out and "UNINSTALL 0" not in out and "FETCHED" not in out, out
    assert "403" in out, out
    assert {f: digest(f) for f in watched} == before
    assert not (repo / "hl").exists() and not (repo / "moved").exists()
    assert tether(repo, "verify").returncode == 0
    assert tether(repo, "status", "--json")["agents"]["claude"]["installed"]

    steps = [s for s in tether(repo, "log", "--json") if s["origin"] == "agent"]
    assert [s["tool"] for s in steps] == ["Write"] + ["Bash"] * 9
    attack = steps[1]
    # The guard let the script run; the sandbox stopped what it tried, and the record says so.
    assert attack["decision"] == "allow" and attack["status"] == "error"
    assert attack["files"] == []
    assert "Read-only file system" in (attack.get("error") or ""), attack
    for step in steps[2:]:
        assert step["files"] == [] or {f["path"] for f in step["files"]} <= {"hl"}, step
    # Whatever the guard let through, nothing of tether's changed (checked above) and every
    # attempt is in the log.
    assert all(s["status"] in ("blocked", "error", "ok") for s in steps)
    assert sum(s["status"] == "blocked" for s in steps) >= 4


def _wheel(folder: Path) -> Path:
    """A minimal pure-Python wheel, built without any build backend."""
    path = folder / "greeting-1.0-py3-none-any.whl"
    files = {"greeting/__init__.py": "def hello():\n    return 'hello'\n",
             "greeting-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: greeting\nVersion: 1.0\n",
             "greeting-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{name},,\n" for name in files) + "greeting-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr("greeting-1.0.dist-info/RECORD", record)
    return path


def test_ordinary_work_runs_inside_the_sandbox(tmp_path: Path, claude_bin: str) -> None:
    p = Project(tmp_path)
    repo = p.repo
    wheels = repo / "wheels"
    wheels.mkdir()
    _wheel(wheels)
    (repo / "requirements.txt").write_text("greeting==1.0\n")
    (repo / "Makefile").write_text("build:\n\tmkdir -p build && echo built > build/out.txt\n")
    (repo / "test_app.py").write_text("from greeting import hello\n\ndef test_hello():\n    assert hello() == 'hello'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "project files")
    run = p.run([
        bash("git checkout -b feature"),
        bash(f"{sys.executable} -m pip install -q --no-cache-dir --no-index --find-links wheels "
             "--target vendor -r requirements.txt"),
        bash("PYTHONPATH=vendor python3 -c 'import test_app; test_app.test_hello(); print(\"tests pass\")'"),
        bash("make build && printenv TMPDIR > build/tmp.txt && mktemp"),
        bash("echo 'VERSION = 2' > version.py && git status --porcelain && git add -A && git commit -qm 'version 2' "
             "&& git log --oneline | head -1"),
    ])
    outs = [json.dumps(r.get("content")) for r in run.tool_results()]
    errors = [r for r in run.tool_results() if r.get("is_error")]
    assert not errors, json.dumps(errors, indent=1)
    assert "tests pass" in outs[2]
    assert (repo / "vendor" / "greeting" / "__init__.py").exists()
    assert (repo / "build" / "out.txt").read_text() == "built\n"
    # The placeholders the sandbox mounts for names that do not exist are not listed by git.
    assert "??" in outs[4] and ".bashrc" not in outs[4] and ".mcp.json" not in outs[4], outs[4]
    assert git(repo, "log", "--format=%s", "-1").strip() == "version 2"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "feature"
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["build/out.txt", "build/tmp.txt",
                                                                            "version.py"]
    # What a run leaves behind: nothing that git lists.
    assert git(repo, "status", "--porcelain") == ""
    steps = [s for s in tether(repo, "log", "--json") if s["origin"] == "agent"]
    assert [s["status"] for s in steps] == ["ok"] * 5


def test_leaving_the_sandbox_is_asked_about_and_ignored(tmp_path: Path, claude_bin: str) -> None:
    p = Project(tmp_path)
    run = p.run([bash("touch escaped.txt", dangerouslyDisableSandbox=True)])
    [result] = run.tool_results()
    assert result.get("is_error") and "dangerouslyDisableSandbox" in json.dumps(result["content"])
    [step] = [s for s in tether(p.repo, "log", "--json") if s["origin"] == "agent"]
    assert step["status"] == "blocked" and step["rules"] == ["sandbox.escape"], json.dumps(step)
    assert not (p.repo / "escaped.txt").exists()
    # Had the guard allowed it, Claude Code would still have run it inside: with
    # allowUnsandboxedCommands false the flag is ignored.
    (p.repo / ".tether" / "policy.toml").write_text('version = 1\n[rules]\n"sandbox.escape" = "allow"\n')
    tether(p.repo, "policy", "accept", "--yes")  # a person's edit, accepted (tamper evidence)
    run = p.run([bash("echo x > /tmp/escaped.txt; echo rc=$?", dangerouslyDisableSandbox=True)],
                prompt="try again")
    [result] = run.tool_results()
    assert "Read-only file system" in json.dumps(result["content"]), result
