"""The machine itself: power, processes, disks, users, services, schedules, the environment.

Shutting down, killing every process, formatting disks and fork bombs are
denied by default; changing users, services, cron jobs, firewall rules and
mounts are asked about; printing the whole environment (which holds tokens)
is asked about too. The agent changing tether's own mode, task or set-up is
self-protection.
"""

from __future__ import annotations

from tether.guard import opts
from tether.guard.base import static_stdin
from tether.guard.syntax import UNKNOWN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd


_SECRET_VAR_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE",
                     "AUTH", "COOKIE", "SESSION")


def h_env_dump(a: Analyzer, c: Cmd) -> None:
    """set, export -p, declare -p and printenv with no names print the whole environment."""
    args = [w.text for w in c.args]
    name = c.name
    if name == "printenv":
        names = [x for x in args if not x.startswith("-")]
        if not names:
            a.add("secrets.env-dump", "printenv prints every environment variable, tokens and "
                  "keys included; print only the variable you need")
        for n in names:
            if UNKNOWN in n:
                a.add("secrets.env-dump", "printenv is given variable names only known at run "
                      "time (any of them may hold a token); name the variables", n[:40])
                break
            if _secret_name(n):
                a.add("secrets.env-var", f"printing {n} would put a secret into the agent's "
                      "context and logs; use it without printing it", n)
        return
    if name == "set":
        if not args:
            a.add("secrets.env-dump", "set with no arguments prints every variable, tokens and "
                  "keys included; print only the variable you need")
        return
    opts_ = [x for x in args if x.startswith("-")]
    rest = [x for x in args if not x.startswith("-")]
    if not rest and (not opts_ or any("p" in o or "x" in o for o in opts_)):
        a.add("secrets.env-dump", f"{name} {' '.join(args)} prints the environment, tokens and "
              "keys included; print only the variable you need".replace("  ", " "))
    if any("f" in o for o in opts_):
        return


# Programs that print stored credentials, and the verbs (or options) that make them print.
# An empty tuple: any use prints one (credential helpers answer `get` on their input).
_CREDENTIAL_VERBS: dict[str, tuple[str, ...]] = {
    "secret-tool": ("lookup", "search"),
    "security": ("find-generic-password", "find-internet-password", "dump-keychain",
                 "find-certificate", "export"),
    "pass": ("show", "", "-c", "--clip"),
    "gopass": ("show", "cat", ""),
    "lpass": ("show",),
    "bw": ("get", "export", "list"),
    "op": ("read", "inject", "item", "document", "run"),
    "vault": ("read", "kv"),
    "keyctl": ("print", "read", "pipe"),
    "kwallet-query": ("-r", "--read-password"),
    "gpg": ("--export-secret-keys", "--export-secret-subkeys", "--export-ssh-key",
            "--decrypt", "-d"),
    "gpg2": ("--export-secret-keys", "--export-secret-subkeys", "--export-ssh-key",
             "--decrypt", "-d"),
}
_SHADOW_DATABASES = ("shadow", "gshadow")


def h_credentials(a: Analyzer, c: Cmd) -> None:
    """Secrets without a file name: key rings, password stores and credential helpers."""
    texts = [w.text for w in c.args]
    name = c.name
    if name == "getent":
        if any(t in _SHADOW_DATABASES for t in texts):
            a.add("secrets.print-token", "getent shadow prints password hashes; they are not the "
                  "agent's to read", "getent " + " ".join(texts[:2]))
        return
    if name.startswith(("docker-credential-", "git-credential-")):
        if not texts or texts[0] in ("get", "fill", "list"):
            a.add("secrets.print-token", f"{name} prints stored credentials; let the tool that "
                  "needs them ask the helper itself", name)
        return
    verbs = _CREDENTIAL_VERBS.get(name, ())
    if name == "pass" and (not texts or (not texts[0].startswith("-") and texts[0] not in (
            "ls", "list", "find", "search", "grep", "init", "insert", "add", "generate", "edit",
            "rm", "mv", "cp", "git", "help", "version"))):
        texts = ["show", *texts]  # `pass NAME` shows NAME
    if any(t in verbs for t in texts if t) or (not texts and "" in verbs):
        a.add("secrets.print-token", f"{name} {' '.join(texts[:2])} prints a stored secret into the "
              "agent's context and logs; use it without printing it (pipe it straight to the "
              "program that needs it), or ask the user", f"{name} {' '.join(texts[:2])}".strip())


