"""The daemon: one process per user that answers the hook events of every workspace.

It runs the hook's own code (``tether.hook.run``) on each event it is handed, so an
answer from the daemon is the answer the hook would have given in-process: the same
policy files read through the same stat-keyed cache (an edit of the policy counts from
the next call on), the same store, lock and transaction. What it saves is the start of
an interpreter and its imports on every tool call, and, with a watcher per workspace
(tether.daemon.watch), the walk of every file on every shell command.

Files, in the runtime folder (tether.daemon.client.runtime_dir, created 0700)::

    daemon.sock   the Unix socket, mode 0600
    daemon.lock   an flock held for the daemon's whole life: one daemon per folder
    daemon.pid    its process id, for `tether serve --stop` and `tether status`
    daemon.log    what a detached daemon prints

An answer is sent only after ``run`` returns, that is after the event is committed to
the journal (synchronous=FULL). A daemon killed before that leaves nothing behind (the
transaction rolls back, the flock goes with the process) and the hook does the work.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import struct
import sys
import threading
import time

from tether.daemon import client

# The most a request may hold: the hook's own limit on its input, and the header.
MAX_REQUEST = (256 << 20) + (64 << 10)
# How long a connection may take to send its request.
READ_TIMEOUT = 30.0
# How long a stop waits for requests under way to finish.
DRAIN_SECONDS = 10.0


class DaemonError(Exception):
    pass


def _files() -> tuple[str, str, str, str]:
    folder = client.runtime_dir()
    return (folder, os.path.join(folder, client.SOCKET_NAME), os.path.join(folder, "daemon.lock"),
            os.path.join(folder, "daemon.pid"))


def private_folder(folder: str) -> None:
    """Create the runtime folder 0700, or check that an existing one is the user's alone."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise DaemonError(f"cannot create {folder}: {exc.strerror}") from None
    st = os.lstat(folder)
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise DaemonError(f"{folder} is not a folder of this user's; remove it or set TETHER_RUNTIME_DIR")
    if st.st_mode & 0o077:
        os.chmod(folder, 0o700)


# -- the requests ---------------------------------------------------------------------


def _peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end (Linux); None where the platform cannot say."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return None
    data = conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    return int(struct.unpack("3i", data)[1])


def _read_request(conn: socket.socket) -> bytes:
    conn.settimeout(READ_TIMEOUT)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REQUEST:
            raise DaemonError("request too large")


