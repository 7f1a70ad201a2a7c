"""The hook's side of the daemon: hand one event over a Unix socket, get the answer back.

A hook process imports this on every tool call, so it uses the C socket module
directly (``socket`` pulls in ``enum`` and ``selectors``) and nothing else.

The exchange, one connection per event::

    client: b"TETHER/1\\n" + header + b"\\n" + payload, then shuts its writing side
    daemon: b"<exit status>\\0<stdout>\\0<stderr>", or b"-" for "do it yourself"

The header is NUL-separated: agent, event, delivery id, cwd, CLAUDE_PROJECT_DIR (or ""),
then ``NAME=value`` for each variable of IDENTITY. The daemon refuses ("-") a request
whose identity differs from its own: the guard and the recorder read those variables,
and a daemon started with other ones could give another answer than the hook would.

Whatever goes wrong here (no daemon, a refused or dropped connection, no answer before
the deadline) ``ask`` returns None and the hook does the work itself, under the same
delivery id, so that an event the daemon journaled before dying is not journaled twice.
"""

from __future__ import annotations

import os

try:
    import _socket
except ImportError:  # pragma: no cover - a platform without sockets: always in-process
    _socket = None  # type: ignore[assignment]

MAGIC = b"TETHER/1\n"
SOCKET_NAME = "daemon.sock"
# Variables whose values the guard or the recorder read (see the module docstring).
IDENTITY = ("HOME", "USER", "LOGNAME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "TETHER_STORE",
            "GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
            "GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS", "GIT_DIR")
# How long a hook waits for the daemon's answer before doing the work itself. Well under
# the hook's own deadline (tether.hook.GUARD_DEADLINE, 90 s), which still applies after it.
DEADLINE = 10.0
# The largest answer accepted (a deny's reasons, JSON on stdout).
MAX_ANSWER = 4 << 20


def runtime_dir() -> str:
    """The folder of the daemon's socket: $XDG_RUNTIME_DIR/tether, else /tmp/tether-UID.

    Either is private to the user (the server creates it 0700 and checks its owner).
    TETHER_RUNTIME_DIR overrides both.
    """
    override = os.environ.get("TETHER_RUNTIME_DIR")
    if override:
        return override
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isabs(base) and os.path.isdir(base):
        return os.path.join(base, "tether")
    return os.path.join("/tmp", f"tether-{os.getuid()}")


def socket_path() -> str:
    return os.path.join(runtime_dir(), SOCKET_NAME)


def enabled() -> bool:
    """TETHER_DAEMON=off makes every hook work in-process."""
    return os.environ.get("TETHER_DAEMON", "") not in ("off", "0", "no")


def identity() -> list[bytes]:
    return [f"{name}={os.environ.get(name, '')}".encode("utf-8", "surrogateescape") for name in IDENTITY]


def new_delivery() -> str:
    return os.urandom(16).hex()


def _deadline() -> float:
    try:
        return float(os.environ.get("TETHER_DAEMON_TIMEOUT") or DEADLINE)
    except ValueError:
        return DEADLINE


def request(agent: str, event: str, delivery: str, payload: bytes, cwd: str | None = None) -> bytes:
    fields = [agent.encode(), event.encode(), delivery.encode(),
              os.fsencode(cwd if cwd is not None else os.getcwd()),
              os.fsencode(os.environ.get("CLAUDE_PROJECT_DIR", "")), *identity()]
    return MAGIC + b"\0".join(fields) + b"\n" + payload


def parse_answer(data: bytes) -> tuple[int, str | None, str | None] | None:
    parts = data.split(b"\0", 2)
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    out, err = parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace")
    return int(parts[0]), out or None, err or None


def exchange(data: bytes, path: str | None = None, deadline: float | None = None) -> bytes | None:
    """Send one request and read the whole answer; None if the daemon cannot be reached in time."""
    if _socket is None:
        return None
    import time

    limit = time.monotonic() + (_deadline() if deadline is None else deadline)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(max(0.001, limit - time.monotonic()))
        sock.connect(path or socket_path())
        sock.sendall(data)
        sock.shutdown(_socket.SHUT_WR)
        chunks = []
        size = 0
        while True:
            left = limit - time.monotonic()
            if left <= 0:
                return None
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ANSWER:
                return None
        return b"".join(chunks)
    except OSError:
        # No socket, nobody listening, a daemon that died mid-answer, the deadline (a
        # timeout is an OSError too): all mean the same here.
        return None
    finally:
        sock.close()


def ask(agent: str, event: str, payload: bytes, delivery: str) -> tuple[int, str | None, str | None] | None:
    """The daemon's answer to one hook event, or None when the hook must do the work itself."""
    answer = exchange(request(agent, event, delivery, payload))
    return None if answer is None else parse_answer(answer)


def ping(timeout: float = 1.0) -> int | None:
    """The pid of the daemon answering on the socket, or None."""
    found = counters(timeout)
    return None if found is None else found[0]


def counters(timeout: float = 1.0) -> tuple[int, int] | None:
    """(pid, requests answered so far) of the daemon answering on the socket, or None."""
    answer = exchange(request("-", "PING", "", b"", cwd="/"), deadline=timeout)
    parsed = None if answer is None else parse_answer(answer)
    if parsed is None or not parsed[1] or not parsed[1].isdigit():
        return None
    return int(parsed[1]), int(parsed[2]) if parsed[2] and parsed[2].isdigit() else 0


def state() -> dict[str, object]:
    """`tether status`'s daemon object: {"running", "pid", "url", "socket"}.

    The url is null until the daemon serves a page (a later piece of work).
    """
    pid = ping()
    return {"running": pid is not None, "pid": pid, "url": None, "socket": socket_path()}
