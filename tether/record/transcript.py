"""Reading an agent's transcript for tool calls that no hook reported.

Claude Code writes one JSON object per line: assistant messages with
``tool_use`` blocks, user messages with the matching ``tool_result`` blocks.
A call that its own permission rules refused has a ``tool_use`` and an error
result, but no hook event. Only complete lines are read, from a saved offset.
"""

from __future__ import annotations

import os

from tether import fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Read at most this much of a transcript per end of turn; the rest is read next time.
MAX_READ = 32 << 20
_REFUSED = ("denied by your permission settings", "permission to use", "has been denied")


class RefusedCall:
    __slots__ = ("prompt_id", "reason", "time", "tool", "tool_input", "tool_use_id")

    def __init__(self, tool_use_id: str, tool: str, tool_input: Any, reason: str, time: str | None,
                 prompt_id: str | None) -> None:
        self.tool_use_id = tool_use_id
        self.tool = tool
        self.tool_input = tool_input
        self.reason = reason
        self.time = time
        self.prompt_id = prompt_id


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    return ""


def _time(value: Any) -> str | None:
    """A transcript timestamp in the store's form (ISO 8601 UTC, milliseconds, Z), else None."""
    if not isinstance(value, str) or len(value) < 20 or value[10] != "T" or not value.endswith("Z"):
        return None
    head, _, frac = value[:-1].partition(".")
    if len(head) != 19:
        return None
    return f"{head}.{(frac + '000')[:3]}Z"


def read(path: str, offset: int) -> tuple[list[RefusedCall], dict[str, str], int]:
    """From ``offset`` on: the calls refused by the agent's own permission checks, the error
    text of every failed call by tool_use id, and the new offset."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return [], {}, offset
    try:
        if offset > os.fstat(fd).st_size:
            offset = 0  # the transcript was replaced
        os.lseek(fd, offset, os.SEEK_SET)
        data = os.read(fd, MAX_READ)
    finally:
        os.close(fd)
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) == MAX_READ:
        # One line longer than a whole read: skip it rather than stall on it forever.
        return [], {}, offset + len(data)
    uses: dict[str, tuple[str, Any, str | None, str | None]] = {}
    refused: list[RefusedCall] = []
    errors: dict[str, str] = {}
    for line in data[:end].split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = fastjson.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        message = entry.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                uses[block["id"]] = (str(block.get("name", "")), block.get("input"), _time(entry.get("timestamp")),
                                     entry.get("promptId") if isinstance(entry.get("promptId"), str) else None)
            elif block.get("type") == "tool_result" and block.get("is_error"):
                tid = block.get("tool_use_id")
                text = _text(block.get("content")).replace("<tool_use_error>", "").replace("</tool_use_error>", "")
                if isinstance(tid, str):
                    errors[tid] = text.strip()[:2000]
                if isinstance(tid, str) and tid in uses and any(s in text.lower() for s in _REFUSED):
                    tool, tool_input, time, prompt_id = uses[tid]
                    refused.append(RefusedCall(tid, tool, tool_input, "refused by the agent's permission rules: "
                                               + text.strip()[:500], time, prompt_id))
    return refused, errors, offset + end
