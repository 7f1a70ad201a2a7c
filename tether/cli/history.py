"""Commands that act on history: blame, rewind, revert, restore, undo, ops."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from tether.cli.common import emit_json, json_option, with_store
from tether.errors import TetherError
from tether.record import query
from tether.record.store import Store

# rich and the operations module are imported where they are used: `tether blame --json`
# should cost little more than the blame itself.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from rich.console import Console

    from tether.history import operations as ops


def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _ask(yes: bool, what: str) -> Any:
    if yes:
        return None

    def confirm(plan: ops.Plan) -> bool:
        if not sys.stdin.isatty():
            raise TetherError(f"refusing to {what} without --yes: there is no terminal to ask on")
        _print_plan(_err(), plan)
        return click.confirm(f"{what.capitalize()}: change {len(plan.changes)} files?", default=False,
                             err=True)
    return confirm


def _print_plan(con: Console, plan: ops.Plan) -> None:
    from rich.text import Text

    letters = {"added": ("A", "green"), "modified": ("M", "yellow"), "deleted": ("D", "red")}
    con.print(Text(f"{plan.kind} {plan.target}:", style="bold"))
    if not plan.changes:
        con.print("  nothing to change", style="dim")
    for c in plan.changes:
        letter, style = letters[c.change]
        con.print(Text("  ") + Text(letter, style=style) + Text(f" {c.name}"))
    for conflict in plan.conflicts:
        hunks = ", ".join(f"lines {a}-{b}" for a, b in conflict.hunks)
        con.print(Text(f"  conflict: {conflict.reason}" + (f" ({hunks})" if hunks else ""), style="red"))


def _report(plan: ops.Plan, op: str | None, step: str | None, dry_run: bool, as_json: bool) -> None:
    from rich.text import Text

    if as_json:
        emit_json({"kind": plan.kind, "target": plan.target, "dry_run": dry_run, "operation": op, "step": step,
                   "files": plan.files_json(), "conflicts": [c.to_json() for c in plan.conflicts]})
    con = _err()
    if plan.conflicts and op is None:
        if not as_json:
            _print_plan(con, plan)
        raise TetherError(f"{plan.kind} refused: later changes overlap in "
                          f"{', '.join(sorted({c.path.decode('utf-8', 'backslashreplace') for c in plan.conflicts}))}"
                          "; nothing was changed (--conflicts writes conflict markers instead)"
                          if plan.kind == "revert" else
                          f"{plan.kind} refused: " + "; ".join(c.reason for c in plan.conflicts))
    if as_json:
        return
    if dry_run:
        _print_plan(con, plan)
        con.print("(dry run: nothing was changed)", style="dim")
    elif op is None:
        con.print(f"{plan.kind} {plan.target}: nothing to change")
    else:
        n = len(plan.changes)
        con.print(Text(f"{plan.kind} {plan.target}: {n} file{'' if n == 1 else 's'} changed "
                       f"(operation {op[:8]}, step {step[:8] if step else '-'})", style="green"))
        if plan.conflicts:
            con.print(Text(f"{len(plan.conflicts)} files have conflict markers to resolve", style="yellow"))
        con.print(Text("`tether undo` takes it back.", style="dim"))


def _step_seq(store: Store, ref: str) -> int:
    return int(query.resolve_step(store.db, ref)[0])


def _first(seqs: list[int], what: str) -> int:
    if not seqs:
        raise TetherError(f"{what} has no recorded steps")
    return min(seqs)


@click.command()
@click.argument("path")
@click.option("-L", "line_range", metavar="START,END", help="Only these lines (1-based, inclusive).")
@json_option
@with_store
def blame(store: Store, path: str, line_range: str | None, as_json: bool) -> None:
    """Which step, session and prompt wrote each line of PATH, or "baseline" / "external"."""
    from tether.history.blame import blame as run

    start = end = None
    if line_range:
        try:
            a, _, b = line_range.partition(",")
            start = int(a)
            end = int(b) if b else start
        except ValueError:
            raise TetherError(f"-L takes START,END (line numbers), not {line_range!r}") from None
    lines = run(store, path, os.getcwd(), start, end)
    if as_json:
        emit_json(lines)
        return
    from rich.text import Text

    from tether.cli import render
    con = render.console()
    previous: Any = object()
    now = time.time()
    for entry in lines:
        key = (entry["origin"], entry.get("step"), entry.get("commit"))
        same = key == previous
        previous = key
        if entry["origin"] == "baseline":
            who = Text(f"{'baseline':<14}", style="dim")
            what = f"commit {entry['commit'][:8]}" if entry.get("commit") else "before recording"
            age = ""
        elif entry.get("step") is None:
            who = Text(f"{'external':<14}", style="magenta")
            what, age = "not recorded yet", ""
        else:
            who = Text(f"{entry['seq']:>5} {entry['step'][:8]}",
                       style="magenta" if entry["origin"] == "external" else "cyan")
            what = (render.excerpt(entry.get("prompt_text"), 32) if entry["origin"] == "agent" else
                    (entry.get("tool") or "a person or another program"))
            age = _age(now, entry.get("time"))
        if same:
            who, what, age = Text(" " * 14), "", ""
        line = who + Text(f" {render.excerpt(what, 32):<32} {age:>8} ", style="dim")
        line += Text(f"{entry['line']:>5}  ", style="dim") + Text(entry["text"])
        con.print(line, soft_wrap=True, overflow="ignore", crop=False)


def _age(now: float, stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        t = time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    except ValueError:
        return ""
    secs = max(0, int(now - t))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit} ago"
    return f"{secs}s ago"


_common = [
    click.option("--dry-run", is_flag=True, help="Show what would change; change nothing."),
    click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation."),
    click.option("--reason", "-m", help="Why, kept in the operation log."),
    json_option,
]


def _with_common(fn: Any) -> Any:
    for deco in reversed(_common):
        fn = deco(fn)
    return fn


@click.command()
@click.argument("step", required=False)
@click.option("--prompt", help="Rewind to just before this prompt's first step.")
@click.option("--session", help="Rewind to just before this session's first step.")
@_with_common
@with_store
def rewind(store: Store, step: str | None, prompt: str | None, session: str | None, dry_run: bool, yes: bool,
           reason: str | None, as_json: bool) -> None:
    """Put every file back as it was just before STEP (or a prompt, or a session).

    Files created since are removed, files deleted since come back. Changes nobody
    recorded yet are recorded first, so `tether undo` brings everything back.
    """
    from tether.history import operations as ops

    if sum(x is not None for x in (step, prompt, session)) != 1:
        raise TetherError("give exactly one of STEP, --prompt ID or --session ID")
    db = store.db
    if step is not None:
        seq, target = _step_seq(store, step), f"to before step {step}"
    elif prompt is not None:
        seq, target = _first(query.steps_for(db, prompt=prompt), f"prompt {prompt}"), f"to before prompt {prompt}"
    else:
        assert session is not None
        sid = query.resolve_session(db, session)
        # The agent's steps: changes found at the session's start were made before it.
        seqs = [r[0] for r in db.execute("SELECT seq FROM steps WHERE session = ? AND origin = 'agent'", (sid,))]
        seq, target = _first(seqs, f"session {session}"), f"to before session {session}"
    plan, op, sid_ = ops.execute(store, lambda: ops.plan_rewind(store, seq, target), dry_run=dry_run,
                                 confirm=_ask(yes, "rewind"), reason=reason)
    _report(plan, op, sid_, dry_run, as_json)


@click.command()
@click.argument("step", required=False)
@click.option("--prompt", help="Revert every step of this prompt.")
@click.option("--conflicts", is_flag=True, help="Where later changes overlap, write conflict markers as git does.")
@_with_common
@with_store
def revert(store: Store, step: str | None, prompt: str | None, conflicts: bool, dry_run: bool, yes: bool,
           reason: str | None, as_json: bool) -> None:
    """Take back only what STEP (or a prompt) changed, keeping every later change.

    Where a later change overlaps, it refuses, names the files and hunks, and changes nothing.
    """
    from tether.history import operations as ops

    if (step is None) == (prompt is None):
        raise TetherError("give exactly one of STEP or --prompt ID")
    if step is not None:
        seqs, target = [_step_seq(store, step)], f"step {step}"
    else:
        assert prompt is not None
        seqs, target = query.steps_for(store.db, prompt=prompt), f"prompt {prompt}"
        _first(seqs, f"prompt {prompt}")
    plan, op, sid = ops.execute(store, lambda: ops.plan_revert(store, seqs, target, conflicts), dry_run=dry_run,
                                confirm=_ask(yes, "revert"), reason=reason)
    _report(plan, op, sid, dry_run, as_json)


@click.command()
@click.argument("path")
@click.option("--at", "at", required=True, metavar="STEP", help="The step whose result to restore.")
@click.option("--before", is_flag=True, help="Restore as it was just before STEP instead of just after.")
@_with_common
@with_store
def restore(store: Store, path: str, at: str, before: bool, dry_run: bool, yes: bool, reason: str | None,
            as_json: bool) -> None:
    """Restore one file or folder as it was right after STEP, leaving every other file alone."""
    from tether import workspace
    from tether.history import operations as ops

    rel = workspace.relpath(store.root, path, os.getcwd())
    if rel is None and os.path.realpath(os.path.join(os.getcwd(), path)) != store.root:
        raise TetherError(f"{path} is outside the workspace {store.root}")
    prefix = (rel or "").encode("utf-8", "surrogateescape")
    seq = _step_seq(store, at)
    target = f"{rel or '.'} {'before' if before else 'at'} step {at}"
    plan, op, sid = ops.execute(store, lambda: ops.plan_restore(store, prefix, seq, not before, target),
                                dry_run=dry_run, confirm=_ask(yes, "restore"), reason=reason)
    _report(plan, op, sid, dry_run, as_json)


@click.command()
@_with_common
@with_store
def undo(store: Store, dry_run: bool, yes: bool, reason: str | None, as_json: bool) -> None:
    """Undo the last operation (a rewind, revert, restore or undo) by appending its inverse."""
    from tether.history import operations as ops

    plan, op, sid = ops.execute(store, lambda: ops.plan_undo(store), dry_run=dry_run,
                                confirm=_ask(yes, "undo"), reason=reason)
    _report(plan, op, sid, dry_run, as_json)


@click.command(name="ops")
@json_option
@with_store
def ops_(store: Store, as_json: bool) -> None:
    """The operation log: every rewind, revert, restore and undo, oldest first."""
    from tether.history import operations as ops

    rows = ops.operations(store)
    if as_json:
        emit_json(rows)
        return
    from rich.text import Text

    from tether.cli import render
    con = render.console()
    if not rows:
        con.print("No operations yet.", style="dim")
        return
    for r in rows:
        kind = r["kind"] + (f" of {r['undoes'][:8]}" if r["undoes"] else "")
        files = f"{len(r['files'])} file" + ("" if len(r["files"]) == 1 else "s")
        line = Text(r["id"][:8], style="cyan") + Text(f"  {r['time'][:16].replace('T', ' ')}  ", style="dim")
        line += Text(f"{kind:<18} {r['target'] or ''}  ({files}, by {r['user'] or '?'})")
        if r["state"] != "done":
            line += Text(f"  {r['state']}", style="bold red")
        if r.get("reason"):
            line += Text(f"  “{r['reason']}”", style="italic")
        con.print(line, soft_wrap=True, overflow="ignore", crop=False)


def register(group: click.Group) -> None:
    for command in (blame, rewind, revert, restore, undo, ops_):
        group.add_command(command)
