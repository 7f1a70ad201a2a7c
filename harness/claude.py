"""Install and drive the pinned Claude Code CLI for end-to-end tests and the demo.

``ensure_claude()`` installs @anthropic-ai/claude-code at the version pinned in
harness/package.json + package-lock.json (``npm ci``) into a cache folder, once.
``run_claude()`` runs one ``claude -p`` prompt in stream-json mode against a stand-in API
(see harness.scripted_model) with a private HOME, and parses what it printed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PINNED_VERSION",
    "ClaudeError",
    "ClaudeInstallError",
    "ClaudeRun",
    "ClaudeTimeoutError",
    "claude_dir",
    "ensure_claude",
    "find_transcript",
    "read_transcript",
    "run_claude",
]

PINNED_VERSION = "2.1.328"
HARNESS_DIR = Path(__file__).resolve().parent
REPO_ROOT = HARNESS_DIR.parent
DEFAULT_ALLOWED_TOOLS: tuple[str, ...] = ("Bash", "Write", "Edit", "Read")
# npm ci fetches a ~370 MB native binary on a cold cache; a slow link needs minutes.
INSTALL_TIMEOUT = 1800.0

# Variables of the caller's environment that would change what the CLI does or where it sends
# traffic (a real API key or endpoint, another config folder, being nested in a Claude session).
_SCRUBBED_PREFIXES = ("ANTHROPIC_", "CLAUDE", "OTEL_")
_SCRUBBED_NAMES = frozenset(
    {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}
)

# Install folder -> binary already checked in this process (`claude --version` costs ~0.1 s).
_checked: dict[Path, str] = {}


class ClaudeError(RuntimeError):
    """Base class of the harness's errors about the Claude Code CLI."""


class ClaudeInstallError(ClaudeError):
    """npm is missing, or installing the pinned CLI failed."""


class ClaudeTimeoutError(ClaudeError):
    """A ``claude`` run did not finish in time (its whole process group was killed)."""

    def __init__(self, message: str, stdout: str, stderr: str) -> None:
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr


def claude_dir() -> Path:
    """The install folder: $TETHER_CLAUDE_DIR, else <repo>/.cache/claude-code."""
    configured = os.environ.get("TETHER_CLAUDE_DIR")
    return Path(configured).expanduser() if configured else REPO_ROOT / ".cache" / "claude-code"


def _installed_version(binary: Path) -> str | None:
    if not binary.exists():
        return None
    try:
        done = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env=_base_env(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # Prints e.g. "2.1.328 (Claude Code)".
    words = done.stdout.split()
    return words[0] if done.returncode == 0 and words else None


@contextmanager
def _install_lock(folder: Path) -> Iterator[None]:
    # Several pytest workers (or a test and the demo) may race to install into the same folder.
    with (folder / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_claude() -> str:
    """The path of the pinned ``claude`` binary, installing it with ``npm ci`` if needed.

    Raises ClaudeInstallError (a one-line message) when npm is missing or the install fails.
    """
    folder = claude_dir()
    known = _checked.get(folder)
    if known is not None and Path(known).exists():
        return known
    binary = folder / "node_modules" / ".bin" / "claude"
    if _installed_version(binary) == PINNED_VERSION:
        _checked[folder] = str(binary)
        return str(binary)

    npm = shutil.which("npm")
    if npm is None:
        raise ClaudeInstallError(
            f"npm not found on PATH: install Node.js/npm to fetch Claude Code {PINNED_VERSION} "
            f"(or point TETHER_CLAUDE_DIR at a folder where it is installed)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Keep the (large) install out of git even though .cache/ is not in .gitignore.
        (folder / ".gitignore").write_text("*\n", encoding="utf-8")
        with _install_lock(folder):
            # Another process may have finished the install while this one waited for the lock.
            if _installed_version(binary) != PINNED_VERSION:
                for name in ("package.json", "package-lock.json"):
                    shutil.copyfile(HARNESS_DIR / name, folder / name)
                done = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                    cwd=folder,
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT,
                    stdin=subprocess.DEVNULL,
                    check=False,
                )
                if done.returncode != 0:
                    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
                    detail = lines[-1] if lines else f"exit status {done.returncode}"
                    raise ClaudeInstallError(
                        f"npm ci of Claude Code {PINNED_VERSION} in {folder} failed: {detail}"
                    )
    except OSError as exc:
        raise ClaudeInstallError(f"cannot install Claude Code into {folder}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ClaudeInstallError(
            f"npm ci of Claude Code {PINNED_VERSION} in {folder} timed out after {exc.timeout:.0f}s"
        ) from exc
    found = _installed_version(binary)
    if found != PINNED_VERSION:
        raise ClaudeInstallError(
            f"installed Claude Code in {folder} but `claude --version` says {found!r}, "
            f"expected {PINNED_VERSION}"
        )
    _checked[folder] = str(binary)
    return str(binary)


def _base_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_SCRUBBED_PREFIXES) and name not in _SCRUBBED_NAMES
    }


