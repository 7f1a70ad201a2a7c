"""The guard: one decision (allow, ask or deny) for every tool call, with reasons and rule ids.

Rule order (docs/policy.md explains it with examples):

1. Tether's own files (the locked path class ``tether``), its CLI and git hook
   redirection are self-protection; no tool rule turns them off.
2. investigate mode (or Claude Code's ``plan`` permission mode) allows reading only.
3. ``[tools]``: a tool-level allow/ask/deny, or ``check`` to analyse the call.
4. ``[[command]]`` rules, first match wins, replace the analysis of a simple command.
5. Each effect the analysis finds gets the decision of its rule id ([rules]) or of
   its risk class ([risks]).
6. An active task scope asks about edits and commands outside it.
7. What could not be parsed or understood is at least ``ask``.

The strictest result wins. Everything the agent produced is treated as data:
commands are parsed and scanned, never run or evaluated.
"""

from __future__ import annotations

import os

from tether.guard import policy as policy_mod
from tether.guard.analysis import Analyzer
from tether.guard.base import Effect
from tether.guard.globs import PathGlob, text_match
from tether.guard.paths import within
from tether.guard.policy import RANK, Policy
from tether.guard.state import GuardState, Task
from tether.guard.syntax import Word
from tether.types import FILE_TOOLS, PATH_TOOLS, READ_PATH_TOOLS, Decision

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tether.types import Verdict

# Tools that only read: allowed in investigate mode (their targets are still checked).
READ_TOOLS = frozenset({"Read", "NotebookRead", "Glob", "Grep", "LS", "WebFetch", "WebSearch",
                        "TodoWrite", "TodoRead", "ExitPlanMode", "EnterPlanMode", "AskUserQuestion",
                        "BashOutput", "ListMcpResourcesTool", "ReadMcpResourceTool", "Task",
                        "Agent", "Skill", "KillShell", "KillBash"})
_SELF = frozenset({"self-protection"})


class GuardContext:
    """Where and for whom a call is checked.

    ``state`` defaults to the saved mode and task of the workspace; pass one to
    check against another. ``store`` defaults to ``tether.workspace.store_dir(root)``.
    ``mode`` forces a mode ("investigate" or "normal"); Claude Code's
    ``permission_mode`` "plan" means investigate.
    """

    # A plain class: dataclasses would import inspect and re on the hook's path.
    __slots__ = ("cwd", "mode", "permission_mode", "root", "session_id", "state", "store")

    def __init__(self, root: str, cwd: str | None = None, session_id: str | None = None,
                 permission_mode: str | None = None, mode: str | None = None,
                 state: GuardState | None = None, store: str | None = None) -> None:
        self.root = root
        self.cwd = cwd
        self.session_id = session_id
        self.permission_mode = permission_mode
        self.mode = mode
        self.state = state
        self.store = store

    def __repr__(self) -> str:
        return (f"GuardContext(root={self.root!r}, cwd={self.cwd!r}, session_id={self.session_id!r}, "
                f"permission_mode={self.permission_mode!r}, mode={self.mode!r})")


