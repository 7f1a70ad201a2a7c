"""The entry point agents run on every hook event.

The command is ``python -P -c "from tether.hook import cli; cli()" AGENT EVENT`` (``-c``
rather than ``-m``: ``runpy`` alone costs milliseconds).

Two rules decide everything here (DESIGN.md, principle 1):

- The guard fails closed. For PreToolUse, any failure to reach a decision
  (bad input, a broken policy, a crash) blocks the call: exit status 2 with
  the reason on stderr.
- Recording fails open. A recording failure never breaks the agent's work: it
  is kept in the store's error log, shown by ``tether status``, and the hook
  exits 0.

Imports are kept to what the event needs: this process starts once per tool call.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False

if TYPE_CHECKING:
    from tether.record.recorder import Recorder
    from tether.types import Decision, Event

# Beyond this, stdin is not read further: the event is recorded as unreadable.
MAX_INPUT = 256 << 20


def _read_stdin() -> bytes:
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise ValueError(f"hook input is larger than {MAX_INPUT >> 20} MiB")
    return data


def _log_failure(root: str | None, message: str, event: str | None, session: str | None) -> None:
    """Keep a recording failure where `tether status` will find it. Never raises."""
    try:
        from tether import workspace
        from tether.record.store import Store, fallback_error

        root = root or workspace.find_root(os.getcwd())
        store = Store.for_root(root)
        if store.exists():
            try:
                store.log_error(message, event, session)
                return
            finally:
                store.close()
        fallback_error(store.path, message, event, session)
    except Exception:
        pass


def _decide(ev: Event) -> tuple[Decision, str | None]:
    """The guard's decision and the active task id. Raises on any failure (the caller blocks)."""
    from tether.guard import state as guard_state
    from tether.guard.engine import Guard, GuardContext
    from tether.workspace import store_dir

    store = store_dir(ev.root)
    state = guard_state.load(ev.root, store)
    guard = Guard.load(ev.root, store)
    ctx = GuardContext(root=ev.root, cwd=ev.cwd, session_id=ev.session_id,
                       permission_mode=ev.permission_mode, state=state, store=store)
    return guard.check_tool(ev.tool or "", ev.tool_input or {}, ctx), (state.task.id if state.task else None)


def _tampered(ev: Event) -> Decision | None:
    """Tamper evidence (tether/pins.py): a deny while the policy or the hook settings differ
    from what a person accepted, whatever the guard would say; None while they hold."""
    from tether import pins
    from tether.workspace import store_dir

    reason = pins.guard(ev.root, store_dir(ev.root))
    if reason is None:
        return None
    from tether.types import Decision

    return Decision("deny", [reason], ["self-protection"], ["self.tampered"])


def _report_tampering(ev: Event) -> None:
    """At Stop and SessionEnd: tether hooks that vanished mid-session and files changed since
    they were accepted go to the error log, where `tether status` shows them. Fails open."""
    try:
        from tether import pins
        from tether.workspace import store_dir

        for message in pins.report(ev.root, store_dir(ev.root)):
            _log_failure(ev.root, f"tamper evidence: {message}", ev.name, ev.session_id)
    except Exception as exc:
        _log_failure(ev.root, f"checking the pins failed: {_one_line(exc)}", ev.name, ev.session_id)


def _record(ev: Event, decision: Decision | None, task: str | None) -> None:
    from tether.record.recorder import Recorder
    from tether.record.store import Store

    store = Store.for_root(ev.root)
    if not store.exists():
        # Not set up here (hooks copied from another project, or the store was removed):
        # nothing to record into, and nothing is created behind the user's back.
        raise FileNotFoundError(f"no tether store for {ev.root}; run `tether init` there")
    store = Store.open(ev.root)
    try:
        record(Recorder(store), ev, decision, task)
    finally:
        store.close()


def record(rec: Recorder, ev: Event, decision: Decision | None = None, task: str | None = None) -> str | None:
    """Record one event, first completing any operation that was interrupted; returns the step id.

    A rewind or revert killed midway leaves half its files written: they must be put right
    before anything else is recorded, or the next walk would take them for someone's edit.
    Completing it writes files, which is history's work, and the recorder sits below history
    (it never imports it), so this front end does it, in the same hold of the store lock as
    the recording, so that nothing can come in between. `tether` commands that change files
    complete it themselves (history.operations.execute).
    """
    store = rec.store
    with store.locked():
        if store.pending_operation():
            from tether.history.operations import recover

            try:
                recover(store)
            except Exception as exc:
                store.log_error(f"completing an interrupted operation failed: {exc}", ev.name, ev.session_id)
        return rec.handle(ev, decision, task)


