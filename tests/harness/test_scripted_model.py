"""The scripted Messages API stand-in on its own (fast: no Claude Code involved)."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from e2e_support import REPO_ROOT

from harness.scripted_model import (
    Script,
    ScriptedModel,
    ScriptError,
    ToolCall,
    parse_script,
    tool_result_text,
)

BASH_TOOL = {"name": "Bash", "input_schema": {"type": "object"}}


def post(url: str, path: str, body: Any) -> tuple[int, str, bytes]:
    """POST JSON; returns (status, content-type, raw body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(
            "POST", path, body=json.dumps(body), headers={"content-type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        connection.close()


def get(url: str, path: str) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in raw.decode().split("\n\n"):
        if not chunk.strip():
            continue
        fields = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def request(*messages: dict[str, Any], stream: bool = False, bash: bool = True) -> dict[str, Any]:
    return {
        "model": "claude-test",
        "max_tokens": 100,
        "stream": stream,
        "tools": [BASH_TOOL] if bash else [],
        "messages": list(messages),
    }


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def assistant_tool(tool_id: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": tool_id, "name": "Bash", "input": {}}],
    }


def tool_result(tool_id: str, text: str) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": text}],
    }


SCRIPT: Script = {
    "create hello": [
        ToolCall("Write", {"file_path": "/w/hello.py", "content": "print(1)\n"}),
        [ToolCall("Bash", {"command": "ls"}), ToolCall("Read", {"file_path": "/w/hello.py"})],
        "All set.",
        ToolCall("Bash", {"command": "never reached in one prompt"}),
    ],
    "hello": ["short key"],
}


def test_streams_a_tool_call_as_sse() -> None:
    with ScriptedModel(SCRIPT) as model:
        status, ctype, raw = post(
            model.url, "/v1/messages?beta=true", request(user("create hello"), stream=True)
        )
    assert (status, ctype) == (200, "text/event-stream")
    events = sse_events(raw)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    block = events[1][1]["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "Write" and block["input"] == {}
    delta = events[2][1]["delta"]
    assert delta["type"] == "input_json_delta"
    assert json.loads(delta["partial_json"]) == {
        "file_path": "/w/hello.py",
        "content": "print(1)\n",
    }
    assert events[4][1]["delta"]["stop_reason"] == "tool_use"


def test_plain_json_and_turn_counting() -> None:
    with ScriptedModel(SCRIPT) as model:
        history = [user("please create hello"), assistant_tool("t1"), tool_result("t1", "ok")]
        status, ctype, raw = post(model.url, "/v1/messages", request(*history))
        assert (status, ctype) == (200, "application/json")
        second = json.loads(raw)
        # Second turn: two tool_use blocks in one message, with distinct ids.
        assert second["stop_reason"] == "tool_use"
        assert [b["name"] for b in second["content"]] == ["Bash", "Read"]
        assert len({b["id"] for b in second["content"]}) == 2

        history += [assistant_tool("t2"), tool_result("t2", "ok")]
        third = json.loads(post(model.url, "/v1/messages", request(*history))[2])
        assert third["stop_reason"] == "end_turn"
        assert third["content"] == [{"type": "text", "text": "All set."}]


def test_answer_rules() -> None:
    model = ScriptedModel(SCRIPT, final_text="Finished.", side_text="A title")
    # The longest matching key wins; a key must be in the prompt, not in a system reminder.
    assert model.answer(request(user("hello there"))) == [{"type": "text", "text": "short key"}]
    reminder = {
        "role": "user",
        "content": [
            {"type": "text", "text": "<system-reminder>\ncreate hello\n</system-reminder>"},
            {"type": "text", "text": "say hello"},
        ],
    }
    assert model.answer(request(reminder)) == [{"type": "text", "text": "short key"}]
    # Unmatched prompts and turns past the script's end get the final text.
    assert model.answer(request(user("something else"))) == [{"type": "text", "text": "Finished."}]
    done = [user("hello"), {"role": "assistant", "content": "short key"}, user("hello again")]
    assert model.next_turn(request(*done)) == "short key"
    assert model.next_turn(request(*done[:2])) == "Finished."
    # The latest matching prompt counts: an older prompt's turns are not replayed.
    resumed = [user("hello"), {"role": "assistant", "content": "short key"}, user("create hello")]
    assert isinstance(model.next_turn(request(*resumed)), list)
    # Requests without the Bash tool (titles, summaries) get the side text.
    assert model.answer(request(user("create hello"), bash=False)) == [
        {"type": "text", "text": "A title"}
    ]


def test_other_endpoints_and_recording() -> None:
    with ScriptedModel(SCRIPT) as model:
        status, _, raw = post(model.url, "/v1/messages/count_tokens", request(user("x")))
        assert status == 200 and json.loads(raw)["input_tokens"] > 0
        status, raw = get(model.url, "/v1/models")
        assert status == 404 and json.loads(raw)["error"]["type"] == "not_found_error"
        status, _, raw = post(model.url, "/v1/messages", "not an object")
        assert status == 400 and json.loads(raw)["type"] == "error"

        history = [user("create hello"), assistant_tool("t1"), tool_result("t1", "denied!")]
        post(model.url, "/v1/messages?beta=true", request(*history))
        post(model.url, "/v1/messages?beta=true", request(user("title please"), bash=False))

        recorded = model.requests
        assert [(r.method, r.path) for r in recorded] == [
            ("POST", "/v1/messages/count_tokens"),
            ("GET", "/v1/models"),
            ("POST", "/v1/messages"),
            ("POST", "/v1/messages?beta=true"),
            ("POST", "/v1/messages?beta=true"),
        ]
        assert [r.is_main for r in recorded] == [False, False, False, True, False]
        (result,) = model.tool_results()
        assert result["tool_use_id"] == "t1" and tool_result_text(result) == "denied!"
        model.clear()
        assert model.requests == []


def test_concurrent_requests_are_all_recorded() -> None:
    with ScriptedModel(SCRIPT) as model:
        statuses: list[int] = []
        lock = threading.Lock()

        def one() -> None:
            status = post(model.url, "/v1/messages", request(user("create hello")))[0]
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=one) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert statuses == [200] * 16
        assert len(model.requests) == 16


def test_parse_script() -> None:
    script = parse_script(
        {
            "go": [
                {"tool": "Write", "input": {"file_path": "a"}},
                [{"tool": "Bash", "input": {"command": "ls"}}, {"tool": "Read"}],
                {"text": "ok"},
            ]
        }
    )
    assert script == {
        "go": [
            ToolCall("Write", {"file_path": "a"}),
            [ToolCall("Bash", {"command": "ls"}), ToolCall("Read", {})],
            "ok",
        ]
    }
    bad_scripts: list[Any] = [[], {"go": {}}, {"go": [{"tool": 3}]}, {"go": [[]]}, {"": []}]
    for bad in bad_scripts:
        with pytest.raises(ScriptError):
            parse_script(bad)


def test_command_line_prints_url_then_serves(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"go": [{"tool": "Bash", "input": {"command": "ls"}}]}))
    with subprocess.Popen(
        [sys.executable, "-m", "harness.scripted_model", "--script", str(script)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            # The URL line is the readiness signal: the socket is listening before it is printed.
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            reply = json.loads(post(url, "/v1/messages", request(user("go")))[2])
            assert reply["content"][0]["input"] == {"command": "ls"}
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr


def test_command_line_rejects_a_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text('{"go": "not a list"}')
    done = subprocess.run(
        [sys.executable, "-m", "harness.scripted_model", "--script", str(script)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "scripted_model:" in done.stderr and "list of turns" in done.stderr
