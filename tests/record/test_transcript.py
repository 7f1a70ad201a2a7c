"""Reading a transcript for calls the agent refused before any hook ran."""

from __future__ import annotations

import json
from pathlib import Path

from tether.record import transcript


def line(kind: str, content: list[dict[str, object]], ts: str = "2026-11-25T09:17:46.029Z") -> str:
    return json.dumps({"type": kind, "timestamp": ts, "message": {"role": kind, "content": content}}) + "\n"


def test_refused_calls_and_failures_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        line("assistant", [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/x/.env"}}])
        + line("user", [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
                         "content": "<tool_use_error>File is in a directory that is denied by your permission "
                                    "settings.</tool_use_error>"}])
        + line("assistant", [{"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {"command": "false"}}])
        + line("user", [{"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
                         "content": [{"type": "text", "text": "Exit code 1"}]}])
        + '{"type": "assistant", "message": {"content": [{"type": "tool_use", "id": "toolu_3"'  # still being written
    )
    refused, failures, offset = transcript.read(str(path), 0)
    assert [(c.tool_use_id, c.tool, c.tool_input, c.time) for c in refused] == [
        ("toolu_1", "Read", {"file_path": "/x/.env"}, "2026-11-25T09:17:46.029Z")]
    assert "denied by your permission settings" in refused[0].reason
    assert failures == {"toolu_1": "File is in a directory that is denied by your permission settings.",
                        "toolu_2": "Exit code 1"}
    assert offset == path.read_bytes().rfind(b"\n") + 1, "a line still being written is left for next time"
    assert transcript.read(str(path), offset)[:2] == ([], {})


def test_missing_garbled_or_linked_transcripts_are_harmless(tmp_path: Path) -> None:
    assert transcript.read(str(tmp_path / "missing.jsonl"), 0) == ([], {}, 0)
    garbled = tmp_path / "g.jsonl"
    garbled.write_bytes(b"\xff\xfe not json\n[1, 2]\n{\"message\": 3}\n")
    assert transcript.read(str(garbled), 0)[:2] == ([], {})
    link = tmp_path / "link.jsonl"
    link.symlink_to(garbled)
    assert transcript.read(str(link), 0) == ([], {}, 0), "a symlink is not followed"
    # A transcript replaced by a shorter one is read from its start.
    assert transcript.read(str(garbled), 10_000)[2] == garbled.stat().st_size
