"""git: which subcommands discard work, rewrite history or change shared state.

Ordinary work (status, diff, log, add, commit, branching, merging, pushing a
feature branch) passes. Discarding uncommitted work (reset --hard, checkout or
restore over files, clean -f, stash drop), deleting branches and tags, force
pushes, pushes to protected branches and history rewrites are effects with
their own rules. The current branch is read from ``.git/HEAD``; remote URLs and
aliases come from git itself (:mod:`tether.guard.gitconfig`), so that ``git push``
with no arguments on ``main`` and ``git push someremote`` are judged by where
they really go.
"""

from __future__ import annotations

import os

from tether.guard import opts
from tether.guard.readonly import GIT_READONLY
from tether.guard.syntax import UNKNOWN, Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd
    from tether.guard.gitconfig import GitConfig

_KNOWN = GIT_READONLY | frozenset({
    "add", "commit", "merge", "rebase", "cherry-pick", "revert", "pull", "init", "clone", "mv",
    "rm", "am", "apply", "format-patch", "bisect", "submodule", "worktree", "sparse-checkout",
    "lfs", "gc", "notes", "tag", "branch", "stash", "switch", "checkout", "restore", "reset",
    "remote", "config", "push", "clean", "reflog", "update-ref", "filter-branch", "filter-repo",
    "prune", "archive", "bundle", "send-email", "daemon", "instaweb", "maintenance", "repack",
    "prune-packed", "pack-refs", "replace", "mergetool", "request-pull", "hook", "symbolic-ref",
    "update-index", "read-tree", "write-tree", "commit-tree", "hash-object", "mktree",
    "checkout-index", "merge-file", "merge-tree", "fast-import", "fast-export", "citool", "gui",
    "gitk", "shell", "svn", "p4", "cvsimport", "rerere", "interpret-trailers", "stripspace",
    "mailinfo", "mailsplit", "patch-id", "unpack-objects", "pack-objects", "index-pack",
    "upload-pack", "receive-pack", "credential", "fsmonitor--daemon", "scalar", "backfill",
    "replay", "refs", "last-modified", "sparse", "annex", "flow", "crypt",
})
# Settings whose value is a program git runs (prefixes of lower-cased keys).
_EXEC_KEYS = ("core.pager", "core.editor", "core.sshcommand", "core.fsmonitor", "diff.external",
              "core.askpass", "credential.helper", "sequence.editor", "gpg.program",
              "core.gitproxy", "uploadpack.packobjectshook", "pager.", "protocol.ext.allow",
              "merge.tool", "diff.tool", "mergetool.", "difftool.", "include.path", "includeif.",
              "gpg.ssh.program", "sendemail.", "core.alternaterefscommand", "browser.", "man.",
              "interactive.difffilter", "init.templatedir", "web.browser")
_EXEC_ENDINGS = (".textconv", ".clean", ".smudge", ".process", ".command", ".cmd", ".helper",
                 ".program", ".driver", ".uploadpack", ".receivepack")
# Settings that change where git sends the repository.
_REMOTE_KEYS = (".url", ".pushurl", ".insteadof", ".pushinsteadof")
# Pager and editor settings set to one of these only show text: `git -c core.pager=cat log`.
_DISPLAY_KEYS = ("core.pager", "pager.", "core.editor", "sequence.editor", "interactive.difffilter")
_DISPLAY_PROGRAMS = frozenset({":", "cat", "less", "more", "most", "head", "tail", "true", "bat",
                               "batcat", "delta", "diff-so-fancy", "diff-highlight", "vim", "vi",
                               "nvim", "nano", "emacs", "code", "subl"})
_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0", ""})
# Variables through which git takes a program or its configuration: name -> the setting it stands for.
_ENV_SETTINGS = {"GIT_SSH": "core.sshCommand", "GIT_SSH_COMMAND": "core.sshCommand",
                 "GIT_EXTERNAL_DIFF": "diff.external", "GIT_PAGER": "core.pager",
                 "GIT_ASKPASS": "core.askPass", "GIT_EDITOR": "core.editor",
                 "GIT_SEQUENCE_EDITOR": "sequence.editor", "GIT_PROXY_COMMAND": "core.gitProxy",
                 "GIT_TEMPLATE_DIR": "init.templateDir", "GIT_CONFIG": "include.path",
                 "GIT_CONFIG_GLOBAL": "include.path", "GIT_CONFIG_SYSTEM": "include.path"}
# Options of the transport commands whose value is the program run on the other side.
_TRANSPORT_OPTS = {"fetch": ("upload-pack",), "pull": ("upload-pack",), "ls-remote": ("upload-pack",),
                   "clone": ("upload-pack",), "push": ("receive-pack", "exec"),
                   "archive": ("exec",)}


