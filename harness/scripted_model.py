"""A scripted stand-in for the Anthropic Messages API, served on 127.0.0.1.

The real Claude Code CLI is pointed at it (ANTHROPIC_BASE_URL) so that tests and the README demo
run fully offline and deterministically. The model is *stateless*: every answer is derived from
the request alone (the CLI resends the whole conversation each turn), so a `--resume`d session or
a retried request gets the same answer a fresh process would.

How a request is answered:

* A request whose ``tools`` list lacks ``Bash`` is a side request (session titles, summaries,
  classifiers): it gets a short text answer.
* Otherwise find the latest user message that is a text prompt (not a tool_result) and contains one
  of the script's keys; count the assistant messages after it; answer with that turn of the key's
  list. Past the end of the list (or when no prompt matches) answer with a final text.

Run standalone for the demo::

    python -m harness.scripted_model --script script.json [--port N]

where script.json is ``{"prompt key": [{"tool": "Write", "input": {...}}, {"text": "..."},
[{"tool": ...}, {"tool": ...}]]}`` (a list turn issues several tool calls at once). The URL is
printed on stdout once the server accepts connections.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_FINAL_TEXT",
    "DEFAULT_SIDE_TEXT",
    "RecordedRequest",
    "Script",
    "ScriptError",
    "ScriptedModel",
    "ToolCall",
    "Turn",
    "load_script",
    "main",
    "parse_script",
    "tool_result_text",
]

DEFAULT_FINAL_TEXT = "Done."
DEFAULT_SIDE_TEXT = "Scripted session"


@dataclass(frozen=True)
class ToolCall:
    """One tool_use block the model emits, e.g. ``ToolCall("Write", {"file_path": ..., ...})``."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)


# A turn is one assistant message: a tool call, several tool calls at once, or a final text.
Turn = ToolCall | Sequence[ToolCall] | str
Script = Mapping[str, Sequence[Turn]]


class ScriptError(ValueError):
    """The script (a mapping or its JSON form) is malformed."""


@dataclass(frozen=True)
class RecordedRequest:
    """A request the stand-in received; ``body`` is the parsed JSON (None if absent/invalid)."""

    method: str
    path: str
    body: Any

    @property
    def is_messages(self) -> bool:
        """True for POST /v1/messages (with any query string, e.g. ``?beta=true``)."""
        return self.method == "POST" and urlsplit(self.path).path == "/v1/messages"

    @property
    def is_main(self) -> bool:
        """True for the main agent loop's requests: a messages call offering the Bash tool."""
        return self.is_messages and "Bash" in _tool_names(self.body)

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return [m for m in self.body["messages"] if isinstance(m, dict)]
        return []

    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool_result block in this request's messages, oldest first."""
        return [
            block
            for message in self.messages
            if message.get("role") == "user"
            for block in _content_blocks(message)
            if block.get("type") == "tool_result"
        ]


def tool_result_text(block: Mapping[str, Any]) -> str:
    """The text of a tool_result block, whose content is a string or a list of text blocks."""
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _tool_names(body: Any) -> set[str]:
    if not isinstance(body, dict) or not isinstance(body.get("tools"), list):
        return set()
    return {str(t.get("name")) for t in body["tools"] if isinstance(t, dict)}


def _content_blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    return []


def _normalise_turn(turn: Turn) -> list[ToolCall] | str:
    if isinstance(turn, str):
        return turn
    if isinstance(turn, ToolCall):
        return [turn]
    calls = list(turn)
    if not calls or not all(isinstance(c, ToolCall) for c in calls):
        raise ScriptError(
            f"a turn must be a ToolCall, a non-empty list of ToolCall or a str: {turn!r}"
        )
    return calls


