"""Which commands only read: what investigate mode and a task scope let through without asking.

A command is read-only when it cannot change files, processes or shared
state. Most programs are not; the ones below are, either always or with the
subcommands and options listed. Paths they name are still checked (a read of
``.env`` is denied in every mode), and output redirections count as writes.
"""

from __future__ import annotations

# Programs that never change anything (beyond printing).
ALWAYS = frozenset({
    "cat", "tac", "head", "tail", "less", "more", "most", "bat", "batcat", "nl", "od", "xxd",
    "hexdump", "hd", "strings", "grep", "egrep", "fgrep", "rg", "ag", "ack", "zgrep", "wc", "uniq",
    "cut", "paste", "join", "comm", "diff", "cmp", "sdiff", "fold", "fmt", "pr", "expand",
    "unexpand", "column", "rev", "tr", "base64", "base32", "basenc", "md5sum", "sha1sum",
    "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "sum", "file", "stat",
    "ls", "dir", "vdir", "tree", "du", "df", "locate", "which", "whereis", "type", "realpath",
    "readlink", "dirname", "basename", "pwd", "echo", "printf", "true", "false", "test", "[",
    "[[", "date", "cal", "uname", "hostname", "whoami", "id", "groups", "uptime", "who", "w", "ps",
    "pgrep", "free", "vmstat", "iostat", "lscpu", "lsblk", "lsusb", "lspci", "nproc", "arch",
    "jq", "yq", "zcat", "zless", "bzcat", "xzcat", "man", "info", "help", "tldr", "sleep", "seq",
    "expr", "numfmt", "getconf", "locale", "lsof", "ss", "netstat", "journalctl", "dmesg",
    "history", "alias", "jobs", "cd", "pushd", "popd", "ulimit", "hash", "shellcheck", "tokei",
    "cloc", "exa", "eza", "lsd", "fd", "fdfind", "diffstat", "colordiff", "look", "namei",
    "lsattr", "getfacl", "printenv", "env", "top", "htop", "pstree", "sensors", "timedatectl",
    "hostnamectl", "apt-cache", "ping", "dig", "nslookup", "host", "traceroute", "tracepath",
    "whois", "view", "command", "builtin", "time", "timeout", "nice", "xargs", "set", "export",
    "declare", "typeset", "local", "readonly", "shopt", "compgen", "complete", "read", ":",
    "wait", "trap", "exit", "return", "break", "continue", "shift", "getopts", "let", "clear",
    "tput", "stty", "uuidgen", "mktemp", "nvidia-smi", "lsmod", "tether",
})

_SUBCOMMANDS = {
    "docker": {"ps", "images", "logs", "inspect", "info", "version", "stats", "top", "port",
               "history", "search", "events", "diff"},
    "podman": {"ps", "images", "logs", "inspect", "info", "version", "stats", "top", "port"},
    "kubectl": {"get", "describe", "logs", "top", "explain", "version", "api-resources",
                "api-versions", "cluster-info", "auth", "diff", "events", "wait"},
    "helm": {"list", "ls", "status", "get", "history", "show", "search", "template", "lint",
             "version", "env"},
    "terraform": {"plan", "show", "validate", "output", "graph", "providers", "version", "fmt"},
    "tofu": {"plan", "show", "validate", "output", "graph", "providers", "version", "fmt"},
    "pip": {"list", "show", "freeze", "check", "search", "index", "inspect", "debug", "--version"},
    "pip3": {"list", "show", "freeze", "check", "search", "index", "inspect", "debug", "--version"},
    "npm": {"list", "ls", "view", "info", "outdated", "search", "audit", "explain", "why",
            "--version", "-v", "config"},
    "yarn": {"list", "info", "why", "outdated", "--version"},
    "pnpm": {"list", "ls", "why", "outdated", "--version"},
    "cargo": {"tree", "metadata", "search", "--version", "version"},
    "go": {"list", "env", "version", "doc", "vet"},
    "systemctl": {"status", "show", "cat", "list-units", "list-unit-files", "list-timers",
                  "is-active", "is-enabled", "is-failed", "list-dependencies"},
    "gh": {"status", "browse"},
    "aws": {"sts"},
    "ip": {"addr", "a", "address", "link", "route", "r", "neigh", "show", "-s", "-br"},
    "apt": {"list", "show", "search", "policy"},
    "dpkg": {"-l", "--list", "-L", "--listfiles", "-s", "--status", "--get-selections", "-S"},
    "rpm": {"-q", "-qa", "-qi", "-ql", "-qf"},
    "snap": {"list", "find", "info"},
    "brew": {"list", "info", "search", "outdated", "deps", "--version"},
    "crontab": {"-l"},
    "conda": {"list", "info", "search"},
}


