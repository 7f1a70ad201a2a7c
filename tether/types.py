"""Shared value types: one hook event, one guard decision.

Kept free of heavy imports: the hook entry point loads this module on every
tool call.
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    # typing and dataclasses cost milliseconds to import; the hook imports this module on
    # every tool call, so the classes below are written out by hand.
    from typing import Any, Literal, TypeAlias

    Verdict: TypeAlias = Literal["allow", "ask", "deny"]
    Origin: TypeAlias = Literal["agent", "external"]
    Status: TypeAlias = Literal["running", "ok", "error", "blocked"]
    Change: TypeAlias = Literal["added", "modified", "deleted"]
    JSON: TypeAlias = dict[str, Any]

# Tools whose effect on the workspace is confined to one named file.
FILE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path"}

# Tools that read the file or folder they name (the path key; Glob, Grep and LS default to the
# working folder).
READ_PATH_TOOLS = {"Read": "file_path", "NotebookRead": "notebook_path", "Glob": "path",
                   "Grep": "path", "LS": "path"}

# Every tool whose input names a path in the workspace.
PATH_TOOLS = frozenset(FILE_TOOLS) | frozenset(READ_PATH_TOOLS)

# Tools that cannot change the workspace at all: no snapshot is needed around them.
READ_ONLY_TOOLS = frozenset({
    "Read", "Glob", "Grep", "LS", "WebFetch", "WebSearch", "TodoWrite", "TodoRead",
    "ExitPlanMode", "EnterPlanMode", "AskUserQuestion", "BashOutput", "ListMcpResourcesTool",
    "ReadMcpResourceTool", "Skill",
})


class Event:
    """One hook event from an agent, normalised across agents."""

    __slots__ = ("agent", "cwd", "delivery", "error", "name", "permission_mode", "prompt", "prompt_id", "raw", "root",
                 "session_id", "source", "tool", "tool_input", "tool_response", "tool_use_id",
                 "transcript_path")

    def __init__(self, name: str, agent: str, session_id: str | None, cwd: str, root: str, *,
                 prompt_id: str | None = None, prompt: str | None = None, permission_mode: str | None = None,
                 tool: str | None = None, tool_input: JSON | None = None, tool_use_id: str | None = None,
                 tool_response: Any = None, error: str | None = None, transcript_path: str | None = None,
                 source: str | None = None, raw: JSON | None = None) -> None:
        self.name = name
        self.agent = agent
        self.session_id = session_id
        self.cwd = cwd
        self.root = root
        self.prompt_id = prompt_id
        self.prompt = prompt
        self.permission_mode = permission_mode
        self.tool = tool
        self.tool_input = tool_input
        self.tool_use_id = tool_use_id
        self.tool_response = tool_response
        self.error = error
        self.transcript_path = transcript_path
        self.source = source
        self.raw = raw if raw is not None else {}
        # The hook's id for this delivery of the event (tether.daemon.client): the journal
        # keeps it, so that an event handed to the daemon is never recorded twice.
        self.delivery: str | None = None

    def __repr__(self) -> str:
        return f"Event({self.name!r}, session={self.session_id!r}, tool={self.tool!r})"


class Decision:
    """What the guard said about one tool call, and why."""

    __slots__ = ("reasons", "risks", "rules", "verdict")

    def __init__(self, verdict: Verdict, reasons: list[str] | None = None, risks: list[str] | None = None,
                 rules: list[str] | None = None) -> None:
        self.verdict = verdict
        self.reasons = reasons if reasons is not None else []
        self.risks = risks if risks is not None else []
        self.rules = rules if rules is not None else []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decision) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Decision({self.verdict!r}, reasons={self.reasons!r}, risks={self.risks!r}, rules={self.rules!r})"

    def to_json(self) -> JSON:
        return {"decision": self.verdict, "reasons": list(self.reasons),
                "risks": list(self.risks), "rules": list(self.rules)}