def git_dir(root: str) -> str | None:
    dotgit = os.path.join(root, ".git")
    if os.path.isdir(dotgit):
        return dotgit
    try:
        with open(dotgit, encoding="utf-8") as fh:
            line = fh.readline().strip()
    except OSError:
        return None
    if line.startswith("gitdir:"):
        path = line[7:].strip()
        return os.path.normpath(path if os.path.isabs(path) else os.path.join(root, path))
    return None


def current_branch(root: str) -> str | None:
    gd = git_dir(root)
    if gd is None:
        return None
    try:
        with open(os.path.join(gd, "HEAD"), encoding="utf-8") as fh:
            head = fh.read().strip()
    except OSError:
        return None
    if head.startswith("ref: refs/heads/"):
        return head[16:]
    return None


def branch_exists(root: str, name: str) -> bool:
    gd = git_dir(root)
    if gd is None:
        return False
    common = gd
    try:
        with open(os.path.join(gd, "commondir"), encoding="utf-8") as fh:
            common = os.path.normpath(os.path.join(gd, fh.read().strip()))
    except OSError:
        pass
    for prefix in ("refs/heads/", "refs/remotes/origin/", "refs/tags/"):
        if os.path.exists(os.path.join(common, prefix + name)):
            return True
    try:
        with open(os.path.join(common, "packed-refs"), encoding="utf-8") as fh:
            packed = fh.read()
    except OSError:
        return False
    return f" refs/heads/{name}\n" in packed or f" refs/remotes/origin/{name}\n" in packed


def h_git(a: Analyzer, c: Cmd, aliases: frozenset[str] = frozenset()) -> None:
    args = c.args
    cwd = c.cwd
    i = 0
    configs: list[tuple[str, str, str]] = _env_configs(a, c) if not aliases else []
    while i < len(args):
        t = args[i].text
        if t == "--":
            i += 1
            break
        if t == "-C" and i + 1 < len(args):
            cwd = a.resolve(args[i + 1], cwd)
            i += 2
        elif t.startswith("-C") and len(t) > 2:
            cwd = a.resolve(t[2:], cwd)
            i += 1
        elif t == "-c" and i + 1 < len(args):
            configs.append((*_split_setting(args[i + 1].text), "git -c"))
            i += 2
        elif t.startswith("-c") and len(t) > 2:
            configs.append((*_split_setting(t[2:]), "git -c"))
            i += 1
        elif t in ("--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env",
                   "--list-cmds", "--attr-source") and i + 1 < len(args):
            if t == "--config-env":
                configs.append((args[i + 1].text.split("=", 1)[0], UNKNOWN, "git --config-env"))
            i += 2
        elif t.startswith("--config-env="):
            configs.append((t[13:].split("=", 1)[0], UNKNOWN, "git --config-env"))
            i += 1
        elif t.startswith("--exec-path="):
            a.add("exec.dynamic", "git --exec-path runs git's commands from another folder",
                  t[12:])
            i += 1
        elif t.startswith("-"):
            i += 1
        else:
            break
    for key, value, via in configs:
        _check_config(a, key, value, c, via)
    from tether.guard.gitconfig import GitConfig

    overrides = GitConfig([(key, value) for key, value, _ in configs])
    sub = args[i].text.lower() if i < len(args) else ""
    rest = list(args[i + 1:])
    if sub not in GIT_READONLY:
        a.mutates()
    g = _Git(a, c, cwd, rest, overrides)
    g.transport_programs(sub)
    method = getattr(g, "sub_" + sub.replace("-", "_"), None)
    if method is not None:
        method()
    elif sub not in _KNOWN and sub not in aliases:
        g.alias(sub, list(args[:i]), aliases | {sub})


def _split_setting(text: str) -> tuple[str, str]:
    """``-c key=value``; ``-c key`` alone means true."""
    key, eq, value = text.partition("=")
    return key, value if eq else "true"


