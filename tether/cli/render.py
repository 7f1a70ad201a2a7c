"""Terminal output for people. Everything an agent produced is printed as plain text, never as markup."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
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


def summary(step: dict[str, Any]) -> str:
    """What a step did, in a few words."""
    tool = step.get("tool")
    data = step.get("input") if isinstance(step.get("input"), dict) else {}
    if step.get("origin") == "external":
        return "changes made outside the agent"
    if tool == "Bash":
        return excerpt(str(data.get("command", "")))
    for key in ("file_path", "notebook_path", "path", "url", "pattern", "query"):
        if isinstance(data.get(key), str):
            return excerpt(data[key])
    return excerpt(json.dumps(data, ensure_ascii=False)) if data else ""


def _files_cell(files: list[dict[str, str]]) -> Text:
    text = Text()
    for i, f in enumerate(files[:4]):
        letter, style = _CHANGE_STYLE.get(f["change"], ("?", ""))
        if i:
            text.append("  ")
        text.append(letter + " ", style=style)
        text.append(f["path"])
    if len(files) > 4:
        text.append(f"  (+{len(files) - 4} more)", style="dim")
    return text


def print_log(con: Console, steps: list[dict[str, Any]]) -> None:
    if not steps:
        con.print("No steps recorded yet.", style="dim")
        return
    session = object()
    prompt: object = object()
    table: Table | None = None

    def flush() -> None:
        if table is not None and table.row_count:
            con.print(table)

    for step in steps:
        if step["session"] != session:
            flush()
            table = None
            session = step["session"]
            prompt = object()
            con.print(Text(f"session {session or '(none)'}", style="bold"))
        if step["origin"] == "agent" and step["prompt"] != prompt:
            flush()
            table = None
            prompt = step["prompt"]
            label = excerpt(step.get("prompt_text")) or "(prompt text not recorded)"
            con.print(Text("  prompt ", style="dim") + Text(f"“{label}”", style="italic")
                      + Text(f"  {str(prompt or '')[:8]}", style="dim"))
        if table is None:
            table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1))
            for _ in range(6):
                table.add_column()
        status = step["status"]
        who = Text("external", style="magenta") if step["origin"] == "external" else Text(step["tool"] or "?")
        decision = step.get("decision")
        table.add_row(
            Text(f"  {step['seq']:>4}", style="dim"),
            Text(step["id"][:8], style="cyan"),
            who,
            Text(status if decision in (None, "allow") else f"{status} ({decision})",
                 style=_STATUS_STYLE.get(status, "")),
            Text(summary(step)),
            _files_cell(step["files"]),
        )
        if status == "blocked" and step.get("reasons"):
            table.add_row("", "", "", "", Text("↳ " + excerpt("; ".join(step["reasons"]), 100), style="red"), "")
        elif status == "error" and step.get("error"):
            table.add_row("", "", "", "", Text("↳ " + excerpt(step["error"], 100), style="red"), "")
    flush()


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