def parse_script(data: Any) -> dict[str, list[Turn]]:
    """Parse the JSON form of a script (see the module docstring) into ToolCall / str turns."""
    if not isinstance(data, dict):
        raise ScriptError("a script is a JSON object mapping prompt keys to lists of turns")

    def call(item: Any) -> ToolCall:
        if not isinstance(item, dict) or not isinstance(item.get("tool"), str):
            raise ScriptError(f'a tool call is {{"tool": NAME, "input": {{...}}}}: {item!r}')
        tool_input = item.get("input", {})
        if not isinstance(tool_input, dict):
            raise ScriptError(f"the input of a tool call must be an object: {item!r}")
        return ToolCall(item["tool"], tool_input)

    script: dict[str, list[Turn]] = {}
    for key, turns in data.items():
        if not key or not isinstance(turns, list):
            raise ScriptError(f"prompt key {key!r} must be non-empty and map to a list of turns")
        parsed: list[Turn] = []
        for turn in turns:
            if isinstance(turn, list):
                if not turn:
                    raise ScriptError(f"an empty list is not a turn (prompt key {key!r})")
                parsed.append([call(item) for item in turn])
            elif isinstance(turn, dict) and "text" in turn:
                if not isinstance(turn["text"], str):
                    raise ScriptError(f"a text turn is {{'text': STRING}}: {turn!r}")
                parsed.append(turn["text"])
            else:
                parsed.append(call(turn))
        script[key] = parsed
    return script


