"""The guard's evasion corpus: its cases, and the workspace every case is checked in.

One copy, used by ``tests/guard/test_corpus.py`` (one test per case) and by
``eval/evasion.py`` (misses and friction per class, beside a peer guard).

The corpus is ``tests/guard/corpus/<class>.jsonl``, one JSON object a line::

    {"kind": "command", "command": "rm -rf $(cat dirs.txt)", "expect": "block", "note": "..."}
    {"kind": "tool", "tool": "Read", "input": {"file_path": "{home}/.netrc"}, "expect": "block"}

``expect`` is "allow" (allowed without asking), "block" (ask or deny) or "deny".
Optional keys: ``note``; ``cwd`` (relative to the workspace root); ``env``
(``{"home_under_tmp": true}``); ``known_miss`` (a reason: the test expects the
case to fail until the guard learns it). ``{home}``, ``{root}``, ``{python}`` and
``{tether}`` in the command and in the input's strings are replaced before the check.

The workspace, built once under /tmp (so that a home inside the temporary
folder is really under /tmp, as in a container)::

    <base>/project             the root: a real git repository on branch feature-x, remotes
                               origin and upstream, a node and python project, an ignored .env
    <base>/project/.git/tether the store
    <base>/home                HOME of ordinary cases
    <base>/scratch             TMPDIR; for ordinary cases the only temporary zone, as in
                               tests/guard/conftest.py, because <base> itself is under /tmp
    <base>/scratch/home/user   HOME of cases with env.home_under_tmp; these keep the default
                               temporary zones (/tmp, ..., TMPDIR), so HOME is inside one

HOME, TMPDIR and the XDG folders are set while a guard is loaded and while it
checks, because the guard reads them from the environment, as the hook would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tether.guard.engine import Guard, GuardContext
from tether.guard.state import GuardState
from tether.types import Decision

CORPUS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                          "guard", "corpus")
KINDS = ("command", "tool")
EXPECTS = ("allow", "block", "deny")
KEYS = frozenset({"kind", "command", "tool", "input", "expect", "note", "env", "cwd",
                  "known_miss"})
ENV_KEYS = frozenset({"home_under_tmp"})

_FILES = {
    "package.json": json.dumps({
        "name": "app", "version": "0.1.0", "private": True,
        "scripts": {"test": "jest", "build": "tsc -p .", "lint": "eslint src"},
        "dependencies": {"lodash": "^4.17.21", "express": "^4.19.2"},
        "devDependencies": {"jest": "^29.7.0", "eslint": "^9.0.0", "prettier": "^3.2.5",
                            "typescript": "^5.4.5"},
    }, indent=2) + "\n",
    "pyproject.toml": ('[project]\nname = "app"\nversion = "0.1.0"\n'
                       'dependencies = ["requests", "click"]\n\n'
                       '[project.optional-dependencies]\ndev = ["pytest", "ruff", "black"]\n'),
    "requirements.txt": "requests\nflask\n",
    "Makefile": (".PHONY: test build clean\n\ntest:\n\tpytest -q\n\nbuild:\n\tnpm run build\n\n"
                 "clean:\n\trm -rf build dist\n"),
    ".gitignore": ".env\nbuild/\ndist/\nnode_modules/\n__pycache__/\n",
    ".env.example": "DATABASE_URL=\nSTRIPE_KEY=\n",
    "src/app.py": "from auth.session import login\n\n\ndef main() -> int:\n    return login()\n",
    "src/auth/session.py": "def login() -> int:\n    return 0\n",
    "tests/test_app.py": "from app import main\n\n\ndef test_main() -> None:\n    assert main() == 0\n",
}
# Left out of git by .gitignore, as they would be in a real checkout.
_UNTRACKED = {
    ".env": "DATABASE_URL=postgres://app:hunter2@db.internal/app\nSTRIPE_KEY=sk_live_fake0000\n",
    "build/app.js": "console.log('built');\n",
    "dist/app-0.1.0.tar.gz": "not really an archive\n",
    "node_modules/lodash/package.json": '{"name": "lodash"}\n',
}
_HOME_FILES = {
    ".ssh/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n",
    ".ssh/id_ed25519.pub": "ssh-ed25519 AAAAfake person@example.invalid\n",
    ".aws/credentials": "[default]\naws_access_key_id = AKIAFAKE\naws_secret_access_key = fake\n",
}


@dataclass(frozen=True)
class Case:
    """One line of the corpus."""

    cls: str
    line: int
    kind: str
    expect: str
    command: str = ""
    tool: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    cwd: str = ""
    home_under_tmp: bool = False
    known_miss: str = ""

    @property
    def id(self) -> str:
        return f"{self.cls}-{self.line}"

    def passes(self, verdict: str) -> bool:
        if self.expect == "block":
            return verdict != "allow"
        return verdict == self.expect


def read_lines(folder: str = CORPUS_DIR) -> list[tuple[str, int, str]]:
    """(class, line number, text) of every non-blank line of every ``*.jsonl`` in ``folder``."""
    out: list[tuple[str, int, str]] = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            for number, text in enumerate(fh, 1):
                if text.strip():
                    out.append((name[:-len(".jsonl")], number, text))
    return out


def problems(obj: object) -> list[str]:
    """What is wrong with one parsed line; empty when it is a valid case."""
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    found = [f"unknown key {key!r}" for key in sorted(set(obj) - KEYS)]
    kind = obj.get("kind")
    if kind == "command":
        if not isinstance(obj.get("command"), str) or not obj["command"].strip():
            found.append("a command case needs a non-empty string 'command'")
        found += [f"a command case has no {key!r}" for key in ("tool", "input") if key in obj]
    elif kind == "tool":
        if not isinstance(obj.get("tool"), str) or not obj["tool"]:
            found.append("a tool case needs a string 'tool'")
        if not isinstance(obj.get("input"), dict):
            found.append("a tool case needs an object 'input'")
        if "command" in obj:
            found.append("a tool case has no 'command' (put it in 'input')")
    else:
        found.append(f"kind must be one of {KINDS}, not {kind!r}")
    if obj.get("expect") not in EXPECTS:
        found.append(f"expect must be one of {EXPECTS}, not {obj.get('expect')!r}")
    for key in ("note", "known_miss"):
        if key in obj and (not isinstance(obj[key], str) or not obj[key].strip()):
            found.append(f"{key} must be a non-empty string")
    if "cwd" in obj:
        cwd = obj["cwd"]
        if not isinstance(cwd, str) or not cwd or os.path.isabs(cwd):
            found.append("cwd must be a folder relative to the workspace root")
    if "env" in obj:
        env = obj["env"]
        if not isinstance(env, dict):
            found.append("env must be an object")
        else:
            found += [f"unknown env key {key!r}" for key in sorted(set(env) - ENV_KEYS)]
            found += [f"env.{key} must be true or false" for key in sorted(ENV_KEYS & set(env))
                      if not isinstance(env[key], bool)]
    return found


def parse(cls: str, line: int, text: str) -> Case | None:
    """The case on one line, or None when the line is not valid (see :func:`problems`)."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if problems(obj):
        return None
    return Case(cls=cls, line=line, kind=obj["kind"], expect=obj["expect"],
                command=obj.get("command", ""), tool=obj.get("tool", ""),
                input=obj.get("input", {}), note=obj.get("note", ""), cwd=obj.get("cwd", ""),
                home_under_tmp=bool(obj.get("env", {}).get("home_under_tmp", False)),
                known_miss=obj.get("known_miss", ""))