def run(agent: str, event_name: str, raw: bytes, *, cwd: str | None = None, project_dir: str | None = None,
        delivery: str | None = None) -> tuple[int, str | None, str | None]:
    """Handle one event: (exit status, stdout text, stderr text).

    ``cwd`` and ``project_dir`` are the hook process's (the daemon passes them on);
    ``delivery`` is the hook's id for this event, kept in the journal so that an event
    is recorded once even when both the daemon and the hook itself handled it.
    """
    from tether import fastjson
    from tether.agents import claude

    guarding = event_name == "PreToolUse"
    try:
        payload = fastjson.loads(raw)
        ev = claude.parse(payload, event_name, cwd=cwd, project_dir=project_dir)
    except Exception as exc:
        message = f"tether: unreadable {event_name} hook input: {_one_line(exc)}"
        _log_failure(_root_of(cwd), message, event_name, None)
        return (2, None, message) if guarding else (0, None, None)
    ev.delivery = delivery

    decision = None
    task = None
    out = None
    if guarding:
        try:
            decision = _tampered(ev)
            if decision is None:
                decision, task = _decide(ev)
            out = claude.answer(decision)
        except Exception as exc:
            message = f"tether: the guard could not decide, so the call is blocked: {_one_line(exc)}"
            _log_failure(ev.root, message, ev.name, ev.session_id)
            from tether.types import Decision

            _try_record(ev, Decision("deny", [message], ["unparsed"], ["guard.error"]), None)
            return 2, None, message
    _try_record(ev, decision, task)
    if ev.name in ("Stop", "SessionEnd"):
        _report_tampering(ev)
    if decision is not None and decision.verdict == "deny":
        # Both signals: the JSON reason on stdout and exit status 2 with the reason on stderr.
        # Either alone blocks; together a block survives the loss of one of them.
        return 2, out, "tether: " + ("; ".join(decision.reasons) or "denied by policy")
    return 0, out, None


def _root_of(cwd: str | None) -> str | None:
    if cwd is None:
        return None
    from tether import workspace

    return workspace.find_root(cwd)


def answer(agent: str, event_name: str, raw: bytes) -> tuple[int, str | None, str | None]:
    """Through the daemon when it answers in time, else in-process: the same answer either way.

    The daemon runs ``run`` itself, and acknowledges only after the event is committed to the
    journal. A daemon that is down, refuses, dies or is slow yields no answer, and the work
    is done here under the same delivery id: the recorder skips an event whose delivery the
    journal already holds, so a daemon that died between committing and answering costs a
    second decision, never a second record (nor a lost one).
    """
    from tether.daemon import client

    delivery = client.new_delivery()
    if client.enabled():
        reply = client.ask(agent, event_name, raw, delivery)
        if reply is not None:
            return reply
    return run(agent, event_name, raw, delivery=delivery)


def _try_record(ev: Event, decision: Decision | None, task: str | None) -> None:
    try:
        _record(ev, decision, task)
    except Exception as exc:
        _log_failure(ev.root, f"recording {ev.name} failed: {_one_line(exc)}", ev.name, ev.session_id)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ") or type(exc).__name__
    return text[:500]


# A PreToolUse hook that has not answered by then blocks the call itself. Claude Code lets a
# call through when a hook exceeds its own timeout (120 s as tether installs it).
GUARD_DEADLINE = 90


def _arm_deadline(seconds: int) -> None:
    """Block the call if this process is still deciding after ``seconds``."""
    try:
        import _signal  # type: ignore[import-not-found]  # not `signal`: its import pulls in enum
    except ImportError:  # pragma: no cover - no signals on this platform
        return

    def expire(signum: int, frame: object) -> None:
        from tether.agents import claude
        from tether.types import Decision

        reason = f"the guard did not answer within {seconds} s, so the call is blocked"
        answer = claude.answer(Decision("deny", [reason], ["unparsed"], ["guard.timeout"]))
        os.write(1, (answer or "").encode() + b"\n")
        os.write(2, f"tether: {reason}\n".encode())
        os._exit(2)

    _signal.signal(_signal.SIGALRM, expire)
    _signal.alarm(seconds)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    agent = args[0] if args else "claude"
    event_name = args[1] if len(args) > 1 else ""
    if event_name == "PreToolUse":
        _arm_deadline(GUARD_DEADLINE)
    try:
        raw = _read_stdin()
    except Exception as exc:
        message = f"tether: could not read hook input: {_one_line(exc)}"
        _log_failure(None, message, event_name, None)
        if event_name == "PreToolUse":
            sys.stderr.write(message + "\n")
            return 2
        return 0
    status, out, err = answer(agent, event_name, raw)
    if out:
        sys.stdout.write(out + "\n")
    if err:
        sys.stderr.write(err + "\n")
    return status


def cli() -> None:
    """Run as a process: handle one event, then exit without the interpreter's teardown."""
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is durable already (the database committed); skipping the teardown saves
    # the agent a few milliseconds on every tool call.
    os._exit(status)


if __name__ == "__main__":
    cli()