# git subcommands that only read.
GIT_READONLY = frozenset({
    "status", "diff", "log", "show", "blame", "annotate", "shortlog", "describe", "rev-parse",
    "rev-list", "ls-files", "ls-tree", "cat-file", "grep", "help", "version", "whatchanged",
    "range-diff", "merge-base", "name-rev", "for-each-ref", "show-ref", "show-branch",
    "count-objects", "fsck", "check-ignore", "check-attr", "check-ref-format", "cherry", "var",
    "verify-commit", "verify-tag", "diff-tree", "diff-files", "diff-index", "bugreport",
    "ls-remote", "fetch", "difftool", "get-tar-commit-id", "verify-pack", "show-index",
    "column", "credential-cache", "--version", "--help", "",
})


def is_readonly(name: str, args: list[str]) -> bool:
    """Whether the command ``name args...`` only reads."""
    if name in ALWAYS:
        return True
    first = next((a for a in args if not a.startswith("-")), "")
    if name in ("pip", "pip3", "dpkg", "rpm", "crontab", "npm", "ip") and args and args[0] in _SUBCOMMANDS.get(name, ()):
        return True
    if name in _SUBCOMMANDS:
        return first in _SUBCOMMANDS[name]
    if name == "find":
        return not any(a in ("-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0",
                             "-fls", "-fprintf") for a in args)
    if name in ("sed", "gsed"):
        return not any(a.startswith(("-i", "--in-place")) for a in args) and not any(
            " w " in f" {a} " or (a.rstrip().endswith(("w", "e")) and "/" in a) for a in args)
    if name == "sort":
        return not any(a.startswith(("-o", "--output")) for a in args)
    if name in ("awk", "gawk", "mawk", "nawk"):
        code = " ".join(args)
        return "system(" not in code and ">" not in code and "|" not in code
    if name in ("tar", "gtar", "bsdtar"):
        return bool(args) and ("t" in args[0].lstrip("-") or "--list" in args) and not any(
            a.startswith(("-x", "--extract", "-c", "--create")) for a in args)
    if name == "unzip":
        return any(a in ("-l", "-v", "-t", "-Z") for a in args)
    if name in ("curl", "wget"):
        return not any(a in ("-o", "-O", "--output", "--remote-name", "-d", "--data", "-F", "--form",
                             "-T", "--upload-file", "-X", "--request", "--post-data", "--post-file",
                             "--output-document", "-P") or a.startswith(("--data", "--output", "-o",
                                                                      "--post", "-X")) for a in args)
    if name == "mount":
        return not args
    if name == "git":
        sub = ""
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-C", "-c", "--git-dir", "--work-tree", "--namespace"):
                skip = True
                continue
            if a.startswith("-"):
                continue
            sub = a
            break
        if sub in ("branch", "tag", "remote", "stash", "config", "worktree", "notes", "reflog"):
            rest = args[args.index(sub) + 1:]
            if sub == "stash":
                return bool(rest) and rest[0] in ("list", "show")
            if sub == "config":
                return any(r in ("--get", "--list", "-l", "--get-all", "--get-regexp") or r in ("get", "list")
                           for r in rest)
            if sub == "worktree":
                return bool(rest) and rest[0] == "list"
            if sub == "reflog":
                return not rest or rest[0] in ("show", "exists")
            if sub == "remote":
                return not rest or rest[0] in ("-v", "show", "get-url", "--verbose")
            flags = [r for r in rest if r.startswith("-")]
            positionals = [r for r in rest if not r.startswith("-")]
            return not positionals or (any(f in ("-l", "--list", "-a", "-r", "--contains",
                                                "--merged", "--show-current", "-v", "-vv")
                                          for f in flags) and not any(
                f in ("-d", "-D", "-m", "-M", "-f", "--delete") for f in flags))
        return sub in GIT_READONLY
    return False