def _env_configs(a: Analyzer, c: Cmd) -> list[tuple[str, str, str]]:
    """Settings git takes from variables on its command line (GIT_PAGER=..., GIT_CONFIG_KEY_0=...)."""
    env = {name: w.text for name, w in c.simple.assigns if name.startswith("GIT_")}
    if not env:
        return []
    out: list[tuple[str, str, str]] = []
    for name, value in env.items():
        key = _ENV_SETTINGS.get(name)
        if key is not None:
            out.append((key, value, f"the variable {name}"))
        elif name == "GIT_EXEC_PATH":
            a.add("exec.dynamic", "GIT_EXEC_PATH runs git's commands from another folder", value)
    if "GIT_CONFIG_PARAMETERS" in env:
        from tether.guard.shell import split_words

        text = env["GIT_CONFIG_PARAMETERS"]
        if UNKNOWN in text:
            a.add("git.config-exec", "GIT_CONFIG_PARAMETERS sets git configuration that is only "
                  "known at run time", "GIT_CONFIG_PARAMETERS")
        for item in split_words(text.replace(UNKNOWN, "UNKNOWN_VALUE")):
            out.append((*_split_setting(item), "the variable GIT_CONFIG_PARAMETERS"))
    count = env.get("GIT_CONFIG_COUNT")
    if count is not None:
        if not count.isdigit():
            a.add("git.config-exec", "GIT_CONFIG_COUNT sets git configuration that is only known "
                  "at run time", "GIT_CONFIG_COUNT")
        for n in range(min(int(count), 64) if count.isdigit() else 0):
            key = env.get(f"GIT_CONFIG_KEY_{n}")
            if key is not None:
                out.append((key, env.get(f"GIT_CONFIG_VALUE_{n}", ""),
                            f"the variable GIT_CONFIG_KEY_{n}"))
    return out


def _check_config(a: Analyzer, key: str, value: str, c: Cmd, via: str = "git config") -> None:
    k = key.lower().strip()
    if UNKNOWN in k:
        a.add("git.config-exec", f"{via} sets a git setting whose name is only known at run time",
              key.replace(UNKNOWN, "?"))
        return
    if k == "core.hookspath":
        a.add("git.hooks-bypass", "changing core.hooksPath redirects or disables the repository's "
              "git hooks, tether's included", key)
        return
    if (k.startswith("remote.") and k.endswith(_REMOTE_KEYS)) or (
            k.startswith("url.") and k.endswith(_REMOTE_KEYS)):
        a.add("git.remote-change", f"{via} sets {key}, which changes where git sends or fetches "
              "the repository; ask the user before pointing a remote elsewhere", key)
        return
    if k.startswith("alias."):
        if value.startswith("!"):
            if via != "git config":
                # A shell alias defined and used in one command line is a way to hide a command.
                a.add("git.config-exec", f"{via} defines the shell alias {key}; run the command "
                      "directly", key)
            a.nested(value[1:], c.cwd, c.depth, f"the git alias {key}")
        return
    if k.startswith(_EXEC_KEYS) or k.endswith(_EXEC_ENDINGS) or (
            k.startswith("submodule.") and k.endswith(".update") and value.startswith("!")):
        if _displays_only(k, value):
            return
        a.add("git.config-exec", f"{via} sets {key}, which makes git run a program; set it "
              "yourself if it is wanted", key)
        if value and UNKNOWN not in value and k not in ("include.path", "protocol.ext.allow"):
            a.nested(value.lstrip("!"), c.cwd, c.depth, f"the git setting {key}")


def _displays_only(key: str, value: str) -> bool:
    """A pager or editor setting naming a program that only shows text (cat, less -R)."""
    if not key.startswith(_DISPLAY_KEYS):
        return False
    if key.startswith("pager.") and value.lower() in _BOOLEANS:
        return True
    if UNKNOWN in value or any(ch in value for ch in ";|&$`<>()\\\n"):
        return False
    from tether.guard.shell import split_words
    from tether.guard.syntax import command_name

    words = split_words(value)
    return bool(words) and "/" not in words[0] and command_name(words[0]) in _DISPLAY_PROGRAMS \
        and all(w.startswith("-") for w in words[1:])


