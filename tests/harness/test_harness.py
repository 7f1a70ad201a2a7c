"""The real Claude Code CLI (pinned 2.1.328) against the scripted model, fully offline.

Besides checking the harness, these tests pin the hook behaviour tether relies on (see
harness/FACTS.md): when the pinned version moves, they are what tells us what changed.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_support import Workspace

from harness.claude import ClaudeRun, find_transcript, read_transcript
from harness.scripted_model import Script, ScriptedModel, ToolCall, tool_result_text

pytestmark = pytest.mark.e2e


def write(ws: Workspace, name: str, content: str = "x\n") -> ToolCall:
    return ToolCall("Write", {"file_path": str(ws.repo / name), "content": content})


def bash(command: str) -> ToolCall:
    return ToolCall("Bash", {"command": command, "description": f"run {command}"})


def pretool_output(decision: str, reason: str) -> str:
    return json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            }
        }
    )


def results_by_id(model: ScriptedModel) -> dict[str, dict[str, Any]]:
    """tool_use_id -> tool_result block, from the last main request (it holds the history)."""
    return {block["tool_use_id"]: block for block in model.tool_results()}


def ids_by_file(run: ClaudeRun) -> dict[str, str]:
    """File name -> tool_use_id of the Write calls the CLI made."""
    return {
        Path(use["input"]["file_path"]).name: use["id"]
        for use in run.tool_uses()
        if use["name"] == "Write"
    }


def transcript_results(run: ClaudeRun) -> dict[str, dict[str, Any]]:
    """tool_use_id -> the transcript entry (a user message) carrying its tool_result."""
    found: dict[str, dict[str, Any]] = {}
    for entry in read_transcript(run.transcript_path()):
        content = entry.get("message", {}).get("content")
        if entry.get("type") == "user" and isinstance(content, list):
            for block in content:
                if block.get("type") == "tool_result":
                    found[block["tool_use_id"]] = entry
    return found


def transcript_attachments(run: ClaudeRun, kind: str) -> list[dict[str, Any]]:
    return [
        entry["attachment"]
        for entry in read_transcript(run.transcript_path())
        if entry.get("type") == "attachment" and entry["attachment"].get("type") == kind
    ]


def test_scripted_write_bash_edit(workspace: Workspace, git_cmd: Callable[..., str]) -> None:
    hello = workspace.repo / "hello.py"
    script: Script = {
        "create hello": [
            write(workspace, "hello.py", "print('hi')\n"),
            bash("echo more >> notes.txt"),
            ToolCall("Edit", {"file_path": str(hello), "old_string": "hi", "new_string": "hello"}),
            "Created hello.py.",
        ]
    }
    with ScriptedModel(script) as model:
        run = workspace.run(model, "please create hello for me").check()

    assert hello.read_text() == "print('hello')\n"
    assert (workspace.repo / "notes.txt").read_text() == "more\n"
    assert sorted(git_cmd(workspace.repo, "status", "--porcelain").splitlines()) == [
        "?? hello.py",
        "?? notes.txt",
    ]
    assert run.session_id
    assert run.result == "Created hello.py."
    assert [use["name"] for use in run.tool_uses()] == ["Write", "Bash", "Edit"]
    # One main request per scripted turn; all streamed, as the real CLI always asks.
    main = model.main_requests
    assert len(main) == 4
    assert all(request.body["stream"] is True for request in main)
    results = main[-1].tool_results()
    assert [r["tool_use_id"] for r in results] == [use["id"] for use in run.tool_uses()]
    assert not any(r.get("is_error") for r in results)


def test_resume_continues_the_session(workspace: Workspace) -> None:
    workspace.record_hooks(["SessionStart"])
    hello = workspace.repo / "hello.py"
    script = {
        "create hello": [write(workspace, "hello.py", "print('hi')\n")],
        "edit hello": [
            ToolCall("Edit", {"file_path": str(hello), "old_string": "hi", "new_string": "hello"})
        ],
    }
    with ScriptedModel(script) as model:
        first = workspace.run(model, "create hello").check()
        model.clear()
        second = workspace.run(model, "edit hello", resume=first.session_id).check()

    assert first.session_id
    assert second.session_id == first.session_id
    assert hello.read_text() == "print('hello')\n"
    # The resumed session's first request carries the first prompt's turns.
    history = model.main_requests[0].messages
    assert any(m["role"] == "assistant" for m in history)
    prompts = [
        entry["message"]["content"]
        for entry in read_transcript(second.transcript_path())
        if entry.get("type") == "user" and isinstance(entry["message"].get("content"), str)
    ]
    assert prompts == ["create hello", "edit hello"]
    assert [p["source"] for p in workspace.payloads("SessionStart")] == ["startup", "resume"]


def test_hook_payloads(workspace: Workspace) -> None:
    workspace.record_hooks()
    script: Script = {
        "make notes": [
            # Two tool calls in one assistant turn, then a failing command.
            [write(workspace, "notes.txt", "n\n"), bash("echo ok")],
            bash("exit 3"),
        ]
    }
    with ScriptedModel(script) as model:
        run = workspace.run(model, "make notes").check()

    payloads = workspace.payloads()
    assert [p["hook_event_name"] for p in payloads] == [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PreToolUse",
        "PostToolUse",
        "PreToolUse",
        "PostToolUseFailure",
        "Stop",
        "SessionEnd",
    ]
    transcript = str(find_transcript(workspace.home, run.session_id or ""))
    for payload in payloads:
        assert payload["session_id"] == run.session_id
        assert payload["transcript_path"] == transcript
        assert payload["cwd"] == str(workspace.repo)
    # prompt_id ties every later event to the prompt; SessionStart precedes any prompt.
    start, prompt, *rest = payloads
    assert "prompt_id" not in start and start["source"] == "startup"
    assert prompt["prompt"] == "make notes" and prompt["permission_mode"] == "default"
    assert {p["prompt_id"] for p in rest} == {prompt["prompt_id"]}

    uses = run.tool_uses()
    pre = workspace.payloads("PreToolUse")
    assert [p["tool_use_id"] for p in pre] == [u["id"] for u in uses]
    assert [p["tool_name"] for p in pre] == ["Write", "Bash", "Bash"]
    assert pre[0]["tool_input"] == uses[0]["input"]

    post_write, post_bash = workspace.payloads("PostToolUse")
    assert post_write["tool_response"]["type"] == "create"
    assert post_write["tool_response"]["filePath"] == str(workspace.repo / "notes.txt")
    assert post_bash["tool_response"]["stdout"].strip() == "ok"
    assert post_bash["tool_response"]["interrupted"] is False
    assert isinstance(post_bash["duration_ms"], int)

    (failure,) = workspace.payloads("PostToolUseFailure")
    assert failure["tool_use_id"] == uses[2]["id"]
    assert failure["error"] == "Exit code 3"
    assert failure["is_interrupt"] is False

    (stop,) = workspace.payloads("Stop")
    assert stop["last_assistant_message"] == "Done." and stop["stop_hook_active"] is False
    (end,) = workspace.payloads("SessionEnd")
    assert end["reason"] == "other"


def test_pretooluse_json_deny_reaches_model_and_transcript(workspace: Workspace) -> None:
    reason = "tether: secrets.env is protected (rule protect-secrets)"
    hook = workspace.script(
        "deny.sh", f"cat >/dev/null\nprintf '%s\\n' {shlex.quote(pretool_output('deny', reason))}\n"
    )
    workspace.add_hook("PreToolUse", str(hook), matcher="Write")
    workspace.record_hooks(["PreToolUse", "PostToolUse", "PostToolUseFailure"])
    with ScriptedModel({"store the key": [write(workspace, "secrets.env", "KEY=1\n")]}) as model:
        run = workspace.run(model, "store the key").check()

    assert not (workspace.repo / "secrets.env").exists()
    (use,) = run.tool_uses()
    # The model sees the reason, prefixed, as the tool's error, in the very next request.
    main = model.main_requests
    assert len(main) == 2
    (result,) = main[1].tool_results()
    assert result["tool_use_id"] == use["id"]
    assert result["is_error"] is True
    assert tool_result_text(result) == f"PreToolUse:Write hook error: {reason}"
    # The run reports it as a permission denial; no PostToolUse* event follows a denied call.
    assert [d["tool_use_id"] for d in run.permission_denials] == [use["id"]]
    assert [p["hook_event_name"] for p in workspace.payloads()] == ["PreToolUse"]
    # The transcript keeps the same text, and says the hook rejected it.
    entry = transcript_results(run)[use["id"]]
    assert entry["message"]["content"][0]["content"] == f"PreToolUse:Write hook error: {reason}"
    assert entry["toolUseResult"] == f"Error: PreToolUse:Write hook error: {reason}"
    assert entry["permissionDecision"] == {
        "decision": "reject",
        "source": "hook",
        "reasonType": "hook",
        "reasonCode": "hook:PreToolUse",
    }


def test_pretooluse_exit_codes_and_failures(workspace: Workspace) -> None:
    """What each way a PreToolUse hook can answer (or fail to) does to a Write call."""
    hook = workspace.script(
        "pre.sh",
        f"""payload=$(cat)
