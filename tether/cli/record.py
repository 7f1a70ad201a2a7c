"""Commands of the flight recorder: init, uninstall, status, log, show, diff, sessions, verify."""

from __future__ import annotations

import os

import click

from tether import setup
from tether.cli.common import emit_json, json_option, root, with_store
from tether.errors import TetherError
from tether.record import query
from tether.record.store import Store

# rich is imported only where people get output: a `--json` call never pays for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from rich.console import Console


def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@click.command()
@click.option("--agent", type=click.Choice(["claude", "codex", "gemini", "opencode", "all"]), default="claude",
              show_default=True, help="Which agent's hooks to install.")
@click.option("--shared", is_flag=True, help="Put the permission rules and sandbox settings in "
              ".claude/settings.json, which the team commits (the hooks stay per user).")
@click.option("--no-sandbox", "no_sandbox", is_flag=True, help="Leave the agent's OS sandbox off "
              "(not recommended: code the agent runs could then change tether's files).")
@json_option
def init(agent: str, shared: bool, no_sandbox: bool, as_json: bool) -> None:
    """Set tether up here: the store, the policy file, the agent's hooks, its sandbox, a baseline.

    The hooks go to .claude/settings.local.json (they name this machine's interpreter).
    Safe to run again: hooks are merged with what is there, never duplicated.
    """
    from rich.text import Text

    report = setup.init(root(), agent, shared=shared, sandbox=not no_sandbox)
    for warning in report.warnings:
        _err().print(Text(f"warning: {warning}", style="yellow"))
    if as_json:
        emit_json(report.__dict__)
        return
    con = _err()
    con.print(Text(f"tether is set up in {report.root}", style="bold green"))
    con.print(Text(f"  store     {report.store}" + ("" if report.store_created else " (existing)")))
    policy = os.path.join(report.root, ".tether", "policy.toml")
    con.print(Text(f"  policy    {policy}" + (" (created)" if report.policy_created else " (kept)")))
    for name, changed in report.settings_changed.items():
        con.print(Text(f"  hooks     {name}: " + ("installed" if changed else "already installed")))
    con.print(Text(f"  sandbox   {report.sandbox}: {report.sandbox_reason}"))
    con.print(Text(f"  baseline  {report.files} files"))
    if report.external_step:
        con.print(Text(f"  changes since the last baseline were recorded as step {report.external_step[:8]}"))


@click.command()
@click.option("--agent", type=click.Choice(["claude", "codex", "gemini", "opencode", "all"]), default="all",
              show_default=True, help="Whose hooks to remove.")
def uninstall(agent: str) -> None:
    """Remove the hooks, permission rules and sandbox settings that `tether init` added. The record is kept."""
    from rich.text import Text

    where = root()
    changed = setup.uninstall(where, agent)
    con = _err()
    for name, did in changed.items():
        con.print(f"{name}: " + ("hooks removed" if did else "no tether hooks were installed"))
    con.print(Text(f"The record is kept in {Store.for_root(where).path}; delete that folder to discard it."))


@click.command()
@json_option
def status(as_json: bool) -> None:
    """Where the store is, which hooks are installed, and recent recording errors."""
    info = setup.status(root())
    if as_json:
        emit_json(info)
        return
    from rich.text import Text

    from tether.cli import render
    con = render.console()
    con.print(Text(f"workspace  {info['root']}"))
    con.print(Text(f"store      {info['store']}" + ("" if info["initialized"] else "  (not set up: run `tether init`)")))
    con.print(Text(f"policy     {info['policy'] or '(none: the built-in default applies)'}"))
    claude = info["agents"]["claude"]
    missing = [e for e, ok in claude["hooks"].items() if not ok]
    state = "installed" if claude["installed"] else ("not installed" if len(missing) == len(claude["hooks"])
                                                     else "incomplete, missing " + ", ".join(missing))
    con.print(Text(f"claude     hooks {state}"))
    box = info["containment"]
    con.print(Text(f"sandbox    {box['state']}: {box['reason']}",
                   style="" if box["state"] == "on" else "yellow"))
    for name in box.get("hidden_from_git", []):
        con.print(Text(f"           git ignores {name} (listed so that the sandbox's placeholder is not "
                       "added); `git add -f` adds it"))
    pinned = info["pins"]
    if pinned["changed_files"]:
        con.print(Text(f"pins       changed since accepted: {', '.join(pinned['changed_files'])}; every tool "
                       "call is denied until a person reviews it and runs `tether policy accept`", style="bold red"))
    elif pinned["policy"] == "unpinned":
        con.print(Text("pins       none yet (the first hook call pins the policy and settings)"))
    else:
        con.print(Text("pins       the policy and hook settings are as accepted"))
    where = info["install"]
    if where["in_workspace"]:
        con.print(Text(f"install    {where['advice']}", style="yellow"))
    daemon = info["daemon"]
    con.print(Text(f"daemon     running (pid {daemon['pid']}), socket {daemon['socket']}" if daemon["running"]
                   else "daemon     not running: hooks work in-process (`tether serve --detach` starts it)"))
    if info["initialized"]:
        con.print(Text(f"recorded   {info['sessions']} sessions, {info['steps']} steps, {info['files']} files known"))
    if info["errors"]:
        con.print(Text(f"recent errors ({len(info['errors'])}):", style="bold red"))
        for e in info["errors"]:
            con.print(Text(f"  {e.get('time', '')}  {e.get('event') or ''}  {e.get('message', '')}"))
    else:
        con.print(Text("errors     none"))