def claude_env(
    *, home: str | os.PathLike[str], base_url: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of an offline ``claude`` run; ``env`` entries are applied last."""
    result = _base_env()
    result.update(
        {
            "HOME": os.fspath(home),
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": "scripted-model-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            # The stand-in is on 127.0.0.1: never route it through a proxy.
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PATH": os.environ.get("PATH", os.defpath),
        }
    )
    if env:
        result.update(env)
    return result


@dataclass
class ClaudeRun:
    """What one ``claude -p`` run did."""

    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)
    session_id: str | None = None
    result: str | None = None
    home: Path | None = None

    def of_type(self, event_type: str, subtype: str | None = None) -> list[dict[str, Any]]:
        """The stream-json events of a type (and subtype), e.g. ``("system", "hook_response")``."""
        return [
            e
            for e in self.events
            if e.get("type") == event_type and (subtype is None or e.get("subtype") == subtype)
        ]

    @property
    def result_event(self) -> dict[str, Any] | None:
        found = self.of_type("result")
        return found[-1] if found else None

    @property
    def permission_denials(self) -> list[dict[str, Any]]:
        """Calls the CLI refused (hook deny/ask/exit 2, or no permission), from the result event."""
        denials = (self.result_event or {}).get("permission_denials")
        return [d for d in denials if isinstance(d, dict)] if isinstance(denials, list) else []

    def tool_uses(self) -> list[dict[str, Any]]:
        """Every tool_use block of the assistant messages, in order."""
        return [
            block
            for event in self.of_type("assistant")
            for block in event.get("message", {}).get("content", [])
            if isinstance(block, dict) and block.get("type") == "tool_use"
        ]

    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool_result block of the user messages the CLI echoed, in order."""
        return [
            block
            for event in self.of_type("user")
            for block in (event.get("message", {}).get("content") or [])
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]

    def check(self) -> ClaudeRun:
        """Self, or ClaudeError carrying stderr if the run failed."""
        if self.returncode != 0:
            raise ClaudeError(
                f"claude exited with status {self.returncode}: {self.stderr.strip()[-2000:]}"
            )
        return self

    def transcript_path(self) -> Path:
        if self.home is None or self.session_id is None:
            raise ClaudeError("this run has no HOME or session id to find a transcript with")
        return find_transcript(self.home, self.session_id)


def _parse_events(stdout: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def run_claude(
    prompt: str,
    *,
    cwd: str | os.PathLike[str],
    home: str | os.PathLike[str],
    base_url: str,
    resume: str | None = None,
    allowed_tools: Sequence[str] = DEFAULT_ALLOWED_TOOLS,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> ClaudeRun:
    """Run ``claude -p PROMPT --output-format stream-json --verbose`` offline and parse it.

    ``home`` becomes HOME (the CLI keeps its config and transcripts in HOME/.claude); ``env``
    entries override the computed environment. Raises ClaudeTimeoutError after ``timeout``
    seconds, having killed the CLI and every process it started.
    """
    binary = ensure_claude()
    command = [binary, "-p", prompt, "--output-format", "stream-json", "--verbose"]
    if allowed_tools:
        # One comma-separated argument: the option is variadic and would swallow loose words.
        command += ["--allowedTools", ",".join(allowed_tools)]
    if resume is not None:
        command += ["--resume", resume]
    command += list(extra_args)
    Path(home).mkdir(parents=True, exist_ok=True)
    # A new session (process group) so that a timeout kills the tools' children too.
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=claude_env(home=home, base_url=base_url, env=env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise ClaudeTimeoutError(
                f"claude -p {prompt!r} did not finish within {timeout:.0f}s; "
                f"stderr tail: {stderr.strip()[-500:]!r}",
                stdout,
                stderr,
            ) from None
    events = _parse_events(stdout)
    session_id: str | None = None
    result: str | None = None
    for event in events:
        if event.get("type") == "system" and event.get("subtype") == "init":
            session_id = event.get("session_id") or session_id
        elif event.get("type") == "result":
            session_id = event.get("session_id") or session_id
            if isinstance(event.get("result"), str):
                result = event["result"]
    return ClaudeRun(
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        events=events,
        session_id=session_id,
        result=result,
        home=Path(home),
    )


def find_transcript(home: str | os.PathLike[str], session_id: str) -> Path:
    """HOME/.claude/projects/<encoded cwd>/<session_id>.jsonl (the folder name is not parsed)."""
    projects = Path(home) / ".claude" / "projects"
    matches = sorted(projects.glob(f"*/{session_id}.jsonl"))
    if not matches:
        raise FileNotFoundError(f"no transcript for session {session_id} under {projects}")
    return matches[0]


def read_transcript(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The JSON objects of a transcript, one per line (blank or partial lines skipped)."""
    entries: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries
