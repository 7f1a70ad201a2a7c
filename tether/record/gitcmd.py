"""Running git against tether's own object store, isolated from the user's git setup.

The user's global and system config could install filters, an fsmonitor hook,
end-of-line conversion or LFS; none of that may change what tether stores, so
every call runs with only the store's own config and a scrubbed environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from tether.errors import StoreError

_git: str | None = None


def git_binary() -> str:
    global _git
    if _git is None:
        found = shutil.which("git")
        if found is None:
            raise StoreError("git was not found on PATH; tether needs git 2.36 or newer to snapshot files")
        _git = found
    return _git


def _env(git_dir: str, work_tree: str | None, index: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_DIR": git_dir,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
    })
    if work_tree is not None:
        env["GIT_WORK_TREE"] = work_tree
    if index is not None:
        env["GIT_INDEX_FILE"] = index
    return env


def run(git_dir: str, args: Sequence[str], *, work_tree: str | None = None,
        index: str | None = None, input: bytes | None = None, check: bool = True,
        cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        res = subprocess.run(
            [git_binary(), *args], input=input, capture_output=True,
            env=_env(git_dir, work_tree, index), cwd=cwd or work_tree or git_dir, check=False,
        )
    except OSError as exc:
        raise StoreError(f"could not run git: {exc}") from None
    if check and res.returncode != 0:
        msg = res.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = msg[-1] if msg else f"exit status {res.returncode}"
        raise StoreError(f"git {args[0]} failed: {detail}")
    return res