case "$payload" in
  *'/exit2.txt"'*) echo "REASON-EXIT2" >&2; exit 2 ;;
  *'/exit2-json.txt"'*) echo {shlex.quote(pretool_output("deny", "REASON-JSON2"))}
      echo "STDERR-IGNORED" >&2; exit 2 ;;
  *'/exit1.txt"'*) echo "REASON-EXIT1" >&2; exit 1 ;;
  *'/exit1-json.txt"'*) echo {shlex.quote(pretool_output("deny", "REASON-JSON1"))}; exit 1 ;;
  *'/garbage.txt"'*) echo '{{not json' ;;
  *'/ask.txt"'*) echo {shlex.quote(pretool_output("ask", "REASON-ASK"))} ;;
esac
exit 0
""",
    )
    # A separate hook with a short timeout, which hangs only for hang.txt.
    hang = workspace.script(
        "hang.sh", 'payload=$(cat)\ncase "$payload" in *\'/hang.txt"\'*) exec sleep 60 ;; esac\n'
    )
    workspace.add_hook("PreToolUse", str(hook), matcher="Write")
    workspace.add_hook("PreToolUse", str(hang), matcher="Write", timeout=2)
    workspace.record_hooks(["PermissionRequest"])
    names = [
        "exit2.txt",
        "exit2-json.txt",
        "exit1.txt",
        "exit1-json.txt",
        "garbage.txt",
        "ask.txt",
        "hang.txt",
    ]
    with ScriptedModel({"write them": [write(workspace, n) for n in names]}) as model:
        run = workspace.run(model, "write them").check()

    written = {n for n in names if (workspace.repo / n).exists()}
    ids = ids_by_file(run)
    results = {n: results_by_id(model)[ids[n]] for n in names}
    texts = {n: tool_result_text(r) for n, r in results.items()}
    assert written == {"exit1.txt", "garbage.txt", "hang.txt"}
    denied = {d["tool_use_id"] for d in run.permission_denials}
    assert denied == {ids[n] for n in names} - {ids[n] for n in written}
    for name in names:
        assert bool(results[name].get("is_error")) is (name not in written), name
    # Exit 2 blocks, with stderr (prefixed with the command) as the reason...
    assert texts["exit2.txt"] == f"PreToolUse:Write hook error: [{hook}]: REASON-EXIT2\n"
    # ...but JSON on stdout is honoured whatever the exit status, and then wins over stderr.
    assert texts["exit2-json.txt"] == "PreToolUse:Write hook error: REASON-JSON2"
    assert texts["exit1-json.txt"] == "PreToolUse:Write hook error: REASON-JSON1"
    # Without a JSON decision, other failures fail OPEN: exit 1, invalid JSON on stdout, and a
    # hook killed by its timeout all let the call run.
    errors = transcript_attachments(run, "hook_non_blocking_error")
    assert [(e["toolUseID"], e["stderr"]) for e in errors] == [
        (ids["exit1.txt"], "Failed with non-blocking status code: REASON-EXIT1")
    ]
    (cancelled,) = transcript_attachments(run, "hook_cancelled")
    assert cancelled["toolUseID"] == ids["hang.txt"] and cancelled["timedOut"] is True
    # "ask" in -p mode is a denial whose reason, unprefixed, is the tool_result; no
    # PermissionRequest hook is consulted.
    assert texts["ask.txt"] == "REASON-ASK"
    assert workspace.payloads("PermissionRequest") == []


def test_permission_checks_outside_allowed_tools(workspace: Workspace) -> None:
    """Write is NOT in --allowedTools here: what a hook's "allow" and PermissionRequest do."""
    pre = workspace.script(
        "pre.sh",
        f"""case "$(cat)" in
  *'/pre-allow.txt"'*) echo {shlex.quote(pretool_output("allow", "REASON-ALLOW"))} ;;
esac
""",
    )
    allow = {"hookEventName": "PermissionRequest", "decision": {"behavior": "allow"}}
    deny = {
        "hookEventName": "PermissionRequest",
        "decision": {"behavior": "deny", "message": "REASON-PERMDENY"},
    }
    # perm.sh logs its own payload before answering: a separate recorder hook on
    # PermissionRequest would race with it (see test_permission_request_first_decision_wins).
    perm = workspace.script(
        "perm.sh",
        f"""payload=$(cat)
printf '%s\\n' "$payload" >> {shlex.quote(str(workspace.hooks_log))}
case "$payload" in
  *'/perm-allow.txt"'*) echo {shlex.quote(json.dumps({"hookSpecificOutput": allow}))} ;;
  *'/perm-deny.txt"'*) echo {shlex.quote(json.dumps({"hookSpecificOutput": deny}))} ;;
esac
""",
    )
    workspace.add_hook("PreToolUse", str(pre), matcher="Write")
    workspace.add_hook("PermissionRequest", str(perm), matcher="Write")
    names = ["unasked.txt", "pre-allow.txt", "perm-allow.txt", "perm-deny.txt"]
    with ScriptedModel({"write them": [write(workspace, n) for n in names]}) as model:
        run = workspace.run(model, "write them", allowed_tools=("Bash", "Read")).check()

    written = {n for n in names if (workspace.repo / n).exists()}
    ids = ids_by_file(run)
    results = {n: results_by_id(model)[ids[n]] for n in names}
    # PreToolUse "allow" skips the permission check altogether (no PermissionRequest either).
    assert written == {"pre-allow.txt", "perm-allow.txt"}
    asked = [
        Path(p["tool_input"]["file_path"]).name for p in workspace.payloads("PermissionRequest")
    ]
    assert asked == ["unasked.txt", "perm-allow.txt", "perm-deny.txt"]
    # The PermissionRequest payload has no tool_use_id.
    assert all("tool_use_id" not in p for p in workspace.payloads("PermissionRequest"))
    assert tool_result_text(results["unasked.txt"]) == (
        f"Claude requested permissions to write to {workspace.repo / 'unasked.txt'}, "
        "but you haven't granted it yet."
    )
    assert tool_result_text(results["perm-deny.txt"]) == "REASON-PERMDENY"
    assert results["perm-deny.txt"]["is_error"] is True


