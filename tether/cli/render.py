"""Terminal output for people. Everything an agent produced is printed as plain text, never as markup."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

_CHANGE_STYLE = {"added": ("A", "green"), "modified": ("M", "yellow"), "deleted": ("D", "red")}
_STATUS_STYLE = {"ok": "green", "error": "red", "blocked": "bold red", "running": "cyan"}


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def excerpt(text: str | None, width: int = 72) -> str:
    if not text:
        return ""
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def summary(step: dict[str, Any], root: str | None = None) -> str:
    """What a step did, in a few words; paths relative to the workspace root."""
    tool = step.get("tool")
    raw = step.get("input")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if step.get("origin") == "external":
        return f"{tool} (tether operation)" if tool else "changes made outside the agent"
    if tool == "Bash":
        return excerpt(str(data.get("command", "")), 60)
    for key in ("file_path", "notebook_path", "path", "url", "pattern", "query"):
        value = data.get(key)
        if isinstance(value, str):
            if root and value.startswith(root.rstrip("/") + "/"):
                value = value[len(root.rstrip("/")) + 1:]
            return excerpt(value, 60)
    return excerpt(json.dumps(data, ensure_ascii=False), 60) if data else ""


def _files_text(files: list[dict[str, str]]) -> Text:
    text = Text()
    for i, f in enumerate(files[:6]):
        letter, style = _CHANGE_STYLE.get(f["change"], ("?", ""))
        if i:
            text.append("  ")
        text.append(letter + " ", style=style)
        text.append(f["path"])
    if len(files) > 6:
        text.append(f"  (+{len(files) - 6} more)", style="dim")
    return text


def _line(con: Console, text: Text) -> None:
    # One record, one line: long lines wrap at the terminal's edge instead of squeezing columns.
    con.print(text, soft_wrap=True, overflow="ignore", crop=False)


def print_log(con: Console, steps: list[dict[str, Any]], root: str | None = None) -> None:
    if not steps:
        con.print("No steps recorded yet.", style="dim")
        return
    session: object = object()
    prompt: object = object()
    for step in steps:
        if step["session"] != session:
            session = step["session"]
            prompt = object()
            _line(con, Text(f"session {session or '(none)'}", style="bold"))
        if step["origin"] == "agent" and step["prompt"] != prompt:
            prompt = step["prompt"]
            label = excerpt(step.get("prompt_text"), 100) or "(prompt text not recorded)"
            _line(con, Text("  prompt ", style="dim") + Text(f"“{label}”", style="italic")
                  + Text(f"  {str(prompt or '')[:8]}", style="dim"))
        status = step["status"]
        decision = step.get("decision")
        who = step["tool"] or "?" if step["origin"] == "agent" else "external"
        state = status if decision in (None, "allow") else f"{status} ({decision})"
        line = Text(f"  {step['seq']:>4} ", style="dim") + Text(step["id"][:8], style="cyan") + Text("  ")
        line += Text(f"{who:<9}", style="magenta" if step["origin"] == "external" else "")
        line += Text(f" {state:<15}", style=_STATUS_STYLE.get(status, ""))
        line += Text(f" {summary(step, root)}")
        if step["files"]:
            line += Text("   ") + _files_text(step["files"])
        _line(con, line)
        note = None
        if status == "blocked" and step.get("reasons"):
            note = "; ".join(step["reasons"])
        elif status == "error" and step.get("error"):
            note = step["error"]
        elif decision == "ask" and step.get("reasons"):
            note = "asked: " + "; ".join(step["reasons"])
        if note:
            _line(con, Text(" " * 17 + "↳ " + excerpt(note, 160), style="red" if status != "ok" else "yellow"))


def print_step(con: Console, step: dict[str, Any], diff: str) -> None:
    con.print(Text(f"step {step['seq']}  {step['id']}", style="bold cyan"))
    rows = [
        ("origin", step["origin"]),
        ("session", step["session"] or ""),
        ("prompt", f"{excerpt(step.get('prompt_text'), 100)}  ({step['prompt'] or ''})" if step["prompt"] else ""),
        ("tool", step["tool"] or ""),
        ("status", step["status"] + (f": {step['error']}" if step.get("error") else "")),
        ("decision", (step.get("decision") or "") + (" — " + "; ".join(step["reasons"]) if step.get("reasons") else "")),
        ("task", step.get("task") or ""),
        ("operation", f"{step['operation']['kind']} {step['operation']['id']}"
                      if step.get("operation") else ""),
        ("time", f"{step['time']} → {step.get('ended') or ''}"),
    ]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    for key, value in rows:
        if value:
            table.add_row(key, Text(value))
    con.print(table)
    if step.get("input") is not None:
        con.print(Text("input", style="dim"))
        con.print(Text(json.dumps(step["input"], indent=2, ensure_ascii=False)))
    print_diff(con, diff)


def print_diff(con: Console, diff: str) -> None:
    if not diff:
        con.print("(no file changes)", style="dim")
        return
    if con.is_terminal:
        from rich.syntax import Syntax

        con.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default", word_wrap=False))
    else:
        con.out(diff, end="", highlight=False)


def print_sessions(con: Console, rows: list[dict[str, Any]]) -> None:
    if not rows:
        con.print("No sessions recorded yet.", style="dim")
        return
    table = Table(box=None, header_style="bold")
    for col in ("session", "agent", "started", "prompts", "steps", "files", "first prompt"):
        table.add_column(col)
    for r in rows:
        steps = str(r["steps"])
        if r["blocked"]:
            steps += f" ({r['blocked']} blocked)"
        table.add_row(Text(r["id"]), r["agent"], r["started"][:19].replace("T", " "), str(r["prompts"]),
                      steps, str(r["files"]), Text(excerpt(r.get("first_prompt"), 50)))
    con.print(table)


def safe(text: str) -> str:
    """Agent-produced text, safe to embed in rich markup."""
    return escape(text)
