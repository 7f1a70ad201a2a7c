"""Shared state beyond the machine: databases, cloud accounts, clusters, infrastructure, containers.

These commands are judged by their verb: reading (list, describe, get, plan)
passes; changing, deploying and deleting are effects with their own rules,
because they touch resources other people depend on and tether cannot undo
them. SQL passed on the command line or on standard input is scanned for
statements that drop, truncate or empty tables.
"""

from __future__ import annotations

from tether.guard.syntax import UNKNOWN, Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd

_READ_PREFIXES = ("describe", "list", "get", "lookup", "search", "query", "scan", "head", "batch-get",
                  "check", "validate", "estimate", "preview", "simulate", "test", "filter",
                  "tail", "show", "view", "wait", "help", "version", "whoami", "ls", "status",
                  "inspect", "logs", "info", "read", "print", "config", "explain", "diff", "top")
_DELETE_PREFIXES = ("delete", "terminate", "remove", "deregister", "purge", "destroy", "drop",
                    "rm", "rb", "uninstall", "erase", "wipe", "prune")
_VALUE_OPTS = frozenset({
    "--profile", "--region", "--output", "--query", "--endpoint-url", "--project", "--zone",
    "--format", "-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-o",
    "-l", "--selector", "-c", "--container", "--as", "--resource-group", "-g", "--subscription",
    "--configuration", "--account", "--app", "-a", "--org", "--team", "--scope", "--token",
    "--repo", "-R", "--config", "--cwd", "--stack", "-s", "--chdir", "--var", "--var-file",
    "--target", "-f", "--filename", "--values", "--set", "--version", "--kube-context",
})


def _positionals(args: list[Word]) -> list[str]:
    out: list[str] = []
    skip = False
    for w in args:
        t = w.text
        if skip:
            skip = False
            continue
        if t.startswith("-"):
            if t in _VALUE_OPTS:
                skip = True
            continue
        out.append(t)
    return out


def _cloud_verb(a: Analyzer, c: Cmd, words: list[str], what: str) -> None:
    for w in words:
        lw = w.lower()
        if lw.startswith(_DELETE_PREFIXES):
            a.add("cloud.delete", f"{what} deletes cloud resources others may depend on; "
                  "deleting them is the user's decision", " ".join(words)[:80])
            return
    verb = words[-1].lower() if words else ""
    if not words or verb.startswith(_READ_PREFIXES) or any(
            w.lower().startswith(_READ_PREFIXES) and i == len(words) - 1 for i, w in enumerate(words)):
        return
    a.add("cloud.change", f"{what} changes cloud resources (or costs money); ask the user",
          " ".join(words)[:80])