@click.command()
@click.option("--session", help="Only this session (an id or a prefix of one).")
@click.option("--prompt", help="Only the steps of this prompt.")
@click.option("--commit", "rev", metavar="REV", help="Only the steps that wrote what this git commit changed.")
@json_option
@with_store
def log(store: Store, session: str | None, prompt: str | None, rev: str | None, as_json: bool) -> None:
    """Every recorded step, oldest first: prompts, tool calls, decisions and changed files."""
    steps = query.log(store, session=session, prompt=prompt)
    if rev is not None:
        from tether.history.commits import steps_of_commit

        wanted = set(steps_of_commit(store, rev))
        steps = [s for s in steps if s["seq"] in wanted]
    if as_json:
        emit_json(steps)
        return
    from tether.cli import render
    render.print_log(render.console(), steps, store.root)


@click.command()
@click.argument("step")
@json_option
@with_store
def show(store: Store, step: str, as_json: bool) -> None:
    """One step with its unified diff. STEP is a step number or an id prefix (7+ characters)."""
    row = query.resolve_step(store.db, step)
    data = query.step_json(store.db, row, with_response=True)
    diff = query.diff_text(store, query.step_diffs(store.db, data["seq"]))
    if as_json:
        emit_json({**data, "diff": diff})
        return
    from tether.cli import render
    render.print_step(render.console(), data, diff)


@click.command()
@click.argument("step", required=False)
@click.option("--prompt", help="What this prompt's steps changed, taken together.")
@click.option("--session", help="What this session's agent steps changed, taken together.")
@json_option
@with_store
def diff(store: Store, step: str | None, prompt: str | None, session: str | None, as_json: bool) -> None:
    """What a step, a prompt or a whole session changed, as one unified diff."""
    if sum(x is not None for x in (step, prompt, session)) != 1:
        raise TetherError("give exactly one of STEP, --prompt ID or --session ID")
    if step is not None:
        seqs = [query.resolve_step(store.db, step)[0]]
    else:
        seqs = query.steps_for(store.db, prompt=prompt, session=session)
    diffs = query.net_diffs(store.db, seqs)
    text = query.diff_text(store, diffs)
    if as_json:
        emit_json({"steps": len(seqs),
                   "files": [{"path": query.path_text(d.path), "change": d.change} for d in diffs],
                   "diff": text})
        return
    from tether.cli import render
    render.print_diff(render.console(), text)


@click.command()
@json_option
@with_store
def sessions(store: Store, as_json: bool) -> None:
    """The recorded sessions, with their prompts, steps and changed files."""
    rows = query.sessions(store)
    if as_json:
        emit_json(rows)
        return
    from tether.cli import render
    render.print_sessions(render.console(), rows)


@click.command()
@click.option("--no-objects", is_flag=True, help="Check the journal and the rows only, not every stored file.")
@json_option
@with_store
def verify(store: Store, no_objects: bool, as_json: bool) -> None:
    """Check that the record is what tether wrote: the journal's hash chain and its anchor
    outside the store, every session, prompt, step, attribution and operation row against
    the journal, and every stored file. Exits 1 when anything was changed."""
    from dataclasses import asdict

    from rich.text import Text

    from tether.record.verify import verify as run

    report = run(store, objects=not no_objects)
    if as_json:
        emit_json({"ok": report.ok, "events": report.events, "objects": report.objects,
                   "problems": report.problems, "rows": report.rows,
                   "findings": [asdict(f) for f in report.findings], "notes": report.notes,
                   "anchor": report.anchor})
    else:
        con = _err()
        for p in report.problems:
            con.print(Text(p, style="red"))
        for note in report.notes:
            con.print(Text(f"note: {note}", style="yellow"))
        con.print(Text(f"{report.events} events, {report.rows} rows and {report.objects} objects checked: "
                       + ("intact" if report.ok else f"{len(report.problems)} problems"),
                       style="green" if report.ok else "bold red"))
    if not report.ok:
        raise SystemExit(1)


@click.command()
@with_store
def gc(store: Store) -> None:
    """Pack the store's file contents into one compressed pack. Nothing is ever deleted."""
    from tether.record.verify import verify as run

    before = _size(store.objects.objects)
    with store.locked():
        store.objects.pack()
    after = _size(store.objects.objects)
    click.echo(f"objects: {before // 1024} KiB -> {after // 1024} KiB on disk", err=True)
    report = run(store, objects=True)
    if not report.ok:
        raise TetherError(f"after packing, {len(report.problems)} objects are missing: run `tether verify`")


def _size(folder: str) -> int:
    total = 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


def register(group: click.Group) -> None:
    for command in (init, uninstall, status, log, show, diff, sessions, verify, gc):
        group.add_command(command)