def load_script(path: str | Path) -> dict[str, list[Turn]]:
    """Read and parse a JSON script file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScriptError(f"cannot read script {path}: {exc}") from exc
    return parse_script(data)


def _sse(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class _Server(ThreadingHTTPServer):
    # Daemon handler threads: a keep-alive connection the CLI leaves open must not keep the test
    # process (or server_close) waiting.
    daemon_threads = True
    # The default listen backlog of 5 makes a burst of connections wait for a SYN retry (1 s).
    request_queue_size = 128
    model: ScriptedModel

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (the CLI killed by a test's timeout) is not an error
        # worth a traceback on stderr; anything else still gets one.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, as the real API; every response carries a content-length.
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection is dropped after this many seconds, so handler threads end.
    timeout = 60
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: tests and the demo read stdout/stderr, and access logs are noise there.
        pass

    def _read_body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_json(self, status: int, data: Any) -> None:
        self._send(status, "application/json", json.dumps(data).encode())

    def _not_found(self) -> None:
        self._send_json(
            404,
            {
                "type": "error",
                "error": {"type": "not_found_error", "message": f"no such endpoint: {self.path}"},
            },
        )

    def _handle(self) -> None:
        body = self._read_body() if self.command in ("POST", "PUT", "PATCH") else None
        model = self.server.model
        model._record(RecordedRequest(self.command, self.path, body))
        path = urlsplit(self.path).path
        if self.command == "POST" and path == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": model.token_estimate(body)})
        elif self.command == "POST" and path == "/v1/messages":
            if not isinstance(body, dict):
                self._send_json(
                    400,
                    {
                        "type": "error",
                        "error": {"type": "invalid_request_error", "message": "body is not JSON"},
                    },
                )
                return
            self._answer_messages(body)
        else:
            self._not_found()

    def _answer_messages(self, body: dict[str, Any]) -> None:
        model = self.server.model
        blocks = model.answer(body)
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        message_id = "msg_" + uuid.uuid4().hex[:24]
        usage = {"input_tokens": model.token_estimate(body), "output_tokens": 5}
        if not body.get("stream"):
            self._send_json(
                200,
                {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", "scripted"),
                    "content": blocks,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": usage,
                },
            )
            return
        parts = [
            _sse(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": body.get("model", "scripted"),
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {**usage, "output_tokens": 1},
                    },
                },
            )
        ]
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                start: dict[str, Any] = {"type": "text", "text": ""}
                delta: dict[str, Any] = {"type": "text_delta", "text": block["text"]}
            else:
                # The input arrives only through input_json_delta, as from the real API.
                start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            parts.append(
                _sse(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": start},
                )
            )
            parts.append(
                _sse(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
            parts.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        parts.append(
            _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 5},
                },
            )
        )
        parts.append(_sse("message_stop", {"type": "message_stop"}))
        self._send(200, "text/event-stream", b"".join(parts))

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle
    do_HEAD = _handle


class ScriptedModel:
    """Serves the scripted Messages API from a background thread while the context is open::

    with ScriptedModel({"create hello": [ToolCall("Write", {...}), "All done."]}) as model:
        run_claude("create hello", ..., base_url=model.url)
    model.tool_results()  # what the CLI sent back, e.g. a hook's deny reason
    """

    def __init__(
        self,
        script: Script,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        final_text: str = DEFAULT_FINAL_TEXT,
        side_text: str = DEFAULT_SIDE_TEXT,
    ) -> None:
        self.script: dict[str, list[list[ToolCall] | str]] = {}
        for key, turns in script.items():
            if not key:
                raise ScriptError("prompt keys must be non-empty")
            self.script[key] = [_normalise_turn(t) for t in turns]
        self.final_text = final_text
        self.side_text = side_text
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("ScriptedModel is already running")
        server = _Server((self._host, self._port), _Handler)
        server.model = self
        # The socket is bound and listening when the constructor returns, so clients may connect
        # at once: no readiness polling is needed.
        self._server = server
        # A short poll interval only so that stop() (shutdown) returns promptly.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="scripted-model", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("ScriptedModel is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- recorded traffic ------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def main_requests(self) -> list[RecordedRequest]:
        """The main agent loop's /v1/messages requests (those offering the Bash tool)."""
        return [r for r in self.requests if r.is_main]

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the latest main request (it carries the whole history)."""
        main = self.main_requests
        return main[-1].tool_results() if main else []

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- answering -------------------------------------------------------------------------------

    @staticmethod
    def token_estimate(body: Any) -> int:
        # A rough but monotonic figure: the CLI only uses it for context-size bookkeeping.
        return max(1, len(json.dumps(body)) // 4) if body is not None else 1

    def _match(self, message: Mapping[str, Any]) -> str | None:
        """The script key a user message's prompt text contains (the longest, if several)."""
        blocks = _content_blocks(message)
        if any(b.get("type") == "tool_result" for b in blocks):
            return None
        # The CLI puts context (git status, CLAUDE.md, dates) in <system-reminder> text blocks of
        # the same user message; a key must match what the user typed, not that context.
        texts = [
            text
            for b in blocks
            if b.get("type") == "text"
            and not (text := str(b.get("text", ""))).lstrip().startswith("<system-reminder>")
        ]
        hits = [key for key in self.script if any(key in text for text in texts)]
        return max(hits, key=len) if hits else None

    def next_turn(self, body: Mapping[str, Any]) -> list[ToolCall] | str:
        """The scripted turn answering a main-loop request (final text past the script's end)."""
        messages = body.get("messages")
        if not isinstance(messages, list):
            return self.final_text
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            if not isinstance(message, dict) or message.get("role") != "user":
                continue
            key = self._match(message)
            if key is None:
                continue
            done = sum(
                1
                for m in messages[index + 1 :]
                if isinstance(m, dict) and m.get("role") == "assistant"
            )
            turns = self.script[key]
            return turns[done] if done < len(turns) else self.final_text
        return self.final_text

    def answer(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The content blocks answering a /v1/messages request."""
        if "Bash" not in _tool_names(body):
            return [{"type": "text", "text": self.side_text}]
        turn = self.next_turn(body)
        if isinstance(turn, str):
            return [{"type": "text", "text": turn}]
        # Fresh ids per answer: the CLI pairs each tool_result with its tool_use by id.
        return [
            {
                "type": "tool_use",
                "id": "toolu_" + uuid.uuid4().hex[:24],
                "name": call.name,
                "input": dict(call.input),
            }
            for call in turn
        ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.scripted_model",
        description="Serve a scripted Anthropic Messages API on 127.0.0.1 (prints its URL).",
    )
    parser.add_argument("--script", required=True, help="JSON script file")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--final-text", default=DEFAULT_FINAL_TEXT)
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Handlers first, so a signal sent as soon as the URL is printed still shuts down cleanly.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        model = ScriptedModel(load_script(args.script), port=args.port, final_text=args.final_text)
        model.start()
    except (ScriptError, OSError) as exc:
        print(f"scripted_model: {exc}", file=sys.stderr)
        return 2
    try:
        # flush: the demo reads this line through a pipe to learn the port.
        print(model.url, flush=True)
        stop.wait()
    finally:
        model.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
