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
_EXEC_KEYS = ("core.pager", "core.editor", "core.sshcommand", "core.fsmonitor", "diff.external",
              "core.askpass", "credential.helper", "sequence.editor", "gpg.program",
              "core.gitproxy", "uploadpack.packobjectshook", "pager.", "protocol.ext.allow",
              "merge.tool", "diff.tool", "mergetool.", "difftool.", "remote.origin.uploadpack",
              "include.path", "includeif.", "gpg.ssh.program", "sendemail.sendmailcmd")


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


def h_git(a: Analyzer, c: Cmd) -> None:
    args = c.args
    cwd = c.cwd
    i = 0
    configs: list[str] = []
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
            configs.append(args[i + 1].text)
            i += 2
        elif t.startswith("-c") and len(t) > 2:
            configs.append(t[2:])
            i += 1
        elif t in ("--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env",
                   "--list-cmds", "--attr-source") and i + 1 < len(args):
            if t == "--config-env":
                configs.append(args[i + 1].text.split("=", 1)[0] + "=" + UNKNOWN)
            i += 2
        elif t.startswith("--config-env="):
            configs.append(t[13:].split("=", 1)[0] + "=" + UNKNOWN)
            i += 1
        elif t.startswith("--exec-path="):
            a.add("exec.dynamic", "git --exec-path runs git's commands from another folder",
                  t[12:])
            i += 1
        elif t.startswith("-"):
            i += 1
        else:
            break
    for cfg in configs:
        _check_config(a, cfg.partition("=")[0], cfg.partition("=")[2], c)
    sub = args[i].text.lower() if i < len(args) else ""
    rest = list(args[i + 1:])
    if sub not in GIT_READONLY:
        a.mutates()
    g = _Git(a, c, cwd, rest)
    method = getattr(g, "sub_" + sub.replace("-", "_"), None)
    if method is not None:
        method()
    elif sub not in _KNOWN:
        g.alias(sub)


def _check_config(a: Analyzer, key: str, value: str, c: Cmd) -> None:
    k = key.lower().strip()
    if k == "core.hookspath":
        a.add("git.hooks-bypass", "changing core.hooksPath redirects or disables the repository's "
              "git hooks, tether's included", key)
        return
    if k.startswith("alias.") and value.startswith("!"):
        a.nested(value[1:], c.cwd, c.depth, f"the git alias {key}")
        return
    if k.startswith(_EXEC_KEYS) or k.endswith((".textconv", ".clean", ".smudge", ".process",
                                               ".command", ".cmd", ".helper")):
        a.add("git.config-exec", f"the git setting {key} makes git run a program; set it "
              "yourself if it is wanted", key)
        if value and UNKNOWN not in value and k not in ("include.path", "protocol.ext.allow"):
            a.nested(value.lstrip("!"), c.cwd, c.depth, f"the git setting {key}")


class _Git:
    def __init__(self, a: Analyzer, c: Cmd, cwd: str | None, rest: list[Word]) -> None:
        self.a = a
        self.c = c
        self.cwd = cwd
        self.rest = rest
        self.texts = [w.text for w in rest]

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
        branch = current_branch(self.a.root)
        ops = [t for t in self.texts if not t.startswith("-")]
        target = ops[1] if len(ops) >= 2 else branch
        if target and self.a.policy.branch_protected(target):
            self.a.add("git.history-rewrite", f"rebasing {target}, a protected branch, rewrites "
                       "history others have; rebase a feature branch instead", target)

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
        self._remote_host(remote, "git push")
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
                url = self.a.policy.git.get(f"remote.{remote}.url")
        if not url:
            return
        if url.startswith("ext::"):
            self.a.nested(url[5:], self.cwd, self.c.depth, "a git ext:: remote")
            return
        host = host_of_url(url) if "://" in url else host_of_remote(url)
        if host:
            self.a.contact(host, "send" if "push" in what else "fetch", f"{what} {remote}")

    def sub_fetch(self) -> None:
        ops = [t for t in self.texts if not t.startswith("-")]
        if ops:
            self._remote_host(ops[0], "git fetch")

    def sub_pull(self) -> None:
        ops = [t for t in self.texts if not t.startswith("-")]
        if ops:
            self._remote_host(ops[0], "git pull")

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
        if len(self.texts) >= 3 and self.texts[0] in ("add", "set-url"):
            ops = [t for t in self.texts[1:] if not t.startswith("-")]
            if len(ops) >= 2:
                self.a.git_remotes[ops[0]] = ops[1]
        elif self.texts[:1] in (["remove"], ["rm"]):
            pass

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

    def alias(self, sub: str) -> None:
        value = self.a.policy.git.get(f"alias.{sub}")
        if value is None:
            return
        if value.startswith("!"):
            self.a.nested(value[1:] + " " + " ".join(self.texts), self.cwd, self.c.depth,
                          f"the git alias {sub}")
            return
        from tether.guard.shell import split_words

        argv = [Word("git", "git"), *[Word(x, x) for x in split_words(value)], *self.rest]
        if self.c.depth < 4:
            h_git(self.a, self.c.sub(argv, self.cwd))
