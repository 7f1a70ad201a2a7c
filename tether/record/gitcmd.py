"""Running git against tether's own object store, isolated from the user's git setup.

The user's global and system config could install filters, an fsmonitor hook,
end-of-line conversion or LFS; none of that may change what tether stores, so
every call runs with only the store's own config and a scrubbed environment.

Calls without input are started with ``os.posix_spawn`` rather than the
``subprocess`` module, whose import alone costs the hook several milliseconds.
"""

from __future__ import annotations

import os

from tether.errors import StoreError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_git: str | None = None


class Result:
    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def git_binary() -> str:
    global _git
    if _git is None:
        for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
            candidate = os.path.join(folder or ".", "git")
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                _git = candidate
                break
        else:
            raise StoreError("git was not found on PATH; tether needs git 2.36 or newer to snapshot files")
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


def raw_diff(out: bytes) -> Iterator[tuple[int, int, str, str, bytes]]:
    """The entries of ``git diff-tree -r -z --raw``: (old mode, new mode, old oid, new oid, path).

    A mode of 0 means the path is absent on that side.
    """
    parts = out.split(b"\0")
    i = 0
    while i + 1 < len(parts):
        meta, path = parts[i], parts[i + 1]
        i += 2
        if meta.startswith(b":"):
            old_mode, new_mode, old_oid, new_oid, _status = meta[1:].split(b" ")
            yield int(old_mode, 8), int(new_mode, 8), old_oid.decode("ascii"), new_oid.decode("ascii"), path


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _scratch(folder: str) -> int:
    """An anonymous file to collect stderr in: a pipe could fill up while stdout is read."""
    try:
        return os.open(folder, os.O_RDWR | os.O_TMPFILE, 0o600)
    except (AttributeError, OSError):
        path = os.path.join(folder, f".stderr-{os.getpid()}-{os.urandom(4).hex()}")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(path)
        return fd


def _spawn(argv: list[str], env: dict[str, str]) -> Result:
    err_fd = _scratch(os.path.dirname(env["GIT_DIR"]) or ".")
    out_r, out_w = os.pipe()
    try:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, err_fd, 2),
            (os.POSIX_SPAWN_CLOSE, out_r),
        ])
        os.close(out_w)
        out_w = -1
        stdout = _read_all(out_r)
        _, status = os.waitpid(pid, 0)
        os.lseek(err_fd, 0, os.SEEK_SET)
        stderr = _read_all(err_fd)
    finally:
        os.close(out_r)
        if out_w >= 0:
            os.close(out_w)
        os.close(err_fd)
    return Result(os.waitstatus_to_exitcode(status), stdout, stderr)


def run(git_dir: str, args: Sequence[str], *, work_tree: str | None = None,
        index: str | None = None, input: bytes | None = None, check: bool = True) -> Result:
    argv = [git_binary()]
    if work_tree is not None:
        argv += ["-C", work_tree]
    argv += list(args)
    env = _env(git_dir, work_tree, index)
    try:
        if input is None:
            res = _spawn(argv, env)
        else:
            import subprocess

            done = subprocess.run(argv, input=input, capture_output=True, env=env, check=False)
            res = Result(done.returncode, done.stdout, done.stderr)
    except OSError as exc:
        raise StoreError(f"could not run git: {exc.strerror or exc}") from None
    if check and res.returncode != 0:
        msg = res.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = msg[-1] if msg else f"exit status {res.returncode}"
        raise StoreError(f"git {args[0]} failed: {detail}")
    return res