def h_ps(a: Analyzer, c: Cmd) -> None:
    """ps shows other processes; with `e` (BSD) or -E / env columns it shows their environments."""
    texts = [w.text for w in c.args]
    shows_env = False
    for i, t in enumerate(texts):
        if t.startswith("-"):
            letters = t[1:]
            if not t.startswith("--") and "E" in letters:
                shows_env = True
            if t in ("-o", "-O", "--format", "-eo") or (t.startswith("-") and t.endswith("o")):
                fmt = texts[i + 1] if i + 1 < len(texts) else ""
                shows_env = shows_env or any(f.split("=")[0] in ("env", "environ") for f in
                                             fmt.split(","))
        elif t.startswith("-o=") or t.startswith("--format="):
            shows_env = shows_env or "env" in t.split("=", 1)[1].split(",")
        elif "e" in t and t.isalpha() and i == 0:
            # BSD syntax: `ps e`, `ps auxe`, `ps axe`.
            shows_env = True
        elif "," in t and i > 0 and texts[i - 1].endswith("o"):
            continue
    if shows_env:
        a.add("secrets.env-dump", "ps with environments prints every process's variables, tokens "
              "and keys included; leave out `e`/-E", "ps " + " ".join(texts)[:40])


def _secret_name(name: str) -> bool:
    up = name.upper()
    return any(k in up for k in _SECRET_VAR_WORDS)


def h_echo(a: Analyzer, c: Cmd) -> None:
    for w in c.args:
        raw = w.raw
        if "$" not in raw:
            continue
        i = raw.find("$")
        while i != -1:
            j = i + 1
            if j < len(raw) and raw[j] == "{":
                j += 1
            k = j
            while k < len(raw) and (raw[k].isalnum() or raw[k] == "_"):
                k += 1
            name = raw[j:k]
            if name and _secret_name(name):
                a.add("secrets.env-var", f"printing ${name} would put a secret into the agent's "
                      "context and logs; use it without printing it", name)
            i = raw.find("$", k)


def h_power(a: Analyzer, c: Cmd) -> None:
    if c.name in ("init", "telinit") and (not c.args or c.args[0].text not in ("0", "6", "1", "s", "S")):
        return
    if any(w.text in ("--help", "-h", "--version") for w in c.args) and c.name != "shutdown":
        return
    if c.name == "shutdown" and any(w.text == "-c" for w in c.args):
        return
    a.add("sys.power", f"{c.name} would shut down or restart the machine; the agent must not",
          c.name)


def h_kill(a: Analyzer, c: Cmd) -> None:
    targets = [w.text for w in c.args if not w.text.startswith("-") or w.text == "-1"]
    texts = [w.text for w in c.args]
    if "-1" in texts[1:] or (texts and texts[-1] == "-1") or ("1" in targets and c.name == "kill"):
        a.add("sys.kill-all", "kill -1 (or killing process 1) ends every process of the user "
              "or the system; kill the specific process id", "-1")
    if c.name == "killall5":
        a.add("sys.kill-all", "killall5 ends every process", c.name)


def h_pkill(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="sugGPtUFc", long_val=frozenset({"signal", "euid", "uid",
                                                                       "group", "parent", "terminal",
                                                                       "session", "pidfile"}))
    pats = [w.text for w in p.operands]
    if p.value("u", "U", "euid", "uid") is not None and not pats:
        a.add("sys.kill-all", f"{c.name} -u ends every process of a user", c.name)
    vital = {"node", "claude", "python", "python3", "bash", "sh", "zsh", "init", "systemd",
             "sshd", "ssh", "tmux", "screen", "login", "code", "cursor", ".", ".*", ""}
    for pat in pats:
        if pat in vital:
            a.add("sys.kill", f"{c.name} {pat} would end every {pat or 'matching'} process, "
                  "the agent's own included; kill the specific process id", pat)