def test_permission_request_first_decision_wins(workspace: Workspace) -> None:
    """Hooks of one PermissionRequest run in parallel; the first decision ends the others."""
    allow = {"hookEventName": "PermissionRequest", "decision": {"behavior": "allow"}}
    decide = workspace.script(
        "decide.sh",
        f"cat >/dev/null\nprintf '%s\\n' {shlex.quote(json.dumps({'hookSpecificOutput': allow}))}\n",
    )
    log = workspace.repo.parent / "slow.log"
    # If the CLI waited for this hook, "end" would be logged (and the run would take 20 s).
    slow = workspace.script(
        "slow.sh", f"cat >/dev/null\necho start >> {log}\nsleep 20\necho end >> {log}\n"
    )
    workspace.add_hook("PermissionRequest", str(decide), matcher="Write")
    workspace.add_hook("PermissionRequest", str(slow), matcher="Write", timeout=60)
    with ScriptedModel({"go": [write(workspace, "a.txt")]}) as model:
        workspace.run(model, "go", allowed_tools=("Bash", "Read")).check()

    assert (workspace.repo / "a.txt").exists()
    assert "end" not in (log.read_text() if log.exists() else "")


@pytest.mark.parametrize("with_deny", [False, True], ids=["continue-false", "continue-false+deny"])
def test_pretooluse_continue_false(workspace: Workspace, with_deny: bool) -> None:
    output: dict[str, Any] = {"continue": False, "stopReason": "REASON-STOP"}
    if with_deny:
        output.update(json.loads(pretool_output("deny", "REASON-DENY")))
    hook = workspace.script(
        "stop.sh", f"cat >/dev/null\nprintf '%s\\n' {shlex.quote(json.dumps(output))}\n"
    )
    workspace.add_hook("PreToolUse", str(hook), matcher="Write")
    workspace.record_hooks(["PostToolUse", "Stop", "SessionEnd"])
    script = {"go on": [write(workspace, "first.txt"), bash("touch second.txt")]}
    with ScriptedModel(script) as model:
        run = workspace.run(model, "go on").check()

    # continue:false alone does NOT block the call it answers: it runs, then the agent stops
    # before asking the model again. Only a deny blocks the call.
    assert (workspace.repo / "first.txt").exists() is not with_deny
    assert not (workspace.repo / "second.txt").exists()
    assert len(model.main_requests) == 1
    assert run.result == ""
    assert run.result_event is not None
    assert run.result_event["terminal_reason"] == "hook_stopped"
    # No Stop hook runs after a hook-requested stop.
    events = [p["hook_event_name"] for p in workspace.payloads()]
    assert events == (["SessionEnd"] if with_deny else ["PostToolUse", "SessionEnd"])
    (stopped,) = transcript_attachments(run, "hook_stopped_continuation")
    assert stopped["message"] == "REASON-STOP"



