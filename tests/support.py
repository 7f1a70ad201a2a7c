"""Helpers shared by tests: playing an agent session's hook events against a real recorder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tether.hook import record
from tether.record.recorder import Recorder
from tether.record.store import Store
from tether.types import Decision, Event


class Session:
    """Plays the hook events of one agent session as the hook records them."""

    def __init__(self, store: Store, sid: str) -> None:
        self.rec = Recorder(store)
        self.root = store.root
        self.sid = sid
        self.prompt: str | None = None
        self.n = 0

    def ev(self, name: str, **kw: Any) -> Event:
        base: dict[str, Any] = dict(name=name, agent="claude", session_id=self.sid, cwd=self.root,
                                    root=self.root, prompt_id=self.prompt)
        base.update(kw)
        # What the agent sent, as the journal keeps it.
        raw = {"hook_event_name": name, "session_id": self.sid, "prompt_id": base["prompt_id"]}
        for key in ("prompt", "tool_input", "tool_response", "error"):
            if base.get(key) is not None:
                raw[key] = base[key]
        return Event(**base, raw=raw)

    def handle(self, ev: Event, decision: Decision | None = None) -> str | None:
        # Through the hook's own entry, which completes an interrupted operation first.
        return record(self.rec, ev, decision)

    def start(self) -> None:
        self.handle(self.ev("SessionStart", source="startup"))

    def say(self, text: str, pid: str | None = None) -> None:
        self.prompt = pid or f"{self.sid}-p{self.n}"
        self.n += 1
        self.handle(self.ev("UserPromptSubmit", prompt=text))

    def pre(self, tool: str, tool_input: dict[str, Any], tid: str, decision: Decision | None = None) -> str | None:
        return self.handle(self.ev("PreToolUse", tool=tool, tool_input=tool_input, tool_use_id=tid), decision)

    def post(self, tool: str, tool_input: dict[str, Any], tid: str, fail: str | None = None) -> str | None:
        name = "PostToolUseFailure" if fail else "PostToolUse"
        return self.handle(self.ev(name, tool=tool, tool_input=tool_input, tool_use_id=tid, error=fail,
                                   tool_response=None if fail else {"ok": True}))

    def stop(self) -> None:
        self.handle(self.ev("Stop"))

    def write(self, rel: str, text: str, tid: str) -> None:
        """A Write tool call that writes ``text`` to ``rel``."""
        inp = {"file_path": str(Path(self.root) / rel), "content": text}
        self.pre("Write", inp, tid)
        path = Path(self.root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.post("Write", inp, tid)

    def bash(self, tid: str, *effects: Any) -> None:
        """A Bash tool call whose effects are the given callables, run between its hooks."""
        inp = {"command": f"effects of {tid}"}
        self.pre("Bash", inp, tid)
        for effect in effects:
            effect()
        self.post("Bash", inp, tid)