def h_disk(a: Analyzer, c: Cmd) -> None:
    name = c.name
    args = [w.text for w in c.args]
    if name in ("fdisk", "sfdisk", "gdisk", "sgdisk", "parted", "cfdisk") and (not args or any(
            x in ("-l", "--list", "print", "-p", "--print", "-s", "--version", "--help") for x in args)):
        return
    if name == "zpool" and (not args or args[0] not in ("destroy", "labelclear")):
        return
    if name == "cryptsetup" and (not args or not any(x in ("luksFormat", "erase", "luksErase",
                                                           "reencrypt") for x in args)):
        return
    if name == "diskutil" and (not args or not args[0].lower().startswith(("erase", "zero",
                                                                            "partition",
                                                                            "secureerase",
                                                                            "reformat"))):
        return
    if name == "hdparm" and not any("security-erase" in x or "trim-sector" in x for x in args):
        return
    if name == "mdadm" and "--zero-superblock" not in args:
        return
    a.add("disk.destroy", f"{name} formats, wipes or repartitions a disk; that destroys data "
          "beyond recovery", " ".join(args)[:80])


def h_user(a: Analyzer, c: Cmd) -> None:
    if c.name == "passwd" and any(w.text in ("-S", "--status") for w in c.args):
        return
    a.add("priv.user", f"{c.name} adds or changes user accounts or passwords; that is for the "
          "machine's administrator", c.name)


def h_crontab(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="uscT")
    if p.has("l") and not p.has("r", "e"):
        return
    if p.has("r"):
        a.add("persist.cron", "crontab -r deletes every scheduled job of the user", "crontab -r")
        return
    a.add("persist.cron", "installing a crontab makes commands run on a schedule, after the "
          "session; ask the user to set it up", " ".join(w.text for w in c.args)[:80])
    text = static_stdin(c, a.home)
    if text:
        for line in text.splitlines():
            fields = line.split(None, 5)
            if len(fields) == 6 and not line.lstrip().startswith("#"):
                a.nested(fields[5], None, c.depth, "a crontab line")


def h_at(a: Analyzer, c: Cmd) -> None:
    if c.name in ("atq", "atrm") or any(w.text in ("-l", "-d", "-r") for w in c.args):
        return
    a.add("persist.scheduled", f"{c.name} schedules a command to run later, outside the session; "
          "ask the user to schedule it", c.name)
    text = static_stdin(c, a.home)
    if text:
        a.nested(text, None, c.depth, c.name)


def h_systemctl(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="tpsHMno", long_val=frozenset({"type", "property", "signal",
                                                                     "host", "machine", "lines",
                                                                     "output", "root", "state"}))
    verb = p.operands[0].text if p.operands else ""
    if c.name == "service":
        verb = p.operands[1].text if len(p.operands) > 1 else ""
        if verb in ("start", "stop", "restart", "reload", "force-reload"):
            a.add("sys.service", f"service {verb} changes a running system service; ask the user",
                  " ".join(w.text for w in p.operands))
        return
    if c.name == "launchctl":
        if verb in ("load", "bootstrap", "enable", "submit"):
            a.add("persist.service", f"launchctl {verb} installs a job that runs outside the "
                  "session", verb)
        elif verb in ("unload", "bootout", "disable", "kill", "remove", "stop"):
            a.add("sys.service", f"launchctl {verb} changes running services", verb)
        return
    if verb in ("poweroff", "reboot", "halt", "suspend", "hibernate", "kexec", "rescue",
                "emergency", "soft-reboot", "hybrid-sleep"):
        a.add("sys.power", f"systemctl {verb} stops or restarts the machine", verb)
    elif verb in ("enable", "reenable", "link", "preset", "preset-all", "set-default", "edit",
                  "add-wants", "add-requires"):
        a.add("persist.service", f"systemctl {verb} makes a service start on its own later; ask "
              "the user to enable it", " ".join(w.text for w in p.operands))
    elif verb in ("start", "stop", "restart", "reload", "try-restart", "reload-or-restart", "kill",
                  "mask", "unmask", "disable", "isolate", "daemon-reload", "daemon-reexec",
                  "reset-failed", "freeze", "thaw", "set-property", "revert", "clean"):
        a.add("sys.service", f"systemctl {verb} changes a running system service; ask the user",
              " ".join(w.text for w in p.operands))