def h_aws(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    for w in c.args:
        if w.text.startswith(("file://", "fileb://")):
            a.path("read", Word(w.text.split("://", 1)[1], w.raw), c.cwd, via="aws")
    if len(pos) < 2:
        if pos and pos[0] == "configure":
            a.path("write", Word("~/.aws/credentials", "~/.aws/credentials", tilde=True), c.cwd,
                   via="aws configure")
        return
    service, op = pos[0], pos[1]
    if service == "configure":
        if op in ("get", "list", "list-profiles", "export-credentials"):
            key = pos[2].rsplit(".", 1)[-1].lower() if op == "get" and len(pos) > 2 else ""
            # `aws configure get region` reads a setting; the keys below are credentials.
            if op == "export-credentials" or key in (
                    "", "aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
                a.add("secrets.print-token", f"aws configure {op} prints credentials; use them "
                      "without printing them", op)
            return
        a.path("write", Word("~/.aws/credentials", "~/.aws/credentials", tilde=True), c.cwd,
               via="aws configure")
        return
    if service == "sts" or op.startswith(_READ_PREFIXES):
        return
    if service == "s3":
        if op in ("rm", "rb"):
            a.add("cloud.delete", f"aws s3 {op} deletes objects or buckets; they do not come back",
                  " ".join(pos[:3]))
        elif op == "sync" and any(w.text == "--delete" for w in c.args):
            a.add("cloud.delete", "aws s3 sync --delete removes objects missing locally",
                  " ".join(pos[:3]))
        elif op in ("cp", "mv", "sync") and any(p.startswith("s3://") for p in pos[2:][-1:]):
            a.add("cloud.change", f"aws s3 {op} uploads to a bucket; ask the user",
                  " ".join(pos[:4]))
            if op == "mv":
                a.add("cloud.delete", "aws s3 mv deletes the source objects", " ".join(pos[:3]))
        elif op == "mb":
            a.add("cloud.change", "aws s3 mb creates a bucket", " ".join(pos[:3]))
        return
    if service == "ecr" and op == "get-login-password":
        a.add("secrets.print-token", "this prints a registry password; pipe it straight into "
              "docker login instead of printing it", op)
        return
    _cloud_verb(a, c, [op], f"aws {service} {op}")


def h_gcloud(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    if "print-access-token" in pos or "print-identity-token" in pos:
        a.add("secrets.print-token", "gcloud prints an access token; use it without printing it",
              "print-access-token")
        return
    if not pos or pos[0] in ("config", "info", "version", "help", "components", "topic"):
        if pos[:2] == ["config", "set"]:
            return
        return
    if c.name == "gsutil":
        verb = pos[0]
        if verb in ("rm", "rb"):
            a.add("cloud.delete", f"gsutil {verb} deletes objects or buckets", " ".join(pos[:3]))
        elif verb in ("cp", "mv", "rsync") and pos[-1].startswith("gs://"):
            a.add("cloud.change", f"gsutil {verb} uploads to a bucket", " ".join(pos[:3]))
        return
    _cloud_verb(a, c, pos, f"{c.name} {' '.join(pos[:3])}")


def h_az(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    if not pos or pos[0] in ("login", "logout", "version", "help", "find", "config"):
        return
    if pos[:2] == ["account", "get-access-token"]:
        a.add("secrets.print-token", "az prints an access token; use it without printing it",
              "get-access-token")
        return
    _cloud_verb(a, c, pos, f"az {' '.join(pos[:3])}")


def h_paas(a: Analyzer, c: Cmd) -> None:
    """Deploy tools (vercel, netlify, fly, heroku, firebase, wrangler, ...)."""
    pos = [p.lower() for p in _positionals(c.args)]
    texts = [w.text for w in c.args]
    if c.name == "vercel" and (not pos or pos[0] in ("deploy", "--prod")) and not any(
            t in ("--help", "-h", "ls", "list", "whoami") for t in texts):
        a.add("cloud.change", "vercel deploys the project; deploying is the user's decision",
              "vercel")
        return
    for p in pos[:3]:
        if p.startswith(_DELETE_PREFIXES) or p in ("destroy", "apps:destroy", "apps:delete"):
            a.add("cloud.delete", f"{c.name} {p} deletes a deployed resource", f"{c.name} {p}")
            return
        if p in ("deploy", "publish", "release", "promote", "up", "scale", "rollback", "launch",
                 "apps:create", "ps:scale", "config:set", "secrets", "env:add", "env:rm"):
            a.add("cloud.change", f"{c.name} {p} changes a deployed service; ask the user",
                  f"{c.name} {p}")
            return


def h_kubectl(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    texts = [w.text for w in c.args]
    if not pos:
        return
    verb = pos[0]
    if verb == "proxy" or verb == "port-forward":
        for t in texts:
            if "0.0.0.0" in t:

                a.contact("0.0.0.0", "listen", f"{c.name} {verb}")
        return
    if verb == "config" and "view" in pos and ("--raw" in texts or "--flatten" in texts):
        a.add("secrets.print-token", "kubectl config view --raw prints cluster credentials",
              "config view --raw")
        return
    if verb in ("delete", "drain"):
        a.add("cluster.delete", f"{c.name} {verb} removes cluster resources others may depend "
              "on; ask the user", " ".join(pos[:3]))
    elif verb in ("apply", "create", "replace", "patch", "edit", "scale", "set", "label",
                  "annotate", "rollout", "expose", "run", "autoscale", "cordon", "uncordon",
                  "taint", "cp", "exec", "attach", "debug", "certificate", "kustomize-apply"):
        if verb == "rollout" and len(pos) > 1 and pos[1] in ("status", "history"):
            return
        if "--dry-run" in texts or any(t.startswith("--dry-run=") for t in texts):
            return
        a.add("cluster.change", f"{c.name} {verb} changes the cluster; ask the user",
              " ".join(pos[:3]))


def h_helm(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    if not pos:
        return
    verb = pos[0]
    if verb in ("uninstall", "delete", "del", "un"):
        a.add("cluster.delete", f"helm {verb} removes a release from the cluster", " ".join(pos[:2]))
    elif verb in ("install", "upgrade", "rollback"):
        if "--dry-run" not in [w.text for w in c.args]:
            a.add("cluster.change", f"helm {verb} changes the cluster; ask the user",
                  " ".join(pos[:2]))
    elif verb == "push":
        a.add("pkg.publish", "helm push publishes a chart", "helm push")


def h_terraform(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    texts = [w.text for w in c.args]
    if pos[:1] == ["run-all"]:
        pos = pos[1:]
    if not pos:
        return
    verb = pos[0]
    if verb == "destroy" or (verb == "apply" and "-destroy" in texts):
        a.add("infra.destroy", f"{c.name} destroy deletes real infrastructure; ask the user",
              f"{c.name} {verb}")
    elif verb in ("apply", "import", "taint", "untaint", "force-unlock", "refresh"):
        a.add("infra.apply", f"{c.name} {verb} changes real infrastructure; run `{c.name} plan` "
              "and let the user apply", f"{c.name} {verb}")
    elif verb == "state" and len(pos) > 1 and pos[1] in ("rm", "mv", "push", "replace-provider"):
        a.add("infra.apply", f"{c.name} state {pos[1]} edits the infrastructure state",
              f"{c.name} state {pos[1]}")
    elif verb == "workspace" and len(pos) > 1 and pos[1] == "delete":
        a.add("infra.destroy", f"{c.name} workspace delete removes a workspace's state",
              "workspace delete")


def h_pulumi(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    if not pos:
        return
    verb = pos[0]
    if verb == "destroy" or pos[:2] == ["stack", "rm"]:
        a.add("infra.destroy", f"{c.name} {verb} deletes real infrastructure", f"{c.name} {verb}")
    elif verb in ("up", "update", "refresh", "import", "cancel", "deploy"):
        a.add("infra.apply", f"{c.name} {verb} changes real infrastructure; ask the user",
              f"{c.name} {verb}")
    elif verb in ("remove",) and c.name in ("serverless", "sls"):
        a.add("infra.destroy", f"{c.name} remove deletes a deployed stack", f"{c.name} remove")


def h_ansible(a: Analyzer, c: Cmd) -> None:
    texts = [w.text for w in c.args]
    if any(t in ("--check", "-C", "--syntax-check", "--list-hosts", "--list-tasks", "--list-tags",
                 "--version", "-h", "--help") for t in texts):
        return
    a.add("infra.apply", f"{c.name} runs changes on other machines; ask the user", c.name)
    a.generic(c)


def h_docker(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    texts = [w.text for w in c.args]
    if not pos:
        return
    verb = pos[0]
    if verb in ("container", "image", "volume", "network", "system", "builder", "buildx") and len(pos) > 1:
        obj, verb = verb, pos[1]
    else:
        obj = ""
    if c.name in ("docker-compose",) or verb == "compose":
        sub = pos[1] if verb == "compose" and len(pos) > 1 else verb
        if sub == "run":
            _container_inputs(a, c, c.args[c.args.index(next(w for w in c.args if w.text == "run")) + 1:])
        if sub == "down" and any(t in ("-v", "--volumes", "--rmi") for t in texts):
            a.add("container.delete", "compose down --volumes deletes the project's volumes and "
                  "their data", "compose down -v")
        elif sub == "rm":
            a.add("container.delete", "compose rm deletes containers", "compose rm")
        return
    if verb == "push":
        a.add("pkg.publish", f"{c.name} push publishes an image to a registry", " ".join(pos[:2]))
    elif verb in ("rm", "rmi", "prune", "kill") and verb != "kill":
        if obj in ("volume", "system") or verb in ("prune",) or (verb == "rm" and obj == "volume"):
            a.add("container.delete", f"{c.name} {obj + ' ' if obj else ''}{verb} deletes "
                  "containers, images or volumes, possibly of other projects; remove this "
                  "project's ones by name", " ".join(pos[:3]))
        elif verb in ("rm", "rmi") and any(t in ("-f", "--force") for t in texts) and obj == "volume":
            a.add("container.delete", f"{c.name} volume rm deletes data", " ".join(pos[:3]))
    elif verb in ("run", "create"):
        _container_inputs(a, c, c.args[next(k for k, w in enumerate(c.args) if w.text == verb) + 1:])
        joined = " ".join(texts)
        host_mount = any(t.startswith(("/:", "/etc:", "/root:", "/var/run/docker.sock"))
                         or t.startswith(("--volume=/:", "-v/:")) for t in texts)
        if ("--privileged" in texts or host_mount or "--pid=host" in joined or "--pid host" in joined
                or "SYS_ADMIN" in joined or "--cap-add=ALL" in joined):
            a.add("container.privileged", f"{c.name} {verb} starts a container with power over "
                  "the host (privileged, host root or the docker socket mounted)", " ".join(texts)[:80])
    elif verb == "login":
        a.path("write", Word("~/.docker/config.json", "~/.docker/config.json", tilde=True), c.cwd,
               via=f"{c.name} login")
    elif verb == "cp":
        ops = [w for w in c.args if not w.text.startswith("-") and w.text != "cp"]
        for k, w in enumerate(ops):
            if ":" in w.text:
                continue
            if k == len(ops) - 1:
                a.path("write", w, c.cwd, via=f"{c.name} cp")
            else:
                a.path("read", w, c.cwd, via=f"{c.name} cp")


# Options of docker/podman run and compose run that take a value (to find where the image is).
_RUN_SHORT_VAL = frozenset("vewpuhlmca")
_RUN_LONG_VAL = frozenset({
    "volume", "mount", "env", "env-file", "workdir", "publish", "user", "hostname", "label",
    "memory", "name", "network", "net", "entrypoint", "platform", "cpus", "add-host", "cap-add",
    "cap-drop", "device", "dns", "expose", "gpus", "ipc", "label-file", "log-driver", "log-opt",
    "pid", "pull", "restart", "runtime", "security-opt", "shm-size", "stop-signal",
    "stop-timeout", "tmpfs", "ulimit", "userns", "uts", "volumes-from", "health-cmd", "cidfile",
    "attach", "group-add", "link", "memory-swap", "network-alias", "cgroupns", "cpu-shares",
    "cpuset-cpus", "domainname", "mac-address", "ip", "ip6", "init-path", "isolation",
    "storage-opt", "sysctl", "annotation", "volume-driver", "detach-keys"})
# Variable names that mark a secret passed from the host into a container.
_SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE",
                 "SESSION", "COOKIE", "AUTH")


def _container_inputs(a: Analyzer, c: Cmd, args: list[Word]) -> None:
    """What of the host a container gets: mounted folders and the host's secret variables."""
    mounts: list[tuple[Word, bool]] = []
    envs: list[str] = []
    k = 0
    while k < len(args):
        w = args[k]
        t = w.text
        if not t.startswith("-") or t == "--":
            break  # the image: what follows is the container's own command
        name, eq, val = t.lstrip("-").partition("=")
        long_opt = t.startswith("--")
        if not long_opt and len(t) > 2 and t[1] in _RUN_SHORT_VAL:
            name, eq, val = t[1], "=", t[2:].lstrip("=")
        takes = name in _RUN_LONG_VAL if long_opt else (len(name) == 1 and name in _RUN_SHORT_VAL)
        value: Word | None = None
        if eq:
            value = Word(val, w.raw, w.quoted, False, w.tilde and t.startswith("-v"))
        elif takes and k + 1 < len(args):
            value = args[k + 1]
            k += 1
        k += 1
        if value is None:
            continue
        if name in ("v", "volume"):
            host, sep, rest = value.text.partition(":")
            if sep:
                mounts.append((Word(host, value.raw, value.quoted, False, value.tilde),
                               rest.endswith((":ro", ":readonly"))))
        elif name == "mount":
            fields = dict(f.partition("=")[::2] for f in value.text.split(","))
            source = fields.get("source") or fields.get("src")
            if source and fields.get("type", "volume") == "bind":
                mounts.append((Word(source, value.raw), "readonly" in fields or "ro" in fields))
        elif name == "env-file":
            a.path("mention", value, c.cwd, via=f"{c.name} --env-file")
        elif name in ("e", "env"):
            var, has_value, v = value.text.partition("=")
            if not has_value or UNKNOWN in v:
                envs.append(var)
    for mount, readonly in mounts:
        _judge_mount(a, c, mount, readonly)
    for var in envs:
        upper = var.upper()
        if any(part in upper for part in _SECRET_WORDS) or upper == "SSH_AUTH_SOCK":
            a.add("container.secret-env", f"{c.name} passes the host's {var} into the container, "
                  "where the image's code can read it; give the container a placeholder value",
                  var)


def _judge_mount(a: Analyzer, c: Cmd, src: Word, readonly: bool) -> None:
    text = src.text
    if not text or "/var/run/docker.sock" in text or text == "/":
        return  # the docker socket and the host root are container.privileged
    if text.startswith(UNKNOWN) and src.raw.lstrip('"').startswith(("$(pwd)", "`pwd`")) \
            and c.cwd is not None:
        text = c.cwd + text[1:]  # -v "$(pwd)":/app is the current folder
        src = Word(text, src.raw)
    if UNKNOWN in text:
        a.add("container.mount-home", f"{c.name} mounts {src.raw.split(':')[0]}, a host path only "
              "known at run time, into the container; mount a folder of the workspace instead",
              text.replace(UNKNOWN, "?"))
        return
    if not text.startswith(("/", "~", ".")):
        return  # a named volume
    path = a.resolve(Word(text, src.raw, src.quoted, False, True) if text.startswith("~")
                     else src, c.cwd)
    if path is None:
        return
    a.path("mention", Word(path, path), c.cwd, via=f"{c.name} -v")
    places = a.places(path, True)
    if all(pl.inside or pl.temp for pl in places):
        return
    if readonly and all(pl.system for pl in places):
        return
    a.add("container.mount-home", f"{c.name} mounts {path}, outside the workspace, into the "
          "container, whose code can then read (and change) what is there, keys and tokens "
          "included; mount the workspace or a folder of it instead", path)


def _gh_sends(a: Analyzer, c: Cmd, group: str, verb: str) -> None:
    """What gh sends: gists publish files; bodies and inputs are read from files; -R posts to
    a repository that may not be the project's."""
    from tether.guard import opts

    p = opts.parse(c.args, short_val="RFbtdlaomrpsfjqwiBH", long_val=frozenset({
        "repo", "body-file", "body", "title", "desc", "description", "filename", "input",
        "field", "raw-field", "method", "header", "jq", "template", "label", "assignee",
        "milestone", "project", "reviewer", "base", "head", "web", "notes-file", "notes"}))
    for v in p.all_values("body-file", "input", "notes-file", *(("F",) if group != "api" else ())):
        if v.text != "-":
            a.path("read", v, c.cwd, via=f"gh {group} {verb}")
    for v in p.all_values("F", "field") if group == "api" else []:
        if "=@" in v.text:
            a.path("read", Word(v.text.split("=@", 1)[1], v.raw), c.cwd, via="gh api")
    if group == "gist" and verb in ("create", "new", "edit"):
        for w in p.operands[2:]:
            if w.text != "-":
                a.path("read", w, c.cwd, via=f"gh gist {verb}")
        a.add("net.send", f"gh gist {verb} publishes files on GitHub outside the project's "
              "repository; ask the user", f"gh gist {verb}")
        return
    repo = p.value("R", "repo")
    if repo is None or group not in ("issue", "pr", "release", "discussion") or verb not in (
            "create", "comment", "edit", "upload", "new"):
        return
    target = repo.text.lower().removesuffix(".git").split("github.com/")[-1].strip("/")
    own = set()
    for url in a.policy.git.remotes().values():
        tail = url.lower().removesuffix(".git").replace(":", "/").rstrip("/")
        own.add("/".join(tail.split("/")[-2:]))
    if target not in own:
        a.add("net.send", f"gh {group} {verb} -R {repo.text} posts to a repository that is not one "
              "of this project's remotes; ask the user", repo.text)


def h_gh(a: Analyzer, c: Cmd) -> None:
    pos = _positionals(c.args)
    texts = [w.text for w in c.args]
    if len(pos) < 2:
        return
    group, verb = pos[0], pos[1]
    _gh_sends(a, c, group, verb)
    if (group == "auth" and verb == "token") or (
            group == "auth" and verb == "status" and any(t in ("-t", "--show-token") for t in texts)):
        a.add("secrets.print-token", "gh prints your GitHub token; use it without printing it",
              f"gh auth {verb}")
    elif group == "repo" and verb in ("delete", "archive"):
        a.add("cloud.delete", f"gh repo {verb} removes a repository for everyone", f"gh repo {verb}")
    elif group == "repo" and verb in ("create", "edit", "rename", "fork"):
        a.add("cloud.change", f"gh repo {verb} changes repositories on GitHub", f"gh repo {verb}")
    elif group == "release" and verb in ("create", "upload", "delete", "edit", "delete-asset"):
        a.add("pkg.publish", f"gh release {verb} changes a published release", f"gh release {verb}")
    elif group == "pr" and verb == "merge":
        a.add("git.push.protected", "gh pr merge merges into the base branch; merging is the "
              "user's decision", "gh pr merge")
    elif group in ("secret", "variable") and verb in ("set", "delete", "remove"):
        a.add("cloud.change", f"gh {group} {verb} changes repository settings", f"gh {group} {verb}")
    elif group == "workflow" and verb in ("run", "enable", "disable"):
        a.add("cloud.change", f"gh workflow {verb} triggers or changes CI", f"gh workflow {verb}")
    elif group == "api":
        method = ""
        for k, t in enumerate(texts):
            if t in ("-X", "--method") and k + 1 < len(texts):
                method = texts[k + 1].upper()
            elif t.startswith("--method="):
                method = t.split("=", 1)[1].upper()
        if method == "DELETE":
            a.add("cloud.delete", "gh api -X DELETE deletes something on GitHub", "gh api")
        elif method in ("POST", "PUT", "PATCH"):
            a.add("cloud.change", f"gh api -X {method} changes something on GitHub", "gh api")


# ---------------------------------------------------------------------------
# Databases

_sql_res: dict[str, Any] = {}


def _sql_patterns() -> dict[str, Any]:
    if not _sql_res:
        import re

        flags = re.IGNORECASE | re.DOTALL
        _sql_res["drop"] = re.compile(r"\bdrop\s+(?:database|schema|table|view|index|user|role|"
                                      r"collection|keyspace|materialized\s+view|owned)\b", flags)
        _sql_res["truncate"] = re.compile(r"\btruncate\b(?:\s+table)?\s+[\w\"`\[]", flags)
        _sql_res["alter_drop"] = re.compile(r"\balter\s+table\s+\S+\s+drop\b", flags)
        _sql_res["mongo"] = re.compile(r"dropDatabase\s*\(|\.drop\s*\(|deleteMany\s*\(\s*\{\s*\}"
                                       r"|deleteMany\s*\(\s*\)|\.remove\s*\(\s*\{\s*\}", flags)
        _sql_res["redis"] = re.compile(r"\bflush(?:all|db)\b", flags)
    return _sql_res


def sql_destroys(text: str) -> str | None:
    """The first statement in SQL (or mongo/redis commands) that drops or empties data."""
    pats = _sql_patterns()
    for key in ("drop", "truncate", "alter_drop", "mongo", "redis"):
        m = pats[key].search(text)
        if m:
            return str(m.group(0))
    for stmt in text.split(";"):
        s = " ".join(stmt.lower().split())
        if (s.startswith("delete from") or (s.startswith("delete ") and " from " in s[:40])) and " where " not in f" {s} ":
            return stmt.strip()[:60]
        if s.startswith("update ") and " set " in s and " where " not in f" {s} ":
            return stmt.strip()[:60]
    return None


_DB_SQL_OPTS = {
    "psql": ("-c", "--command"), "mysql": ("-e", "--execute"), "mariadb": ("-e", "--execute"),
    "sqlite3": ("-cmd",), "duckdb": ("-c", "-cmd"), "clickhouse-client": ("-q", "--query"),
    "clickhouse": ("-q", "--query"), "cockroach": ("-e", "--execute"), "mongosh": ("--eval",),
    "mongo": ("--eval",), "cqlsh": ("-e", "--execute"), "snowsql": ("-q", "--query"),
    "bq": (), "sqlcmd": ("-Q", "-q"), "usql": ("-c", "--command"), "pgcli": (), "mycli": ("-e",),
}


def h_db(a: Analyzer, c: Cmd) -> None:
    from tether.guard.base import static_stdin

    name = c.name
    texts: list[str] = []
    args = c.args
    keys = _DB_SQL_OPTS.get(name, ())
    for i, w in enumerate(args):
        t = w.text
        if t in keys and i + 1 < len(args):
            texts.append(args[i + 1].text)
        for k in keys:
            if k.startswith("--") and t.startswith(k + "="):
                texts.append(t.split("=", 1)[1])
            elif not k.startswith("--") and t.startswith(k) and len(t) > len(k) and len(k) == 2:
                texts.append(t[len(k):])
    if name in ("sqlite3", "duckdb"):
        operands = [w for w in args if not w.text.startswith("-")]
        ops = [w.text for w in operands]
        texts.extend(ops[1:])
        if operands:
            # The database file is read (a browser's cookie or login store is a secret).
            a.path("read", operands[0], c.cwd, via=name)
    if name == "redis-cli":
        texts.append(" ".join(w.text for w in args))
    if name == "bq" and args and args[0].text == "rm":
        a.add("db.destroy", "bq rm deletes a dataset or table", "bq rm")
    stdin = static_stdin(c, a.home)
    if stdin:
        texts.append(stdin)
    for t in texts:
        hit = sql_destroys(t)
        if hit:
            a.add("db.destroy", f"{name} would run `{hit.strip()[:50]}`, which drops or empties "
                  "data; back it up and ask the user", hit.strip()[:60])
            break
        if name in ("sqlite3", "duckdb"):
            for line in t.splitlines():
                s = line.strip()
                if s.startswith((".shell", ".system")):
                    a.nested(s.split(None, 1)[1] if " " in s else "", c.cwd, c.depth, f"{name} {s[:7]}")
                elif s.startswith((".output", ".once", ".save", ".backup")) and " " in s:
                    a.path("write", Word(s.split(None, 1)[1].strip("'\""), s), c.cwd, via=name)
                elif s.startswith((".import", ".read", ".open", ".restore")) and " " in s:
                    a.path("read", Word(s.split(None, 2)[1].strip("'\""), s), c.cwd, via=name)
        if name in ("mysql", "mariadb", "psql") and ("\\!" in t or t.lstrip().startswith("system ")):
            a.nested(t.split("\\!", 1)[-1], c.cwd, c.depth, f"{name} shell escape")
    for w in args:
        if w.text.startswith("--init-command") or w.text == "-f" or w.text.startswith("--file"):
            pass


def h_dropdb(a: Analyzer, c: Cmd) -> None:
    if c.name == "mysqladmin" and not any(w.text in ("drop", "flush-hosts", "shutdown")
                                          for w in c.args):
        return
    a.add("db.destroy", f"{c.name} deletes a database; back it up and ask the user",
          " ".join(w.text for w in c.argv)[:60])


def h_framework_db(a: Analyzer, c: Cmd) -> None:
    texts = [w.text for w in c.args]
    joined = " ".join(texts)
    destructive = ("db:drop", "db:reset", "db:purge", "db:schema:load", "db:migrate:reset",
                   "db:wipe", "migrate:fresh", "migrate:reset", "db:seed:replant", "db:truncate_all")
    if any(t in destructive for t in texts) or (c.name == "prisma" and (
            "migrate reset" in joined or "--force-reset" in joined or "--accept-data-loss" in joined)) or (
            c.name == "supabase" and "db reset" in joined) or (
            c.name == "sequelize" and "db:drop" in joined) or (
            c.name == "alembic" and texts[:2] == ["downgrade", "base"]) or (
            c.name == "knex" and "rollback" in joined and "--all" in texts):
        a.add("db.destroy", f"{c.name} {joined[:40]} deletes the database's data; ask the user",
              f"{c.name} {joined[:40]}")
    a.generic(c)
