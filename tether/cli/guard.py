"""`tether check`, `explain`, `policy`, `task` and `mode`: the guard from the command line.

`check` prints the decision the hook would give without running anything and
exits 0 whatever the decision is; only a failure to decide (a broken policy,
bad input) exits non-zero.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from tether.cli.common import emit_json, json_option
from tether.errors import PolicyError, TetherError


def _root() -> str:
    from tether.workspace import find_root

    return find_root(os.getcwd())


def _guard(root: str) -> Any:
    from tether.guard.engine import Guard

    return Guard.load(root)


def _ctx(root: str) -> Any:
    from tether.guard.engine import GuardContext

    return GuardContext(root=os.path.realpath(root), cwd=os.path.realpath(os.getcwd()))


def _print_decision(d: Any) -> None:
    colour = {"allow": "green", "ask": "yellow", "deny": "red"}[d.verdict]
    click.echo(click.style(d.verdict, fg=colour, bold=True))
    for r in d.reasons:
        click.echo(f"  - {r}")
    if d.risks:
        click.echo(f"  risks: {', '.join(d.risks)}")
    click.echo(f"  rules: {', '.join(d.rules)}")


def _show(decide: Any, as_json: bool) -> None:
    """Print the decision ``decide()`` returns, as JSON or for people."""
    try:
        d = decide()
    except TetherError as exc:
        raise _fail(exc) from None
    if as_json:
        emit_json(d.to_json())
    else:
        _print_decision(d)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def register(group: click.Group) -> None:
    """Add the guard's commands to the `tether` group."""

    @group.group("check")
    def check() -> None:
        """Ask the guard about a command or tool call without running it."""

    @check.command("command")
    @click.argument("command")
    @json_option
    def check_command(command: str, as_json: bool) -> None:
        """The decision (allow, ask or deny) the policy gives the shell command COMMAND."""
        root = _root()
        _show(lambda: _guard(root).check_command(command, _ctx(root)), as_json)

    @check.command("tool")
    @click.argument("name")
    @click.option("--input", "input_json", required=True, metavar="JSON",
                  help="The tool's input as a JSON object, e.g. '{\"file_path\": \".env\"}'.")
    @json_option
    def check_tool(name: str, input_json: str, as_json: bool) -> None:
        """The decision the policy gives a call of the tool NAME (Write, Read, WebFetch, mcp__x__y, ...)."""
        try:
            tool_input = json.loads(input_json)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"--input is not valid JSON: {exc.msg} at position {exc.pos}") from None
        if not isinstance(tool_input, dict):
            raise click.ClickException("--input must be a JSON object")
        root = _root()
        _show(lambda: _guard(root).check_tool(name, tool_input, _ctx(root)), as_json)

    @group.command("explain")
    @click.argument("command")
    @json_option
    def explain(command: str, as_json: bool) -> None:
        """Show how the guard reads COMMAND: its simple commands, the effects found, the rules that decided."""
        root = _root()
        try:
            data = _guard(root).explain(command, _ctx(root))
        except TetherError as exc:
            raise _fail(exc) from None
        if as_json:
            emit_json(data)
            return
        click.echo(f"command: {command}")
        click.echo(f"cwd:     {data['cwd']}   mode: {data['mode']}"
                   + (f"   task: {data['task']}" if data["task"] else ""))
        click.echo(f"policy:  {data['policy']}")
        click.echo("parsed:")
        for p in data["parsed"]:
            where = f"   (in {p['cwd']})" if p["cwd"] != data["cwd"] else ""
            click.echo("  " + " ".join(json.dumps(a) if (" " in a or not a) else a for a in p["argv"])
                       + where)
            for r in p.get("redirects", []):
                click.echo(f"      redirect {r['fd'] or ''}{r['op']} {r['target']}")
            if p.get("stdin_from"):
                click.echo(f"      stdin from: {'; '.join(p['stdin_from'])}")
        for prob in data["problems"]:
            click.echo(f"  problem: {prob}")
        click.echo("effects:")
        if not data["effects"]:
            click.echo("  (none)")
        for e in data["effects"]:
            click.echo(f"  {e['decision']:5} {e['rule']:28} {e['target'] or ''}")
        d = data["decision"]
        click.echo(f"decision: {d['decision']}  (rules: {', '.join(d['rules'])})")
        for r in d["reasons"]:
            click.echo(f"  - {r}")

    @group.group("policy")
    def policy() -> None:
        """Show, validate or accept the guard policy (.tether/policy.toml over the built-in default)."""

    @policy.command("show")
    @json_option
    def policy_show(as_json: bool) -> None:
        """Print the policy in force here: the built-in default merged with the project's file."""
        from tether.guard.policy import to_toml

        root = _root()
        try:
            g = _guard(root)
        except TetherError as exc:
            raise _fail(exc) from None
        if as_json:
            emit_json(g.policy.data)
            return
        click.echo(f"# policy in force for {g.root} (from {g.policy.source})")
        click.echo(to_toml(g.policy.data), nl=False)

    @policy.command("validate")
    @click.argument("path", required=False, type=click.Path(dir_okay=False))
    def policy_validate(path: str | None) -> None:
        """Check a policy file (default: this workspace's .tether/policy.toml); errors name the line and key."""
        from tether.guard.policy import validate_file
        from tether.workspace import policy_path

        target = path or policy_path(_root())
        if not os.path.exists(target):
            if path is None:
                click.echo(f"no policy file at {target}; the built-in default applies", err=True)
                return
            raise click.ClickException(f"{target}: no such file")
        try:
            validate_file(target)
        except PolicyError as exc:
            raise _fail(exc) from None
        click.echo(f"{target}: ok", err=True)

    @policy.command("accept")
    @click.option("--yes", is_flag=True, help="Accept without asking (required without a terminal).")
    def policy_accept(yes: bool) -> None:
        """Accept the policy and the hook settings as they are now, after showing what changed.

        The hook denies every call while .tether/policy.toml or tether's part of
        .claude/settings*.json differs from what was last accepted (by this command or
        `tether init`). This shows the difference and asks; without a terminal it refuses
        unless --yes.
        """
        import sys

        from tether import pins
        from tether.guard.policy import validate_file
        from tether.record.store import Store
        from tether.workspace import policy_path

        root = _root()
        try:
            store = Store.open(root)
        except TetherError as exc:
            raise _fail(exc) from None
        try:
            found, diff, shown = pins.pending(store)
            if not found:
                click.echo("nothing to accept: the policy and the hook settings are as last accepted", err=True)
                return
            click.echo(diff, nl=False)
            if os.path.exists(policy_path(root)):
                try:
                    validate_file(policy_path(root))
                except PolicyError as exc:
                    raise _fail(exc) from None
            if not yes:
                if not sys.stdin.isatty():
                    raise click.ClickException("no terminal to ask on: review the difference above, then run "
                                               "`tether policy accept --yes`; nothing was accepted")
                if not click.confirm("Accept these changes?", err=True):
                    raise click.ClickException("not accepted; nothing changed")
            try:
                pins.accept(store, shown)
            except TetherError as exc:
                raise _fail(exc) from None
        finally:
            store.close()
        click.echo(f"accepted: {', '.join(sorted(found))}; tool calls are decided by the policy again", err=True)

    @group.group("task")
    def task() -> None:
        """Give the session a task scope: edits and commands outside it are asked about."""

    @task.command("start")
    @click.argument("intent")
    @click.argument("more_paths", nargs=-1, metavar="[PATH]...")
    @click.option("--scope", "scope", multiple=True, required=True, metavar="PATH",
                  help="A path (folder, file or glob) the task may change; repeat it, separate paths "
                       "with commas, or list more paths after the first.")
    @click.option("--allow-cmd", "allow_cmd", multiple=True, metavar="PATTERN",
                  help="A command pattern the task may run, e.g. 'npm run e2e*'; repeatable.")
    @json_option
    def task_start(intent: str, more_paths: tuple[str, ...], scope: tuple[str, ...],
                   allow_cmd: tuple[str, ...], as_json: bool) -> None:
        """Start a task for INTENT, limited to the --scope paths (reads, tests and builds stay allowed).

        `tether task start "fix the login button" --scope src/ui tests/ui --allow-cmd "npm run e2e*"`
        """
        from tether.guard import state

        root = _root()
        try:
            t = state.start_task(root, intent, [*scope, *more_paths], list(allow_cmd), cwd=os.getcwd())
        except TetherError as exc:
            raise _fail(exc) from None
        if as_json:
            emit_json(t.to_json())
        else:
            click.echo(f"task {t.id} started: {t.intent}", err=True)
            click.echo(f"  scope: {', '.join(t.scope) or '.'}", err=True)
            if t.allow_cmds:
                click.echo(f"  commands: {', '.join(t.allow_cmds)}", err=True)

    @task.command("show")
    @json_option
    def task_show(as_json: bool) -> None:
        """Show the active task, if any."""
        from tether.guard import state

        try:
            t = state.active_task(_root())
        except TetherError as exc:
            raise _fail(exc) from None
        if as_json:
            emit_json(t.to_json() if t else None)
            return
        if t is None:
            click.echo("no active task", err=True)
            return
        click.echo(f"{t.id}: {t.intent}")
        click.echo(f"  started:  {t.started}")
        click.echo(f"  scope:    {', '.join(t.scope) or '.'}")
        click.echo(f"  commands: {', '.join(t.allow_cmds) or '(reads, tests and builds only)'}")

    @task.command("end")
    def task_end() -> None:
        """End the active task; the whole workspace is in scope again."""
        from tether.guard import state

        try:
            t = state.end_task(_root())
        except TetherError as exc:
            raise _fail(exc) from None
        click.echo(f"task {t.id} ended" if t else "no active task", err=True)

    @group.command("mode")
    @click.argument("mode", required=False, type=click.Choice(["investigate", "normal"]))
    def mode(mode: str | None) -> None:
        """Show or set the guard mode: `investigate` allows reading only, `normal` the full policy."""
        from tether.guard import state

        root = _root()
        try:
            if mode is None:
                click.echo(state.load(root).mode)
                return
            st = state.set_mode(root, mode)
        except TetherError as exc:
            raise _fail(exc) from None
        click.echo(f"mode: {st.mode}", err=True)
