"""Shared value types: one hook event, one guard decision.

Kept free of heavy imports: the hook entry point loads this module on every
tool call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["allow", "ask", "deny"]
Origin = Literal["agent", "external"]
Status = Literal["running", "ok", "error", "blocked"]
Change = Literal["added", "modified", "deleted"]

JSON = dict[str, Any]

# Hook events tether understands; anything else is recorded in the event log only.
EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
    "Stop",
    "SessionEnd",
)

# Tools whose effect on the workspace is confined to one named file.
FILE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path"}

# Tools that cannot change the workspace at all: no snapshot is needed around them.
READ_ONLY_TOOLS = frozenset({
    "Read", "Glob", "Grep", "LS", "WebFetch", "WebSearch", "TodoWrite", "TodoRead",
    "ExitPlanMode", "EnterPlanMode", "AskUserQuestion", "BashOutput", "ListMcpResourcesTool",
    "ReadMcpResourceTool", "Skill",
})


@dataclass(frozen=True, slots=True)
class Event:
    """One hook event from an agent, normalised across agents."""

    name: str
    agent: str
    session_id: str | None
    cwd: str
    root: str
    prompt_id: str | None = None
    prompt: str | None = None
    permission_mode: str | None = None
    tool: str | None = None
    tool_input: JSON | None = None
    tool_use_id: str | None = None
    tool_response: Any = None
    error: str | None = None
    transcript_path: str | None = None
    source: str | None = None
    raw: JSON = field(default_factory=dict)


@dataclass(slots=True)
class Decision:
    """What the guard said about one tool call, and why."""

    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def to_json(self) -> JSON:
        return {"decision": self.verdict, "reasons": list(self.reasons),
                "risks": list(self.risks), "rules": list(self.rules)}