def h_firewall(a: Analyzer, c: Cmd) -> None:
    args = [w.text for w in c.args]
    readonly = {"-L", "--list", "-S", "--list-rules", "status", "list", "-n", "-v", "--numeric",
                "list-rules", "--list-all", "--state", "show", "-nL", "-vL", "-Ln"}
    if not args or all(x in readonly or x.startswith("-t") or x in ("filter", "nat", "mangle")
                       for x in args):
        return
    a.add("sys.firewall", f"{c.name} changes the firewall; ask the user", " ".join(args)[:80])


def h_mount(a: Analyzer, c: Cmd) -> None:
    ops = [w for w in c.args if not w.text.startswith("-")]
    if not ops or (any(w.text in ("-l", "--show-labels") for w in c.args) and not ops):
        return
    a.add("priv.sudo", f"{c.name} changes what file systems are mounted; ask the user",
          " ".join(w.text for w in c.args)[:80])


def h_chattr(a: Analyzer, c: Cmd) -> None:
    a.add("priv.chmod", f"{c.name} changes file attributes or capabilities that grant privileges",
          " ".join(w.text for w in c.args)[:80])


def h_chroot(a: Analyzer, c: Cmd) -> None:
    a.add("priv.sudo", f"{c.name} runs a command in another root or namespace with privileges",
          c.name)
    rest = c.args[1:] if c.name == "chroot" else [w for w in c.args if not w.text.startswith("-")]
    if rest and c.name == "chroot":
        a.argv(c.sub(rest))


# tether's commands that only read, and the subcommands of the ones that also change things
# which only read. Everything else (init, uninstall, mode X, task start, policy accept, trust,
# approve, deny, stop, serve, gc, rewind, ...) is the user's to run, and any new command is
# too until it is listed here.
_TETHER_READS = frozenset({"log", "show", "diff", "blame", "sessions", "status", "verify",
                           "check", "explain", "review", "ops", "scan", "export", "help"})
_TETHER_READ_SUBS = {"policy": frozenset({"show", "validate"}), "mode": frozenset({""}),
                     "task": frozenset({"", "show", "status"}), "approvals": frozenset({""})}
_TETHER_DRY_RUN = frozenset({"rewind", "revert", "restore", "undo"})


def h_tether(a: Analyzer, c: Cmd) -> None:
    texts = [w.text for w in c.args]
    args = [t for t in texts if not t.startswith("-")]
    verb = args[0] if args else ""
    sub = args[1] if len(args) > 1 else ""
    if not verb or verb in _TETHER_READS or (verb in _TETHER_READ_SUBS
                                              and sub in _TETHER_READ_SUBS[verb]):
        return
    if verb in _TETHER_DRY_RUN and "--dry-run" in texts:
        return
    if any(w.dynamic for w in c.args[:2]):
        what = "a tether command known only at run time"
    else:
        what = f"`tether {' '.join(args[:2])}`"
    a.add("self.tether-cli", f"{what} changes tether's set-up, approvals or the workspace's "
          "history, which is the user's to do; ask the user to run it", f"tether {verb} {sub}".strip())


def h_agent(a: Analyzer, c: Cmd) -> None:
    texts = [w.text for w in c.args]
    unsafe = {"--dangerously-skip-permissions", "--dangerously-bypass-approvals-and-sandbox",
              "--yolo", "--allow-dangerously-skip-permissions"}
    if any(t in unsafe for t in texts) or (
            "--permission-mode" in texts and "bypassPermissions" in texts) or (
            c.name == "gemini" and "-y" in texts):
        a.add("exec.unsafe-agent", f"{c.name} would run another agent with its permission checks "
              "off; run it with its normal checks", c.name)
