"""The catalogue of rule ids: each built-in effect's id, its risk class and what it means.

The decision for a rule comes from the policy ([rules], else [risks]); this table
only names the rules, so that a policy that mentions an unknown id is an error
rather than a silent no-op, and so that docs/policy.md can list them. Rules for
path classes are named ``path.<class>.<read|write|delete>`` and take their risk
from the class.
"""

from __future__ import annotations

RULES: dict[str, tuple[str, str]] = {
    "fs.delete.catastrophic": ("destructive", "recursive deletion of /, the home folder, a top-level system folder or the workspace root"),
    "fs.delete.system": ("system", "deletion under a system folder (/etc, /usr, ...)"),
    "fs.write.system": ("system", "writing under a system folder (/etc, /usr, /boot, ...)"),
    "fs.delete.outside": ("outside-workspace", "deletion outside the workspace and the temporary folders"),
    "fs.write.outside": ("outside-workspace", "writing outside the workspace and the temporary folders"),
    "fs.delete.workspace": ("destructive", "deletion inside the workspace"),
    "fs.delete.workspace-all": ("destructive", "deletion of everything in the workspace root at once"),
    "fs.delete.temp-root": ("destructive", "deletion of a whole temporary folder"),
    "fs.delete.unresolved": ("destructive", "deletion of a path the guard cannot resolve"),
    "fs.write.unresolved": ("outside-workspace", "writing to a path the guard cannot resolve"),
    "disk.destroy": ("system", "formatting or overwriting a disk device"),
    "sys.fork-bomb": ("system", "a fork bomb"),
    "sys.kill-all": ("system", "killing every process"),
    "sys.power": ("system", "shutting down or rebooting the machine"),
    "sys.service": ("system", "stopping, starting or masking system services"),
    "sys.firewall": ("system", "changing firewall rules"),
    "secrets.mention": ("secrets", "a program given a secret file as an argument"),
    "secrets.env-dump": ("secrets", "printing the whole environment, which holds tokens and keys"),
    "secrets.env-var": ("secrets", "printing a variable whose name marks it as a secret"),
    "secrets.print-token": ("secrets", "printing a cloud or registry access token"),
    "net.fetch": ("network", "contact with a host not on the network allowlist"),
    "net.send": ("network", "uploading data to a host not on the network allowlist"),
    "net.raw": ("network", "a raw network connection (nc, telnet, socat, /dev/tcp)"),
    "net.remote-shell": ("network", "ssh, scp, rsync or sftp to a remote host"),
    "net.listen": ("network", "a server listening on the network"),
    "net.tunnel": ("network", "a tunnel exposing this machine"),
    "net.reverse-shell": ("network", "a shell connected to a network socket"),
    "net.remote-exec": ("network", "code downloaded from the network and run"),
    "exec.decoded": ("unparsed", "a decoded or obfuscated payload run by a shell or interpreter"),
    "exec.dynamic": ("unparsed", "a command whose name or text is only known at run time"),
    "exec.shell-escape": ("unparsed", "a program handed a shell to run"),
    "exec.pipe-shell": ("unparsed", "a shell or interpreter reading a program from a pipe"),
    "exec.interpreter": ("destructive", "a destructive call inside an interpreter one-liner"),
    "exec.unsafe-agent": ("privilege", "another agent started with its permission checks off"),
    "git.discard": ("destructive", "git discarding uncommitted work"),
    "git.push.protected": ("shared-state", "git push to a protected branch"),
    "git.push.force": ("shared-state", "git force push"),
    "git.push.force-protected": ("shared-state", "git force push to a protected branch"),
    "git.push.force-with-lease": ("shared-state", "git push --force-with-lease to an unprotected branch"),
    "git.push.delete": ("shared-state", "deleting a remote branch or tag"),
    "git.push.mirror": ("shared-state", "git push --mirror or --prune"),
    "git.branch.force-delete": ("destructive", "git branch -D"),
    "git.tag.delete": ("shared-state", "deleting a git tag"),
    "git.history-rewrite": ("shared-state", "rewriting git history"),
    "git.ref-delete": ("destructive", "deleting git refs, reflogs or unreachable objects"),
    "git.config-exec": ("persistence", "git configuration that runs programs"),
    "git.hooks-bypass": ("self-protection", "redirecting or disabling git hooks"),
    "db.destroy": ("destructive", "dropping, truncating or emptying a database"),
    "cloud.delete": ("shared-state", "deleting cloud resources"),
    "cloud.change": ("shared-state", "changing cloud resources"),
    "cluster.delete": ("shared-state", "deleting cluster resources"),
    "cluster.change": ("shared-state", "changing cluster resources"),
    "infra.apply": ("shared-state", "applying infrastructure changes"),
    "infra.destroy": ("shared-state", "destroying infrastructure"),
    "pkg.publish": ("publish", "publishing a package, image or release"),
    "pkg.global-install": ("outside-workspace", "installing packages for the whole system or user"),
    "container.delete": ("destructive", "deleting containers, images or volumes"),
    "container.privileged": ("privilege", "a privileged container or one that mounts the host"),
    "priv.sudo": ("privilege", "running a command as another user"),
    "priv.chmod": ("privilege", "world-writable or setuid permissions"),
    "priv.chown": ("privilege", "changing file ownership"),
    "priv.user": ("privilege", "adding or changing user accounts"),
    "persist.cron": ("persistence", "installing or removing a crontab"),
    "persist.service": ("persistence", "enabling a service at boot"),
    "persist.scheduled": ("persistence", "scheduling a command to run later"),
    "sandbox.escape": ("privilege", "a Bash call that asks to run outside the agent's OS sandbox"),
    "sandbox.required": ("self-protection", "a Bash call while the agent's OS sandbox, which the policy requires, is not on"),
    "self.tether-cli": ("self-protection", "changing tether's mode, task, set-up or history"),
    "sys.kill": ("system", "killing processes by name"),
    "unparsed.syntax": ("unparsed", "a command the parser could not read completely"),
    "mode.investigate": ("mode", "investigate mode allows reading only"),
    "task.scope": ("scope", "an edit or command outside the active task's scope"),
    "tool.unknown": ("unparsed", "a tool the guard does not know"),
    "tool.mcp-write": ("mcp", "an MCP tool whose name does not read as read-only"),
    # git, sending and outside code
    "git.remote-change": ("shared-state", "adding or repointing a git remote (remote add/set-url, remote.X.url, url.X.insteadOf)"),
    "exec.unread-script": ("unparsed", "a script run by another program (git bisect run, rebase --exec) that the guard cannot read"),
    "exec.outside-package": ("network", "a package runner (npx, uvx, pipx run, dlx, go run pkg@v) fetching a package that is not a declared dependency"),
    "pkg.install-url": ("network", "installing a package from a URL, a VCS repository or a GitHub shorthand"),
    "container.mount-home": ("outside-workspace", "a container given the home folder, a secret or another folder outside the workspace"),
    "container.secret-env": ("secrets", "a container given a secret from the host's environment or an env file"),
    # MCP tool arguments
    "db.change": ("shared-state", "SQL that writes to a database without destroying data (INSERT, UPDATE or DELETE with WHERE, CREATE, ALTER, GRANT, COPY, ...)"),
}


def risk_of(rule: str, class_risks: dict[str, str]) -> str:
    """The risk class of a rule id (path-class rules take their class's risk)."""
    entry = RULES.get(rule)
    if entry is not None:
        return entry[0]
    if rule.startswith("path."):
        name = rule[5:].rsplit(".", 1)[0]
        return class_risks.get(name, "sensitive")
    if rule.startswith("command."):
        return "policy"
    return "unparsed"
