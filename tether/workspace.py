"""Where things live: the workspace root, its git directory, and tether's store.

The store is kept outside the files an agent works on: inside the workspace's
git directory when there is one (``.git/tether``), else in a per-user data
folder keyed by the workspace path. Nothing here starts a subprocess: the hook
entry point calls it on every event.
"""

from __future__ import annotations

import os

from tether.errors import TetherError

POLICY_DIR = ".tether"
POLICY_FILE = "policy.toml"


def _git_dir_of(root: str) -> str | None:
    """The git directory of a worktree root, following a ``.git`` file (worktrees, submodules)."""
    dotgit = os.path.join(root, ".git")
    if os.path.isdir(dotgit):
        return dotgit
    if os.path.isfile(dotgit):
        try:
            with open(dotgit, encoding="utf-8") as fh:
                line = fh.readline().strip()
        except OSError:
            return None
        if line.startswith("gitdir:"):
            path = line[len("gitdir:"):].strip()
            if not os.path.isabs(path):
                path = os.path.join(root, path)
            path = os.path.normpath(path)
            if os.path.isdir(path):
                return path
    return None


def git_dir(root: str) -> str | None:
    """The git directory of a worktree root (``.git``, or where a ``.git`` file points), if any."""
    return _git_dir_of(root)


def find_root(start: str) -> str:
    """The workspace root for a folder: the nearest ancestor that tether was set up in.

    A folder counts as set up when it holds ``.tether/``. Without one, the nearest
    git worktree root is used; failing that, ``start`` itself.
    """
    start = os.path.realpath(start)
    git_root: str | None = None
    cur = start
    while True:
        if os.path.isdir(os.path.join(cur, POLICY_DIR)):
            return cur
        if git_root is None and os.path.exists(os.path.join(cur, ".git")):
            git_root = cur
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    return git_root or start


def data_home() -> str:
    """The per-user data folder (XDG_DATA_HOME, else ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "tether")


def store_dir(root: str) -> str:
    """The folder that holds tether's store for a workspace root."""
    override = os.environ.get("TETHER_STORE")
    if override:
        return os.path.abspath(override)
    git_dir = _git_dir_of(root)
    if git_dir is not None:
        return os.path.join(git_dir, "tether")
    import hashlib

    digest = hashlib.sha256(os.fsencode(root)).hexdigest()[:16]
    name = os.path.basename(root.rstrip("/")) or "root"
    return os.path.join(data_home(), "stores", f"{name}-{digest}")


def policy_path(root: str) -> str:
    return os.path.join(root, POLICY_DIR, POLICY_FILE)


def relpath(root: str, path: str, cwd: str | None = None) -> str | None:
    """A path as seen from the workspace root, with forward slashes; None when outside it.

    Symlinks in the parent folders are resolved, the final component is not: a
    symlink inside the workspace that points outside is still a workspace file.
    """
    if not os.path.isabs(path):
        path = os.path.join(cwd or root, path)
    path = os.path.normpath(path)
    parent, name = os.path.split(path)
    real = os.path.join(os.path.realpath(parent), name) if name else os.path.realpath(parent)
    rel = os.path.relpath(real, root)
    if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
        return None
    return rel.replace(os.sep, "/")


def require_root(start: str) -> str:
    root = find_root(start)
    if not os.path.isdir(root):
        raise TetherError(f"not a folder: {root}")
    return root