class Server:
    def __init__(self) -> None:
        self.identity = client.identity()
        self.stopping = threading.Event()
        self.active = 0
        self.handled = 0  # hook events answered
        self.cond = threading.Condition()
        self.listener: socket.socket | None = None

    def answer(self, data: bytes) -> bytes:
        """The answer to one request (see tether.daemon.client for the exchange)."""
        from tether import hook

        if not data.startswith(client.MAGIC):
            return b"-"
        header, sep, payload = data[len(client.MAGIC):].partition(b"\n")
        fields = header.split(b"\0")
        if not sep or len(fields) != 5 + len(client.IDENTITY):
            return b"-"
        agent, event, delivery = (f.decode("utf-8", "replace") for f in fields[:3])
        if event == "PING":
            return f"0\0{os.getpid()}\0{self.handled}".encode()
        if fields[5:] != self.identity:
            # Started with another home, data folder, git configuration...: its answer could
            # differ from the hook's own, so the hook does the work.
            return b"-"
        cwd, project_dir = os.fsdecode(fields[3]), os.fsdecode(fields[4])
        status, out, err = hook.run(agent, event, payload, cwd=cwd or None, project_dir=project_dir,
                                    delivery=delivery or None)
        with self.cond:
            self.handled += 1
        return f"{status}\0{out or ''}\0{err or ''}".encode("utf-8", "surrogateescape")

    def _serve_one(self, conn: socket.socket) -> None:
        try:
            uid = _peer_uid(conn)
            if uid is not None and uid != os.getuid():
                return
            data = _read_request(conn)
            try:
                reply = self.answer(data)
            except Exception as exc:
                # The hook will do the work itself; a daemon that cannot answer must not
                # answer wrongly.
                _log(f"request failed: {type(exc).__name__}: {exc}")
                reply = b"-"
            conn.settimeout(READ_TIMEOUT)
            conn.sendall(reply)
        except OSError:
            pass  # the hook gave up waiting: it does the work itself
        except DaemonError as exc:
            _log(str(exc))
        finally:
            conn.close()
            with self.cond:
                self.active -= 1
                self.cond.notify_all()

    # -- life ---------------------------------------------------------------------------

    def run(self, ready: threading.Event | None = None) -> None:
        folder, sock_path, lock_path, pid_path = _files()
        private_folder(folder)
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(lock_fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise DaemonError(f"a tether daemon is already running ({sock_path})") from None
            raise
        try:
            self.listener = _listen(sock_path)
            with open(pid_path + ".tmp", "w") as fh:
                fh.write(f"{os.getpid()}\n")
            os.replace(pid_path + ".tmp", pid_path)
            from tether.daemon import watch

            watch.install()
            _log(f"listening on {sock_path} (pid {os.getpid()})")
            if ready is not None:
                ready.set()
            self._accept_loop()
        finally:
            self._drain()
            for path in (sock_path, pid_path):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            from tether.daemon import watch

            watch.uninstall()
            os.close(lock_fd)
            _log("stopped")

    def _accept_loop(self) -> None:
        listener = self.listener
        assert listener is not None
        listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self.stopping.is_set():
                    break
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # Hooks that cannot connect work in-process; wait for descriptors to free up.
                    time.sleep(0.05)
                    continue
                raise
            conn.settimeout(None)
            with self.cond:
                self.active += 1
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()

    def _drain(self) -> None:
        if self.listener is not None:
            self.listener.close()
        deadline = time.monotonic() + DRAIN_SECONDS
        with self.cond:
            while self.active and time.monotonic() < deadline:
                self.cond.wait(0.1)


def _listen(path: str) -> socket.socket:
    """Bind the socket 0600. A socket file left by a daemon that died is replaced (the
    flock, held by the caller, says no other daemon uses it)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def _log(message: str) -> None:
    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} tether daemon: {message}\n")
    sys.stderr.flush()


# -- the front end: serve, detach, stop, state ----------------------------------------------


def serve() -> None:
    """Run the daemon in this process until SIGTERM or SIGINT."""
    server = Server()

    def on_signal(signum: int, frame: object) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.run()


def main() -> None:
    """The detached daemon's process (``tether serve --detach`` starts it)."""
    try:
        serve()
    except DaemonError as exc:
        _log(str(exc))
        sys.exit(1)


def detach(python: str | None = None, timeout: float = 15.0) -> int:
    """Start the daemon in the background; returns its pid once it answers."""
    running = client.ping()
    if running is not None:
        return running
    folder, _, _, _ = _files()
    private_folder(folder)
    log = os.open(os.path.join(folder, "daemon.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDWR)
    try:
        import subprocess

        # Its own session, so that the terminal's hang-up or Ctrl-C does not reach it; the
        # folder "/" so that it keeps no workspace busy.
        proc = subprocess.Popen(
            [python or sys.executable, "-P", "-c", "from tether.daemon.server import main; main()"],
            stdin=null, stdout=log, stderr=log, cwd="/", start_new_session=True, close_fds=True)
    finally:
        os.close(log)
        os.close(null)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = client.ping(0.5)
        if pid is not None:
            return pid
        if proc.poll() is not None:
            raise DaemonError(f"the daemon exited at start ({proc.returncode}); see "
                              f"{os.path.join(folder, 'daemon.log')}")
        time.sleep(0.05)
    raise DaemonError(f"the daemon did not answer within {timeout:.0f} s")


def stop(timeout: float = 15.0) -> int | None:
    """Stop the running daemon; returns its pid, or None if none was running."""
    pid = client.ping()
    if pid is None:
        return None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return pid
    _, _, lock_path, _ = _files()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The lock is free once the daemon's process is gone.
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return pid
        except OSError:
            pass
        finally:
            os.close(fd)
        time.sleep(0.05)
    raise DaemonError(f"the daemon (pid {pid}) did not stop within {timeout:.0f} s")