# Run as a PostToolUse hook: the first time, rewrites the settings file named by its first
# argument, replacing the hook that logs PreToolUse payloads by one that denies with
# REASON-NEW and removing the Stop hook; then waits, as a person's edit would have time to land.
SWAP = """\
import json, os, sys, time
path, marker = sys.argv[1], sys.argv[2]
sys.stdin.read()
if not os.path.exists(marker):
    open(marker, "w").close()
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    deny = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": "REASON-NEW"}}
    data["hooks"]["PreToolUse"] = [{"matcher": "*", "hooks": [
        {"type": "command", "command": "printf '%s' " + repr(json.dumps(deny))}]}]
    del data["hooks"]["Stop"]
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(path + ".tmp", path)
    time.sleep(3)
"""


@pytest.mark.parametrize("settings_name", ["settings.json", "settings.local.json"])
def test_hooks_are_reloaded_mid_session(workspace: Workspace, settings_name: str) -> None:
    """No snapshot at start-up: an edit of the settings changes the hooks of the running session."""
    workspace.record_hooks(["PreToolUse", "Stop", "SessionEnd"])
    swap = workspace.repo / ".claude" / "hooks" / "swap.py"
    swap.write_text(SWAP, encoding="utf-8")
    marker = workspace.repo.parent / "swapped"
    target = workspace.repo / ".claude" / settings_name
    workspace.add_hook("PostToolUse", f"python3 {swap} {target} {marker}")
    if settings_name != "settings.json":
        shared = workspace.repo / ".claude" / "settings.json"
        target.write_text(shared.read_text())
        shared.unlink()
    script: Script = {"go": [write(workspace, "a.txt"), write(workspace, "b.txt"), write(workspace, "c.txt")]}
    with ScriptedModel(script) as model:
        workspace.run(model, "go").check()

    assert marker.exists()
    # The removed hooks stopped firing (even Stop); the added one answered the next calls.
    seen = [Path(p["tool_input"]["file_path"]).name for p in workspace.payloads("PreToolUse")]
    assert seen == ["a.txt"]
    assert sorted(p.name for p in workspace.repo.glob("*.txt")) == ["a.txt"]
    assert [tool_result_text(b) for b in model.tool_results()][1:] == [
        "PreToolUse:Write hook error: REASON-NEW"] * 2
    assert workspace.payloads("Stop") == []
    assert len(workspace.payloads("SessionEnd")) == 1