class _Git:
    def __init__(self, a: Analyzer, c: Cmd, cwd: str | None, rest: list[Word],
                 overrides: GitConfig) -> None:
        self.a = a
        self.c = c
        self.cwd = cwd
        self.rest = rest
        self.texts = [w.text for w in rest]
        # Settings given on this command line (-c, GIT_CONFIG_*), which win over git's files.
        self.overrides = overrides

    def config(self, key: str) -> str | None:
        value = self.overrides.get(key)
        return value if value is not None else self.a.policy.git.get(key)

    def runs(self, text: str, what: str) -> None:
        """A command line git hands to a shell (rebase --exec, difftool --extcmd, bisect run).

        The command is analysed like any other; a script it names that the guard cannot read
        (missing, binary, too large) is asked about, since nothing of it can be checked.
        """
        self.a.nested(text, self.cwd, self.c.depth, what)
        if UNKNOWN in text:
            return
        from tether.guard.shell import split_words

        words = split_words(text)
        if not words or "/" not in words[0]:
            return
        script = Word(words[0], words[0])
        if self.a.script_text(script, self.cwd, from_disk=True) is None:
            self.a.add("exec.unread-script", f"{what} runs {words[0]}, a script the guard cannot "
                       "read; write the steps out or create the script first so it can be "
                       "checked", words[0])

    def transport_programs(self, sub: str) -> None:
        """--upload-pack, --receive-pack, --exec: the program run for the transport."""
        names = _TRANSPORT_OPTS.get(sub)
        if names is None:
            return
        for k, t in enumerate(self.texts):
            for name in names:
                value: str | None = None
                if t.startswith(f"--{name}="):
                    value = t[len(name) + 3:]
                elif t == f"--{name}" and k + 1 < len(self.texts):
                    value = self.texts[k + 1]
                elif sub == "clone" and t.startswith("-u") and name == "upload-pack":
                    value = t[2:] or (self.texts[k + 1] if k + 1 < len(self.texts) else None)
                if value is None:
                    continue
                self.a.add("git.config-exec", f"git {sub} --{name} names the program git runs "
                           "for the transfer; leave it to the remote's configuration", name)
                if UNKNOWN not in value:
                    self.a.nested(value, self.cwd, self.c.depth, f"git {sub} --{name}")

    def discard(self, what: str, hint: str) -> None:
        self.a.add("git.discard", f"{what} discards uncommitted work for good; {hint}", what)

    def sub_reset(self) -> None:
        if any(t in ("--hard", "--merge", "--keep") for t in self.texts):
            mode = next(t for t in self.texts if t in ("--hard", "--merge", "--keep"))
            self.discard(f"git reset {mode}", "commit or `git stash` first, or use "
                         "`git reset --soft`/`--mixed`, which keep your changes")

    def sub_checkout(self) -> None:
        p = opts.parse(self.rest, short_val="bBU", long_val=frozenset({
            "orphan", "conflict", "unified", "inter-hunk-context", "pathspec-from-file"}))
        after_dd = "--" in self.texts
        if p.has("h", "help"):
            return
        if after_dd:
            idx = self.texts.index("--")
            before = [w for w in p.operands if w not in self.rest[idx + 1:]]
            paths = self.rest[idx + 1:]
        else:
            before, paths = list(p.operands), []
        create = p.value("b", "B", "orphan") is not None
        force = p.has("f", "force")
        if p.value("pathspec-from-file") is not None or paths:
            self.discard("git checkout -- <paths>", "this overwrites those files with the "
                         "committed version; commit or `git stash` first")
            return
        if len(before) >= 2:
            self.discard("git checkout <tree> <paths>", "this overwrites those files; commit or "
                         "`git stash` first")
            return
        if len(before) == 1 and not create:
            name = before[0].text
            if name != "-" and (name == "." or self._is_path(name)):
                self.discard("git checkout <path>", "this overwrites the file with the committed "
                             "version; commit or `git stash` first")
                return
        if force:
            self.discard("git checkout --force", "switching with --force throws away local "
                         "changes; commit or `git stash` first")

    def _is_path(self, name: str) -> bool:
        if UNKNOWN in name or self.cwd is None:
            return False
        if branch_exists(self.a.root, name):
            return False
        return os.path.lexists(os.path.join(self.cwd, name)) or any(ch in name for ch in "*?")

    def sub_switch(self) -> None:
        p = opts.parse(self.rest, short_val="cC", long_val=frozenset({"create", "force-create",
                                                                     "orphan", "conflict"}))
        if p.has("f", "force", "discard-changes"):
            self.discard("git switch --discard-changes", "commit or `git stash` first")

    def sub_restore(self) -> None:
        p = opts.parse(self.rest, short_val="s", long_val=frozenset({"source", "pathspec-from-file",
                                                                     "conflict"}))
        if p.has("h", "help"):
            return
        staged = p.has("S", "staged")
        worktree = p.has("W", "worktree")
        if staged and not worktree:
            return
        if p.operands or p.value("pathspec-from-file") is not None:
            self.discard("git restore", "this overwrites the working copy of those files; use "
                         "`git restore --staged` to unstage, or `git stash` first")

    def sub_clean(self) -> None:
        p = opts.parse(self.rest, short_val="e", long_val=frozenset({"exclude"}))
        if p.has("n", "dry-run") or p.has("h", "help"):
            return
        if p.has("f", "force") or "i" in p.flags or "interactive" in p.flags:
            self.discard("git clean -f", "it deletes untracked files, which git cannot bring "
                         "back; run `git clean -n` to see the list and delete files one by one")

    def sub_stash(self) -> None:
        verb = self.texts[0] if self.texts else ""
        if verb in ("drop", "clear"):
            self.discard(f"git stash {verb}", "stashed work is deleted; apply it or leave it")

    def sub_branch(self) -> None:
        flags = opts.parse(self.rest, short_val="ut", long_val=frozenset({
            "set-upstream-to", "track", "contains", "no-contains", "merged", "no-merged",
            "points-at", "format", "sort", "color"})).flags
        force = "D" in flags or (("d" in flags or "delete" in flags) and ("f" in flags or "force" in flags))
        if force or "M" in flags or "C" in flags or ("f" in flags and "d" not in flags):
            self.a.add("git.branch.force-delete", "deleting or overwriting a branch with force "
                       "loses commits that are not merged; use `git branch -d`, which refuses "
                       "to lose work", " ".join(self.texts))

    def sub_tag(self) -> None:
        flags = opts.parse(self.rest, short_val="umF", long_val=frozenset({"message", "file",
                                                                         "local-user"})).flags
        if "d" in flags or "delete" in flags or "f" in flags or "force" in flags:
            self.a.add("git.tag.delete", "deleting or moving a tag changes what others see as a "
                       "release; ask the user", " ".join(self.texts))

    def sub_worktree(self) -> None:
        opts_part = self.texts[1:self.texts.index("--")] if "--" in self.texts else self.texts[1:]
        if self.texts[:1] == ["remove"] and any(t in ("-f", "--force", "-ff") for t in opts_part):
            self.discard("git worktree remove --force", "it deletes the worktree with its "
                         "uncommitted changes; commit there first")

    def sub_update_ref(self) -> None:
        self.a.add("git.ref-delete", "git update-ref rewrites or deletes refs directly, bypassing "
                   "git's safety checks", " ".join(self.texts))

    def sub_reflog(self) -> None:
        if self.texts[:1] and self.texts[0] in ("expire", "delete", "drop"):
            self.a.add("git.ref-delete", f"git reflog {self.texts[0]} removes the record that lets "
                       "lost commits be recovered", " ".join(self.texts))

    def sub_gc(self) -> None:
        for t in self.texts:
            if t.startswith("--prune=") and t[8:] in ("now", "all"):
                self.a.add("git.ref-delete", "git gc --prune=now deletes unreachable commits that "
                           "could otherwise be recovered", t)

    def sub_prune(self) -> None:
        if "-n" not in self.texts and "--dry-run" not in self.texts:
            self.a.add("git.ref-delete", "git prune deletes unreachable objects that could "
                       "otherwise be recovered", "git prune")

    def sub_filter_branch(self) -> None:
        self.a.add("git.history-rewrite", "filter-branch rewrites every commit; others' clones "
                   "will diverge", "git filter-branch")

    def sub_filter_repo(self) -> None:
        self.a.add("git.history-rewrite", "filter-repo rewrites every commit; others' clones "
                   "will diverge", "git filter-repo")

    def sub_rebase(self) -> None:
        if any(t in ("--abort", "--continue", "--skip", "--quit", "--show-current-patch",
                     "--edit-todo") for t in self.texts):
            return
        p = opts.parse(self.rest, short_val="xsXC", long_val=frozenset({
            "exec", "strategy", "strategy-option", "onto", "whitespace"}),
            optional_long=frozenset({"empty", "rebase-merges", "gpg-sign", "autosquash"}))
        for v in p.all_values("x", "exec"):
            self.runs(v.text, "git rebase --exec")
        branch = current_branch(self.a.root)
        ops = [w.text for w in p.operands]
        target = ops[1] if len(ops) >= 2 else branch
        if target and self.a.policy.branch_protected(target):
            self.a.add("git.history-rewrite", f"rebasing {target}, a protected branch, rewrites "
                       "history others have; rebase a feature branch instead", target)

    def sub_bisect(self) -> None:
        if self.texts[:1] == ["run"] and len(self.rest) > 1:
            self.runs(" ".join(w.raw for w in self.rest[1:]), "git bisect run")

    def sub_difftool(self) -> None:
        p = opts.parse(self.rest, short_val="xt", long_val=frozenset({"extcmd", "tool"}))
        for v in p.all_values("x", "extcmd"):
            self.runs(v.text, "git difftool --extcmd")

    def sub_grep(self) -> None:
        for t in self.texts:
            if t == "--":
                break
            value: str | None = None
            if t.startswith("--open-files-in-pager="):
                value = t[22:]
            elif t.startswith("-") and not t.startswith("--"):
                for k, ch in enumerate(t[1:], 1):
                    if ch in "efABCm":
                        break
                    if ch == "O":
                        value = t[k + 1:] or None
                        break
            if value is not None:
                _check_config(self.a, "core.pager", value, self.c, "git grep --open-files-in-pager")

    def sub_commit(self) -> None:
        if "--amend" in self.texts:
            branch = current_branch(self.a.root)
            if branch and self.a.policy.branch_protected(branch):
                self.a.add("git.history-rewrite", f"amending a commit on {branch}, a protected "
                           "branch, rewrites history; commit on a feature branch", branch)
        if "--no-verify" in self.texts or "-n" in self.texts:
            pass

    def sub_config(self) -> None:
        p = opts.parse(self.rest, short_val="f", long_val=frozenset({"file", "blob", "type",
                                                                     "default", "comment"}))
        if p.has("l", "list", "get", "get-all", "get-regexp", "get-urlmatch", "get-color",
                 "show-origin", "show-scope", "e", "edit", "unset", "unset-all", "remove-section",
                 "rename-section"):
            if p.has("e", "edit"):
                self.a.add("git.config-exec", "git config --edit can change settings that run "
                           "programs; set single keys instead", "git config --edit")
            return
        ops = [w.text for w in p.operands]
        if ops and ops[0] in ("get", "list"):
            return
        if ops and ops[0] in ("set", "unset"):
            ops = ops[1:]
        if len(ops) >= 2:
            _check_config(self.a, ops[0], ops[1], self.c)
            if p.has("global", "system"):
                self.a.add("fs.write.outside", f"git config {'--global' if p.has('global') else '--system'} "
                           "changes git settings for every repository; set it in this repository "
                           "instead", ops[0])

    def sub_push(self) -> None:
        a = self.a
        p = opts.parse(self.rest, short_val="o", long_val=frozenset({
            "repo", "receive-pack", "exec", "push-option", "signed"}),
            optional_long=frozenset({"force-with-lease", "force-if-includes", "recurse-submodules"}))
        if p.has("n", "dry-run", "h", "help"):
            return
        force = p.has("f", "force")
        lease_vals = p.all_values("force-with-lease")
        lease = "force-with-lease" in p.flags or bool(lease_vals) or any(
            f.startswith("force-with-lease") for f in p.flags)
        delete = p.has("d", "delete")
        ops = [w.text for w in p.operands]
        repo = p.value("repo")
        remote = ops[0] if ops else (repo.text if repo is not None else None)
        refspecs = ops[1:]
        self._push_to(remote)
        if p.has("mirror") or (p.has("prune") and not delete):
            a.add("git.push.mirror", "git push --mirror/--prune deletes or overwrites remote "
                  "branches that do not match local ones; push named branches", remote)
            return
        dests: list[tuple[str | None, bool, bool]] = []
        for r in refspecs:
            plus = r.startswith("+")
            r2 = r.lstrip("+")
            if ":" in r2:
                src, dst = r2.split(":", 1)
                if src == "":
                    dests.append((dst, plus, True))
                    continue
                dst = dst or src
            else:
                dst = r2
            if dst in ("HEAD", "@"):
                dst = current_branch(a.root) or ""
            dests.append((dst or None, plus, False))
        if not refspecs:
            if p.has("all", "branches"):
                for b in a.policy.protected:
                    dests.append((b, False, False))
            elif not p.has("tags"):
                dests.append((current_branch(a.root), False, False))
        for v in lease_vals:
            ref = v.text.split(":", 1)[0]
            if ref and not any(d == ref.removeprefix("refs/heads/") for d, _, _ in dests):
                dests.append((ref.removeprefix("refs/heads/"), False, False))
        for target, plus, deleting in dests:
            branch = (target or "").removeprefix("refs/heads/")
            prot = bool(branch) and a.policy.branch_protected(branch)
            label = branch or "the current branch"
            if deleting or delete:
                a.add("git.push.delete", f"git push would delete {label} on the remote; others may "
                      "depend on it", branch or None,
                      "deny" if prot and "git.push.delete" not in a.policy.rules else None)
            elif force or plus:
                if prot:
                    a.add("git.push.force-protected", f"force-pushing {label}, a protected branch, "
                          "overwrites history others have; push a feature branch and open a "
                          "pull request", branch)
                else:
                    a.add("git.push.force", f"force-pushing {label} can overwrite commits others "
                          "pushed; use --force-with-lease", branch or None)
            elif lease:
                if prot:
                    a.add("git.push.protected", f"force-pushing {label}, a protected branch, "
                          "rewrites history others have; push a feature branch instead", branch)
                else:
                    a.add("git.push.force-with-lease", f"git push --force-with-lease to {label}",
                          branch or None)
            elif prot:
                a.add("git.push.protected", f"pushing straight to {label}, a protected branch, "
                      "skips review; push a feature branch and open a pull request", branch)

    def _push_to(self, remote: str | None) -> None:
        """Where a push sends the repository.

        A remote configured before this command line is trusted as far as the network
        allowlist trusts its host; anything else (a URL, a remote added or repointed in the
        same command line, a name known only at run time) is sending data out.
        """
        from tether.guard.hosts import host_of_remote, host_of_url

        a = self.a
        if remote is None:
            branch = current_branch(a.root) or ""
            remote = (self.config(f"branch.{branch}.pushRemote") or self.config("remote.pushDefault")
                      or self.config(f"branch.{branch}.remote") or "origin")
        if UNKNOWN in remote:
            a.contact(UNKNOWN, "send", "git push to an address only known at run time")
            return
        if remote.startswith("ext::"):
            a.nested(remote[5:].replace("%S", "x").replace("%s", "x"), self.cwd, self.c.depth,
                     "a git ext:: remote")
            return
        session = a.git_remotes.get(remote)
        if session is not None:
            urls = [session]
            what = f"git push {remote} (a remote set in this command line to {session})"
        elif "://" in remote or host_of_remote(remote):
            urls = [remote]
            what = f"git push to {remote}, which is not a configured remote"
        else:
            urls = self.overrides.remote_urls(remote) or a.policy.git.remote_urls(remote)
            if not urls:
                if "/" in remote or remote.startswith("."):
                    a.path("write", Word(remote, remote), self.cwd, via="git push")
                return
            what = f"git push {remote}"
        for url in urls:
            if url.startswith("ext::"):
                a.nested(url[5:], self.cwd, self.c.depth, "a git ext:: remote")
                continue
            if url.lower().startswith("file://") or (
                    "://" not in url and not host_of_remote(url)):
                a.path("write", Word(url.removeprefix("file://"), url), self.cwd, via="git push")
                continue
            host = host_of_url(url) if "://" in url else host_of_remote(url)
            if not host:
                continue
            if session is None and what == f"git push {remote}" and a.policy.host_allowed(host):
                continue  # configured before this command line, on an allowed host
            a.contact(host, "send", what)

    def _remote_host(self, remote: str | None, what: str) -> None:
        from tether.guard.hosts import host_of_remote, host_of_url

        if not remote or UNKNOWN in remote:
            return
        if remote.startswith("ext::"):
            self.a.nested(remote[5:].replace("%S", "x").replace("%s", "x"), self.cwd, self.c.depth,
                          "a git ext:: remote")
            return
        url: str | None = remote if ("://" in remote or host_of_remote(remote)) else None
        if url is None:
            url = self.a.git_remotes.get(remote)
            if url is None:
                url = self.config(f"remote.{remote}.url")
        if not url:
            return
        if url.startswith("ext::"):
            self.a.nested(url[5:], self.cwd, self.c.depth, "a git ext:: remote")
            return
        host = host_of_url(url) if "://" in url else host_of_remote(url)
        if host:
            self.a.contact(host, "fetch", f"{what} {remote}")

    def sub_fetch(self) -> None:
        p = opts.parse(self.rest, short_val="jo", long_val=frozenset({
            "upload-pack", "depth", "deepen", "shallow-since", "shallow-exclude", "refmap",
            "jobs", "server-option", "negotiation-tip", "filter", "recurse-submodules-default"}))
        if p.operands:
            self._remote_host(p.operands[0].text, "git fetch")

    def sub_pull(self) -> None:
        p = opts.parse(self.rest, short_val="josX", long_val=frozenset({
            "upload-pack", "depth", "deepen", "shallow-since", "shallow-exclude", "jobs",
            "server-option", "negotiation-tip", "strategy", "strategy-option"}))
        if p.operands:
            self._remote_host(p.operands[0].text, "git pull")

    def sub_ls_remote(self) -> None:
        self.sub_fetch()

    def sub_clone(self) -> None:
        p = opts.parse(self.rest, short_val="obcju", long_val=frozenset({
            "origin", "branch", "config", "depth", "jobs", "upload-pack", "reference",
            "separate-git-dir", "template", "shallow-since", "shallow-exclude", "filter",
            "server-option", "bundle-uri", "ref-format"}))
        for v in p.all_values("c", "config"):
            _check_config(self.a, v.text.partition("=")[0], v.text.partition("=")[2], self.c)
        up = p.value("u", "upload-pack")
        if up is not None:
            self.a.nested(up.text, self.cwd, self.c.depth, "git clone --upload-pack")
        ops = p.operands
        if ops:
            self._remote_host(ops[0].text, "git clone")
        if len(ops) >= 2:
            self.a.path("write", ops[1], self.cwd, via="git clone")

    def sub_remote(self) -> None:
        if self.texts[:1] in (["add"], ["set-url"]):
            p = opts.parse(self.rest[1:], short_val="tm", long_val=frozenset({"track", "master",
                                                                            "mirror"}),
                           optional_long=frozenset({"mirror"}))
            ops = [w.text for w in p.operands]
            if len(ops) >= 2:
                url = ops[-1] if self.texts[0] == "add" or len(ops) == 2 else ops[1]
                self.a.git_remotes[ops[0]] = url
                self.a.add("git.remote-change", f"git remote {self.texts[0]} points {ops[0]} at "
                           f"{url.replace(UNKNOWN, '?')}, which changes where git sends the "
                           "repository; ask the user before adding or repointing a remote",
                           ops[0])

    def sub_submodule(self) -> None:
        if self.texts[:1] == ["add"]:
            ops = [t for t in self.texts[1:] if not t.startswith("-")]
            if ops:
                self._remote_host(ops[0], "git submodule add")
        if self.texts[:1] == ["foreach"]:
            body = [t for t in self.texts[1:] if t not in ("--recursive", "--quiet", "-q")]
            self.a.nested(" ".join(body), self.cwd, self.c.depth, "git submodule foreach")

    def sub_archive(self) -> None:
        p = opts.parse(self.rest, short_val="o", long_val=frozenset({"output", "remote", "prefix",
                                                                   "format", "exec"}))
        out = p.value("o", "output")
        if out is not None:
            self.a.path("write", out, self.cwd, via="git archive -o")
        remote = p.value("remote")
        if remote is not None:
            self._remote_host(remote.text, "git archive --remote")

    def sub_bundle(self) -> None:
        if len(self.rest) >= 2 and self.texts[0] == "create":
            self.a.path("write", self.rest[1], self.cwd, via="git bundle create")

    def sub_apply(self) -> None:
        p = opts.parse(self.rest, short_val="pC", long_val=frozenset({"directory", "exclude",
                                                                     "include", "build-fake-ancestor",
                                                                     "whitespace"}))
        d = p.value("directory")
        if d is not None and "unsafe-paths" in p.flags:
            self.a.path("write", d, self.cwd, via="git apply --unsafe-paths --directory")
        elif "unsafe-paths" in p.flags:
            self.a.add("fs.write.unresolved", "git apply --unsafe-paths writes wherever the patch "
                       "says, outside the repository too", "git apply")

    def sub_credential(self) -> None:
        """`git credential fill` asks the configured helpers for a password and prints it."""
        if self.texts[:1] in (["fill"], ["get"]):
            self.a.add("secrets.print-token", "git credential fill prints a stored password or "
                       "token; let git use it without printing it", "git credential fill")

    def sub_credential_store(self) -> None:
        if self.texts[:1] == ["get"]:
            self.a.add("secrets.print-token", "a git credential helper's get prints a stored "
                       "password or token", "git credential-* get")

    sub_credential_cache = sub_credential_store
    sub_credential_manager = sub_credential_store
    sub_credential_osxkeychain = sub_credential_store
    sub_credential_libsecret = sub_credential_store

    def sub_send_email(self) -> None:
        self.a.add("net.send", "git send-email mails patches to others; ask the user",
                   "git send-email")

    def sub_daemon(self) -> None:
        self.a.add("net.listen", "git daemon serves repositories to the network", "git daemon")

    def sub_instaweb(self) -> None:
        self.a.add("net.listen", "git instaweb starts a web server", "git instaweb")

    def sub_diff(self) -> None:
        # Paths outside the repository make git diff compare (and print) arbitrary files.
        for w in self.rest:
            if w.text.startswith(("/", "~")) and w.text != "/dev/null":
                self.a.path("read", w, self.cwd, via="git diff")

    def sub_rm(self) -> None:
        p = opts.parse(self.rest, long_val=frozenset({"pathspec-from-file"}))
        if "cached" in p.flags:
            return
        for w in p.operands:
            self.a.path("delete", w, self.cwd, via="git rm", recursive="r" in p.flags)

    def sub_mv(self) -> None:
        ops = [w for w in self.rest if not w.text.startswith("-")]
        if len(ops) >= 2:
            self.a.path("write", ops[-1], self.cwd, via="git mv")

    def sub_symbolic_ref(self) -> None:
        if any(t in ("-d", "--delete") for t in self.texts):
            self.a.add("git.ref-delete", "git symbolic-ref --delete removes a ref", "symbolic-ref")

    def sub_replace(self) -> None:
        if self.texts and not any(t in ("-l", "--list") for t in self.texts):
            self.a.add("git.history-rewrite", "git replace swaps objects in history for everyone "
                       "who fetches the replacement refs", "git replace")

    def alias(self, sub: str, options: list[Word], seen: frozenset[str]) -> None:
        value = self.config(f"alias.{sub}")
        if value is None:
            return
        if value.startswith("!"):
            self.a.nested(value[1:] + " " + " ".join(self.texts), self.cwd, self.c.depth,
                          f"the git alias {sub}")
            return
        from tether.guard.shell import split_words

        # The alias runs with the same -c settings and variables as the command that named it.
        argv = [Word("git", "git"), *options, *[Word(x, x) for x in split_words(value)],
                *self.rest]
        if len(seen) < 8:
            h_git(self.a, self.c.sub(argv, self.c.cwd), seen)