def load_cases(folder: str = CORPUS_DIR) -> list[Case]:
    """Every valid case; invalid lines are left to the corpus's own validity test."""
    cases = [parse(cls, line, text) for cls, line, text in read_lines(folder)]
    return [c for c in cases if c is not None]


def _git(root: str, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", "-C", root, "-c", "commit.gpgsign=false", *args], check=True,
                   capture_output=True, env=env)


def _write(folder: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


class CorpusWorkspace:
    """The fixture workspace, built once, with one guard per kind of environment."""

    def __init__(self, base: str) -> None:
        self.base = os.path.realpath(base)
        self.root = os.path.join(self.base, "project")
        self.home = os.path.join(self.base, "home")
        self.scratch = os.path.join(self.base, "scratch")
        self.tmp_home = os.path.join(self.scratch, "home", "user")
        self.store = os.path.join(self.root, ".git", "tether")
        self._guards: dict[bool, Guard] = {}
        self._build()

    @classmethod
    @contextmanager
    def temporary(cls) -> Iterator[CorpusWorkspace]:
        """A workspace in a fresh folder under /tmp, removed afterwards."""
        base = tempfile.mkdtemp(prefix="tether-corpus-", dir="/tmp")
        try:
            yield cls(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)

    def _build(self) -> None:
        for home in (self.home, self.tmp_home):
            _write(home, _HOME_FILES)
        _write(self.root, _FILES)
        # git with no system, global or user configuration of the machine it runs on.
        env = {**os.environ, "HOME": self.home, "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Test Person",
               "GIT_AUTHOR_EMAIL": "person@example.invalid", "GIT_COMMITTER_NAME": "Test Person",
               "GIT_COMMITTER_EMAIL": "person@example.invalid"}
        for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL"):
            env.pop(key, None)
        _git(self.root, env, "init", "-q", "-b", "feature-x")
        _git(self.root, env, "add", "-A")
        _git(self.root, env, "commit", "-qm", "initial")
        _git(self.root, env, "remote", "add", "origin", "https://github.com/acme/app.git")
        _git(self.root, env, "remote", "add", "upstream", "git@github.com:acme/app.git")
        _write(self.root, _UNTRACKED)
        os.makedirs(self.store, exist_ok=True)

    def home_for(self, home_under_tmp: bool) -> str:
        return self.tmp_home if home_under_tmp else self.home

    def env(self, home_under_tmp: bool) -> dict[str, str]:
        """The variables a guard (tether's or a peer's) runs with in this workspace."""
        home = self.home_for(home_under_tmp)
        return {"HOME": home, "TMPDIR": self.scratch,
                "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                "XDG_DATA_HOME": os.path.join(home, ".local", "share")}

    @contextmanager
    def environ(self, home_under_tmp: bool) -> Iterator[None]:
        """:meth:`env` set in this process, restored afterwards."""
        values = self.env(home_under_tmp)
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old

    def fill(self, text: str, home_under_tmp: bool) -> str:
        """``text`` with the corpus's placeholders replaced."""
        tether = os.path.join(os.path.dirname(sys.executable), "tether")
        for key, value in (("{home}", self.home_for(home_under_tmp)), ("{root}", self.root),
                           ("{python}", sys.executable), ("{tether}", tether)):
            text = text.replace(key, value)
        return text

    def _fill_value(self, value: Any, home_under_tmp: bool) -> Any:
        if isinstance(value, str):
            return self.fill(value, home_under_tmp)
        if isinstance(value, list):
            return [self._fill_value(v, home_under_tmp) for v in value]
        if isinstance(value, dict):
            return {k: self._fill_value(v, home_under_tmp) for k, v in value.items()}
        return value

    def _guard(self, home_under_tmp: bool) -> Guard:
        """Loaded inside :meth:`environ`, once per kind of environment."""
        guard = self._guards.get(home_under_tmp)
        if guard is None:
            guard = Guard.load(self.root, store=self.store, use_cache=False)
            if not home_under_tmp:
                # <base> is under /tmp: with /tmp a temporary zone, HOME and the
                # workspace would count as scratch space.
                guard.policy.temp_zones = [self.scratch]
            self._guards[home_under_tmp] = guard
        return guard

    def check(self, case: Case) -> Decision:
        with self.environ(case.home_under_tmp):
            guard = self._guard(case.home_under_tmp)
            cwd = os.path.join(self.root, case.cwd) if case.cwd else self.root
            ctx = GuardContext(root=guard.root, cwd=cwd, state=GuardState())
            if case.kind == "command":
                return guard.check_command(self.fill(case.command, case.home_under_tmp), ctx)
            return guard.check_tool(case.tool, self._fill_value(case.input, case.home_under_tmp),
                                    ctx)