class Guard:
    """A loaded policy, ready to check tool calls."""

    def __init__(self, policy: Policy, root: str, store: str | None) -> None:
        self.policy = policy
        self.root = root
        self.store = store

    @classmethod
    def load(cls, root: str, store: str | None = None, use_cache: bool = True,
             home: str | None = None) -> Guard:
        """Load ``<root>/.tether/policy.toml`` merged over the built-in default.

        Raises :class:`tether.errors.PolicyError` (naming file, line and key) when the
        file is broken; callers block the call.
        """
        root = os.path.realpath(root)
        if store is None:
            from tether.workspace import store_dir

            store = store_dir(root)
        pol = policy_mod.load(root, store=store, home=home, use_cache=use_cache)
        return cls(pol, root, store)

    # -- public checks ----------------------------------------------------

    def check_command(self, command: str, ctx: GuardContext) -> Decision:
        return self.check_tool("Bash", {"command": command}, ctx)

    def check_tool(self, tool_name: str, tool_input: Any, ctx: GuardContext) -> Decision:
        try:
            an, extra = self._analyse(tool_name, tool_input, ctx)
            return _decision([*an.effects, *extra])
        except Exception as exc:
            return Decision("deny", [f"the guard failed while analysing this call "
                                     f"({type(exc).__name__}: {exc}); it is blocked to be safe"],
                            ["unparsed"], ["guard.error"])

    def explain(self, command: str, ctx: GuardContext) -> dict[str, Any]:
        """The parsed structure, the effects found and the rules that decided."""
        an, extra = self._analyse("Bash", {"command": command}, ctx)
        decision = _decision([*an.effects, *extra])
        state = self._state(ctx)
        return {
            "command": command,
            "cwd": self._cwd(ctx),
            "mode": self._mode(ctx, state),
            "task": state.task.id if state.task else None,
            "policy": self.policy.source,
            "parsed": an.parsed,
            "problems": list(an.problems),
            "effects": [e.to_json() for e in [*an.effects, *extra]],
            "decision": decision.to_json(),
        }

    # -- internals --------------------------------------------------------

    def _cwd(self, ctx: GuardContext) -> str:
        cwd = ctx.cwd or self.root
        return os.path.normpath(cwd if os.path.isabs(cwd) else os.path.join(self.root, cwd))

    def _state(self, ctx: GuardContext) -> GuardState:
        if ctx.state is not None:
            return ctx.state
        from tether.guard import state as state_mod

        return state_mod.load(self.root, ctx.store or self.store)

    def _mode(self, ctx: GuardContext, state: GuardState) -> str:
        if ctx.mode:
            return ctx.mode
        if ctx.permission_mode == "plan":
            return "investigate"
        return state.mode

    def _analyse(self, tool: str, tool_input: Any, ctx: GuardContext) -> tuple[Analyzer, list[Effect]]:
        cwd = self._cwd(ctx)
        state = self._state(ctx)
        mode = self._mode(ctx, state)
        an = Analyzer(self.policy, cwd)
        extra: list[Effect] = []
        rule = self.policy.tool_rule(tool)
        inp = tool_input if isinstance(tool_input, dict) else {}
        if not isinstance(tool_input, dict):
            extra.append(_effect(self.policy, "unparsed.syntax", f"the input of {tool} is not an "
                                 "object; the call cannot be checked"))
        readonly_tool = tool in READ_TOOLS
        if tool == "Bash" or (rule == "check" and "command" in inp and tool not in PATH_TOOLS):
            command = inp.get("command")
            if not isinstance(command, str):
                extra.append(_effect(self.policy, "unparsed.syntax", f"{tool} was called without a "
                                     "command string"))
            else:
                an.run(command, cwd)
            readonly_tool = bool(an.units) and all(u.readonly for u in an.units) and not an.writes
            if tool == "Bash":
                extra += self._containment(inp)
        elif tool in PATH_TOOLS:
            self._file_tool(an, tool, inp, cwd)
        elif tool == "WebFetch":
            from tether.guard.hosts import host_of_url

            url = inp.get("url")
            host = host_of_url(url) if isinstance(url, str) else None
            if isinstance(url, str) and url.lower().startswith("file:"):
                an.path("read", Word("/" + url[5:].lstrip("/"), url), cwd, via="WebFetch")
            else:
                an.contact(host or "", "fetch", f"WebFetch {url!s:.80}")
        elif tool.startswith("mcp__"):
            readonly_tool = self._mcp(an, tool, inp, cwd, rule)
        elif rule in ("check", "auto"):
            extra.append(_effect(self.policy, "tool.unknown", f"the guard does not know the tool "
                                 f"{tool}; ask before using it"))
        if rule in ("allow", "ask", "deny") and not tool.startswith("mcp__"):
            # A tool-level rule replaces the analysis, except for tether's own protection.
            kept = [e for e in an.effects if e.risk in _SELF]
            an.effects = kept
            extra = [e for e in extra if e.risk in _SELF]
            if rule != "allow":
                extra.append(Effect("tool.rule", "tool", rule, f"the policy's [tools] entry for "
                                    f"{tool} says {rule}", tool))
        if mode == "investigate" and not readonly_tool:
            extra.append(_effect(self.policy, "mode.investigate", "investigate mode allows "
                                 f"reading only, and {tool} would change things; finish "
                                 "investigating, then ask the user to switch with `tether mode "
                                 "normal`", tool))
        if state.task is not None:
            self._scope(an, state.task, tool, readonly_tool, extra)
        return an, extra

    # -- the agent's OS sandbox (tether/sandbox.py) ------------------------------------

    def _containment(self, inp: dict[str, Any]) -> list[Effect]:
        """Bash leaving the sandbox asks; with ``[sandbox] mode = "required"``, Bash
        while the sandbox is not on (for this call) is denied."""
        out: list[Effect] = []
        if inp.get("dangerouslyDisableSandbox") is True:
            out.append(_effect(self.policy, "sandbox.escape", "the call asks to run outside the "
                               "agent's OS sandbox (dangerouslyDisableSandbox); run it inside, or "
                               "ask the user"))
        if self.policy.sandbox_mode == "required":
            from tether import sandbox

            state, why = sandbox.state(self.root, inp)
            if state != "on":
                out.append(_effect(self.policy, "sandbox.required", "the policy requires the "
                                   f"agent's OS sandbox for shell commands, and it is {state}: {why}"))
        return out

    def _file_tool(self, an: Analyzer, tool: str, inp: dict[str, Any], cwd: str) -> None:
        key = FILE_TOOLS.get(tool) or READ_PATH_TOOLS[tool]
        value = inp.get(key) or inp.get("file_path") or inp.get("path") or (cwd if tool in ("Glob", "Grep", "LS") else None)
        if tool in ("Glob", "Grep", "LS") and not isinstance(value, str):
            value = cwd
        if not isinstance(value, str) or not value:
            an.add("unparsed.syntax", f"{tool} was called without a {key}", None)
            return
        word = Word(value, value, quoted=True)
        if tool in FILE_TOOLS:
            an.mutates()
            an.path("write", word, cwd, via=tool)
            an.unit.readonly = False
        elif tool in ("Read", "NotebookRead"):
            an.path("read", word, cwd, via=tool)
        elif tool == "Grep":
            base = an.resolve(word, cwd)
            if base is not None and not os.path.isdir(base):
                an.path("read", word, cwd, via=tool)
            glob = inp.get("glob")
            if isinstance(glob, str) and base is not None and os.path.isdir(base):
                for g in glob.replace("{", ",").replace("}", ",").split(","):
                    g = g.strip()
                    if g:
                        an.path("read", Word(os.path.join(base, g.lstrip("*/") if g.startswith("**/") else g),
                                             g, glob=any(ch in g for ch in "*?[")), cwd, via="Grep")

    def _mcp(self, an: Analyzer, tool: str, inp: dict[str, Any], cwd: str, rule: str) -> bool:
        # What the arguments mean lives in guard/mcp.py, imported only for MCP calls.
        from tether.guard.mcp import check

        reading = check(an, tool, inp, cwd)
        if rule in ("allow", "ask", "deny"):
            # A [tools] entry decides about the tool itself; what its arguments do is still
            # judged (an allowed database tool still asks before DROP TABLE).
            if rule != "allow":
                an.add("tool.rule", f"the policy's [tools] entry for {tool} says {rule}", tool, rule)
            return rule == "allow" and reading.readonly
        if not reading.readonly and not reading.understood:
            an.add("tool.mcp-write", f"the MCP tool {tool} may change things outside tether's view "
                   "(its name does not read as read-only); add it to [tools] in "
                   ".tether/policy.toml to decide once", tool)
        return reading.readonly

    def _scope(self, an: Analyzer, task: Task, tool: str, readonly_tool: bool,
               extra: list[Effect]) -> None:
        scope_globs = [PathGlob(s.rstrip("/") if s else "**", self.policy.home) for s in task.scope]
        out_paths: list[str] = []
        for w in an.writes:
            if w is None:
                out_paths.append("a path only known at run time")
                continue
            if not within(w, self.root) or w == self.root:
                # Scratch space outside the workspace is fine; a workspace that itself lives
                # under /tmp is still held to the scope.
                if not any(within(w, z) for z in self.policy.temp_zones):
                    out_paths.append(w)
                continue
            rel = w[len(self.root):].lstrip("/")
            segs = rel.split("/")
            ok = False
            for s, g in zip(task.scope, scope_globs, strict=True):
                base = s.rstrip("/")
                if not base or rel == base or rel.startswith(base + "/"):
                    ok = True
                    break
                if g.match(segs, segs) or g.match(["x", *segs], segs):
                    ok = True
                    break
            if not ok:
                out_paths.append(rel)
        for p in out_paths[:3]:
            extra.append(_effect(self.policy, "task.scope", f"{p} is outside the task's scope "
                                 f"({', '.join(task.scope) or '.'}) for \"{task.intent}\"; stay "
                                 "within it or ask the user to widen the task", p))
        if tool != "Bash":
            return
        allowed = [*task.allow_cmds, *self.policy.task_allow]
        for unit in an.units:
            if unit.readonly or not unit.texts:
                continue
            if any(text_match(p, t) for p in allowed for t in unit.texts):
                continue
            extra.append(_effect(self.policy, "task.scope", f"`{unit.texts[0][:60]}` is outside "
                                 f"the task's scope for \"{task.intent}\": the task allows reading, "
                                 "the project's test and build commands and "
                                 f"{', '.join(task.allow_cmds) or 'no other commands'}; ask the "
                                 "user, or start the task with --allow-cmd", unit.texts[0][:80]))


def _effect(pol: Policy, rule: str, reason: str, target: str | None = None) -> Effect:
    from tether.guard.catalog import risk_of

    risk = risk_of(rule, pol.class_risks)
    return Effect(rule, risk, pol.decide(rule, risk), reason, target)


def _decision(effects: list[Effect]) -> Decision:
    verdict: Verdict = "allow"
    for e in effects:
        if RANK[e.decision] > RANK[verdict]:
            verdict = "deny" if e.decision == "deny" else "ask"
    if verdict == "allow":
        return Decision("allow", [], [], ["default"] if not effects else
                        sorted({e.rule for e in effects}) or ["default"])
    ordered = sorted((e for e in effects if e.decision != "allow"), key=lambda e: -RANK[e.decision])
    reasons: list[str] = []
    risks: list[str] = []
    rules: list[str] = []
    for e in ordered:
        if e.reason not in reasons:
            reasons.append(e.reason)
        if e.risk not in risks and e.risk not in ("mode", "scope", "tool", "none", "policy", "mcp"):
            risks.append(e.risk)
        if e.decision == verdict and e.rule not in rules:
            rules.append(e.rule)
    if not risks:
        risks = sorted({e.risk for e in ordered})
    return Decision(verdict, reasons[:6], risks, rules)
