"""Hosts a command contacts, checked against the policy's network allowlist.

Contact with a host on the allowlist (or the machine itself) is fine. Any
other host is a ``net.*`` effect whose kind says what happens: fetching,
sending data, a raw socket, a remote shell, listening for others. The
analysers for curl, wget, nc, socat, ssh, scp, rsync and the package managers
live here too.
"""

from __future__ import annotations

from tether.guard import opts
from tether.guard.hosts import host_of_remote, host_of_url
from tether.guard.syntax import UNKNOWN, Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd


# ---------------------------------------------------------------------------
# Handlers

_CURL_VAL = frozenset({
    "data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json", "form",
    "form-string", "upload-file", "output", "output-dir", "config", "url", "request", "header",
    "user", "user-agent", "referer", "cookie", "cookie-jar", "cacert", "capath", "cert", "key",
    "proxy", "proxy-user", "max-time", "connect-timeout", "retry", "retry-delay", "retry-max-time",
    "limit-rate", "range", "resolve", "connect-to", "interface", "dns-servers", "write-out",
    "trace", "trace-ascii", "stderr", "dump-header", "netrc-file", "unix-socket", "max-filesize",
    "oauth2-bearer", "aws-sigv4", "variable", "expand-url", "etag-save", "etag-compare",
    "local-port", "socks5", "socks5-hostname", "preproxy", "pinnedpubkey", "ciphers", "mail-from",
    "mail-rcpt", "quote", "telnet-option", "tlsuser", "tlspassword", "hostpubmd5", "pubkey",
    "speed-limit", "speed-time", "time-cond", "url-query", "ech", "happy-eyeballs-timeout-ms",
})


def h_curl(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="dFToKXHuAerbcExyYzmwDCQUt",
                   long_val=_CURL_VAL)
    urls = [*p.operands, *p.all_values("url")]
    method_word = p.value("X", "request")
    method = method_word.text.upper() if method_word is not None else ""
    data = p.all_values("d", "data", "data-ascii", "data-binary", "data-raw", "data-urlencode",
                        "json", "F", "form", "form-string")
    upload = p.all_values("T", "upload-file")
    sends = bool(data or upload) or method in ("POST", "PUT", "PATCH", "DELETE")
    for v in data:
        t = v.text
        at = t.find("@")
        if t.startswith("@") or (at > 0 and ("=" in t[:at] or t[:at].endswith(("<", "=")))):
            a.path("read", Word(t[at + 1:].split(";")[0], v.raw), c.cwd, via="curl (upload)")
        if t.startswith("<") or "=<" in t:
            a.path("read", Word(t.split("<", 1)[1].split(";")[0], v.raw), c.cwd, via="curl (upload)")
    for v in upload:
        if v.text != "-" and v.text != ".":
            a.path("read", v, c.cwd, via="curl -T")
    for v in [*p.all_values("o", "output"), *p.all_values("D", "dump-header", "c", "cookie-jar",
                                                          "trace", "trace-ascii", "stderr")]:
        if v.text != "-":
            a.path("write", v, c.cwd, via="curl -o")
    out_dir = p.value("output-dir")
    if out_dir is not None:
        a.path("write", out_dir, c.cwd, via="curl --output-dir")
    for v in p.all_values("K", "config", "netrc-file"):
        a.path("read", v, c.cwd, via="curl")
    if not urls:
        return
    if p.has("O", "remote-name", "remote-name-all"):
        a.path("write", Word(".", "."), c.cwd, via="curl -O")
    for u in urls:
        t = u.text
        if t.lower().startswith("file://"):
            a.path("read", Word("/" + t[7:].lstrip("/"), u.raw), c.cwd, via="curl file://")
            continue
        scheme = t.split("://", 1)[0].lower() if "://" in t else "http"
        host = host_of_url(t) if "://" in t else t.split("/", 1)[0].split(":", 1)[0]
        kind = "send" if sends else "fetch"
        if scheme in ("gopher", "dict", "telnet", "ldap", "smb", "smtp", "smtps", "tftp", "ftp",
                      "mqtt"):
            kind = "raw" if scheme in ("gopher", "dict", "telnet") else "send" if upload else kind
        a.contact(host or (UNKNOWN if u.dynamic else ""), kind, f"curl {t.replace(UNKNOWN, '?')}")


def h_wget(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="OoaPiBeUTtwQlDAR", long_val=frozenset({
        "output-document", "output-file", "append-output", "directory-prefix", "input-file",
        "post-data", "post-file", "body-file", "body-data", "method", "header", "user",
        "password", "user-agent", "tries", "timeout", "wait", "level", "domains", "accept",
        "reject", "execute", "load-cookies", "save-cookies", "base", "config", "referer",
        "ca-certificate", "certificate", "private-key", "use-askpass"}))
    for v in p.all_values("O", "output-document"):
        if v.text != "-":
            a.path("write", v, c.cwd, via="wget -O")
    for v in p.all_values("o", "a", "output-file", "append-output", "save-cookies"):
        a.path("write", v, c.cwd, via="wget")
    for v in p.all_values("P", "directory-prefix"):
        a.path("write", v, c.cwd, via="wget -P")
    for v in p.all_values("i", "input-file", "post-file", "body-file", "load-cookies", "config"):
        a.path("read", v, c.cwd, via="wget")
    askpass = p.value("use-askpass")
    if askpass is not None:
        a.nested(askpass.text, c.cwd, c.depth, "wget --use-askpass")
    method = p.value("method")
    sends = bool(p.all_values("post-data", "post-file", "body-file", "body-data")) or (
        method is not None and method.text.upper() in ("POST", "PUT", "PATCH", "DELETE"))
    if not p.operands and not p.all_values("O", "output-document", "P", "directory-prefix"):
        return
    if not p.all_values("O", "output-document") and p.operands:
        a.path("write", Word(".", "."), c.cwd, via="wget")
    for u in p.operands:
        t = u.text
        host = host_of_url(t) if "://" in t else t.split("/", 1)[0].split(":", 1)[0]
        a.contact(host or (UNKNOWN if u.dynamic else ""), "send" if sends else "fetch",
                f"wget {t.replace(UNKNOWN, '?')}")


def h_httpie(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="aAo", long_val=frozenset({"auth", "auth-type", "output",
                                                                "session", "verify", "cert"}))
    ops = list(p.operands)
    if ops and ops[0].text.isupper():
        ops.pop(0)
    if not ops:
        return
    url = ops[0].text
    items = ops[1:]
    for it in items:
        if "@" in it.text and ("=@" in it.text or it.text.startswith("@") or ":@" in it.text):
            a.path("read", Word(it.text.split("@", 1)[1], it.raw), c.cwd, via=c.name)
    out = p.value("o", "output")
    if out is not None:
        a.path("write", out, c.cwd, via=c.name)
    host = host_of_url(url) if "://" in url else url.split("/", 1)[0].split(":", 1)[0]
    if not host or url.startswith(":"):
        host = "localhost"
    a.contact(host, "send" if items else "fetch", f"{c.name} {url}")


def h_nc(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="ecpsqwiIOPTVXxgGmW", long_val=frozenset({
        "exec", "sh-exec", "lua-exec", "source-port", "source", "wait", "proxy", "proxy-type",
        "output", "hex-dump", "allow", "deny"}))
    shell = p.value("e", "c", "exec", "sh-exec", "lua-exec")
    listen = p.has("l", "listen")
    hosts = [w.text for w in p.operands if not w.text.isdigit()]
    if shell is not None:
        a.add("net.reverse-shell", f"{c.name} wires {shell.text} to a network socket, giving "
              "whoever connects control of this machine", shell.text)
        return
    out = p.value("o", "output")
    if out is not None:
        a.path("write", out, c.cwd, via=c.name)
    if listen:
        a.contact("0.0.0.0", "listen", f"{c.name} -l")
        return
    for h in hosts[:1]:
        a.contact(h, "raw", f"{c.name} {h}")


def h_socat(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="dDlLt", long_val=frozenset())
    addrs = [w for w in p.operands]
    execs: list[str] = []
    net = False
    listen = False
    for i, w in enumerate(addrs):
        t = w.text
        head, _, rest = t.partition(":")
        kind = head.upper()
        if kind in ("EXEC", "SYSTEM"):
            execs.append(rest.split(",", 1)[0])
        elif kind.startswith(("TCP", "UDP", "SCTP", "OPENSSL", "SSL", "DTLS", "SOCKS", "PROXY",
                              "IP4", "IP6", "IP-")):
            if "LISTEN" in kind or kind in ("TCP-L", "TCP4-L", "TCP6-L", "UDP-L", "UDP-RECV",
                                             "OPENSSL-LISTEN", "SSL-L"):
                listen = True
                a.contact("0.0.0.0", "listen", f"socat {t}")
            else:
                host = rest.split(",", 1)[0].rsplit(":", 1)[0]
                a.contact(host, "raw", f"socat {t}")
            net = True
        elif kind in ("FILE", "OPEN", "CREATE", "GOPEN", "CREAT", "PIPE") or t.startswith("/"):
            path = rest.split(",", 1)[0] if kind in ("FILE", "OPEN", "CREATE", "GOPEN", "CREAT", "PIPE") else t.split(",", 1)[0]
            writes = i == len(addrs) - 1 or kind in ("CREATE", "CREAT") or "creat" in t.lower()
            a.path("write" if writes else "read", Word(path, w.raw), c.cwd, via="socat")
    if execs and net:
        a.add("net.reverse-shell", "socat wires a program to a network socket, giving whoever is "
              f"at the other end control of this machine{' (bind shell)' if listen else ''}",
              execs[0])
    for e in execs:
        a.nested(e, c.cwd, c.depth, "socat EXEC")


def h_telnet(a: Analyzer, c: Cmd) -> None:
    ops = [w.text for w in c.args if not w.text.startswith("-")]
    if ops:
        a.contact(ops[0], "raw", f"{c.name} {ops[0]}")


def h_ssh(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="bcDEeFIiJLlmOopQRSWwB", stop=True)
    for key, via in (("F", "ssh -F"),):
        v = p.value(key)
        if v is not None:
            a.path("read", v, c.cwd, via=via)
    for v in p.all_values("o"):
        name, _, value = v.text.partition("=")
        if not value and " " in name:
            name, _, value = name.partition(" ")
        if name.lower() in ("proxycommand", "localcommand", "knownhostscommand"):
            a.nested(value, c.cwd, c.depth, f"ssh -o {name}")
    if p.value("R") is not None or p.value("D") is not None:
        a.add("net.tunnel", "ssh -R/-D opens a tunnel through this machine", None)
    if not p.rest:
        return
    host = p.rest[0].text.rsplit("@", 1)[-1].split(":", 1)[0]
    a.contact(host, "shell", f"ssh {host}")
    remote = p.rest[1:]
    if remote:
        a.nested(" ".join(w.text for w in remote), None, c.depth, f"ssh {host}")


def h_scp(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="cFiJloPSDX")
    v = p.value("F")
    if v is not None:
        a.path("read", v, c.cwd, via="scp -F")
    for o in p.all_values("o"):
        if o.text.lower().startswith("proxycommand"):
            a.nested(o.text.split("=", 1)[-1], c.cwd, c.depth, "scp -o ProxyCommand")
    ops = p.operands
    if len(ops) < 2:
        return
    *sources, dest = ops
    dest_host = host_of_remote(dest.text)
    for s in sources:
        sh = host_of_remote(s.text)
        if sh:
            a.contact(sh, "shell", f"{c.name} from {sh}")
        else:
            a.path("read", s, c.cwd, via=c.name, recursive="r" in p.flags)
    if dest_host:
        a.contact(dest_host, "shell", f"{c.name} to {dest_host}")
    else:
        a.path("write", dest, c.cwd, via=c.name)


def h_rsync(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="eBfMT", long_val=frozenset({
        "rsh", "rsync-path", "exclude", "include", "filter", "files-from", "exclude-from",
        "include-from", "log-file", "password-file", "backup-dir", "temp-dir", "partial-dir",
        "chmod", "chown", "link-dest", "compare-dest", "copy-dest", "port", "timeout", "bwlimit",
        "max-size", "min-size", "suffix", "out-format", "log-file-format", "usermap", "groupmap",
        "block-size", "sockopts", "address", "info", "debug", "compress-level", "modify-window"}))
    for key in ("e", "rsh", "rsync-path"):
        v = p.value(key)
        if v is not None and key != "rsync-path":
            a.nested(v.text, c.cwd, c.depth, f"rsync --{key}")
    for v in p.all_values("files-from", "exclude-from", "include-from", "password-file"):
        a.path("read", v, c.cwd, via="rsync")
    log = p.value("log-file")
    if log is not None:
        a.path("write", log, c.cwd, via="rsync --log-file")
    ops = p.operands
    if len(ops) < 2:
        return
    *sources, dest = ops
    delete = any(f.startswith("delete") or f.startswith("remove-source") for f in p.flags)
    for s in sources:
        sh = host_of_remote(s.text)
        if sh:
            a.contact(sh, "shell", f"rsync from {sh}")
        else:
            a.path("read", s, c.cwd, via="rsync", recursive=True)
            if "remove-source-files" in p.flags:
                a.path("delete", s, c.cwd, via="rsync --remove-source-files", recursive=True)
    dh = host_of_remote(dest.text)
    if dh:
        a.contact(dh, "shell", f"rsync to {dh}")
    else:
        a.path("write", dest, c.cwd, via="rsync")
        if delete:
            a.path("delete", dest, c.cwd, via="rsync --delete", recursive=True)


def h_remote_tool(a: Analyzer, c: Cmd) -> None:
    """ftp, sftp, tftp, smbclient, rlogin, mosh, sshfs and similar: a session on a remote host."""
    p = opts.parse(c.args, short_val="pPlcUWsoiFbBDRSv" if c.name != "smbclient" else "UWcApsmOnRdlLIE")
    for w in p.operands:
        t = w.text
        host = host_of_remote(t) or (t.split("@")[-1] if ("." in t or t.startswith("\\\\")) and not t.startswith("/") else None)
        if t.startswith("\\\\") or t.startswith("//"):
            host = t.strip("\\/").split("\\")[0].split("/")[0]
        if host:
            a.contact(host, "shell", f"{c.name} {host}")
            break
    if c.name == "sshfs" and len(p.operands) >= 2:
        a.path("write", p.operands[-1], c.cwd, via="sshfs")
    for v in p.all_values("c"):
        a.generic_word(v, c, unknown=True)


def h_aria2c(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="odiUx", long_val=frozenset({
        "out", "dir", "input-file", "on-download-complete", "on-download-error",
        "on-download-start", "on-download-stop", "on-download-pause", "on-bt-download-complete",
        "gid", "log", "save-session"}))
    for key in ("on-download-complete", "on-download-error", "on-download-start",
                "on-download-stop", "on-download-pause", "on-bt-download-complete"):
        v = p.value(key)
        if v is not None:
            a.nested(v.text, c.cwd, c.depth, f"aria2c --{key}")
    for v in p.all_values("o", "out", "d", "dir", "log", "save-session"):
        a.path("write", v, c.cwd, via="aria2c")
    for v in p.all_values("i", "input-file"):
        a.path("read", v, c.cwd, via="aria2c -i")
    for u in p.operands:
        h = host_of_url(u.text)
        if h:
            a.contact(h, "fetch", f"aria2c {u.text}")


def h_lwp(a: Analyzer, c: Cmd) -> None:
    ops = [w for w in c.args if not w.text.startswith("-")]
    for i, w in enumerate(ops):
        if w.text.lower().startswith("file:"):
            a.path("read", Word("/" + w.text.split(":", 1)[1].lstrip("/"), w.raw), c.cwd, via=c.name)
        elif "://" in w.text:
            a.contact(host_of_url(w.text) or "", "fetch", f"{c.name} {w.text}")
        elif i > 0:
            a.path("write", w, c.cwd, via=c.name)


def h_openssl(a: Analyzer, c: Cmd) -> None:
    args = c.args
    if not args:
        return
    sub = args[0].text
    i = 1
    while i < len(args):
        t = args[i].text
        nxt = args[i + 1] if i + 1 < len(args) else None
        if t == "-connect" and nxt is not None:
            a.contact(nxt.text.rsplit(":", 1)[0], "raw", f"openssl {sub} -connect")
        elif t == "-accept":
            a.contact("0.0.0.0", "listen", f"openssl {sub}")
        elif t in ("-in", "-inkey", "-key", "-passin") and nxt is not None:
            if not nxt.text.startswith(("pass:", "env:")):
                a.path("read", Word(nxt.text.removeprefix("file:"), nxt.raw), c.cwd, via="openssl")
        elif t == "-out" and nxt is not None:
            a.path("write", nxt, c.cwd, via="openssl -out")
        i += 1


def h_tunnel(a: Analyzer, c: Cmd) -> None:
    args = [w.text for w in c.args]
    if c.name == "code" and (not args or args[0] != "tunnel"):
        a.dispatch("vim", c)  # `code FILE` opens an editor
        return
    if c.name == "tailscale" and (not args or args[0] not in ("serve", "funnel")):
        return
    if c.name == "kubectl":
        return
    a.add("net.tunnel", f"{c.name} {' '.join(args[:2])} exposes this machine to the network; ask "
          "the user", c.name)


def h_listen_server(a: Analyzer, c: Cmd) -> None:
    """Web servers started with a config (nginx -c, httpd): they serve files to the network."""
    a.add("net.listen", f"{c.name} starts a server that others can reach; ask the user", c.name)
    for w in c.args:
        a.generic_word(w, c, unknown=True)


def h_nmap(a: Analyzer, c: Cmd) -> None:
    a.add("net.raw", f"{c.name} scans hosts on the network; ask the user", c.name)
    a.generic(c)


def h_ping(a: Analyzer, c: Cmd) -> None:
    """ping, dig, traceroute: diagnostics that send nothing of the user's."""
    for w in c.args:
        if w.text.startswith("/") or w.text.startswith("~"):
            a.path("mention", w, c.cwd, via=c.name)


_GLOBAL_PMS = {"brew", "apt", "apt-get", "aptitude", "yum", "dnf", "pacman", "apk", "zypper",
               "snap", "flatpak", "port", "emerge", "nix-env", "choco", "winget", "scoop", "pkg",
               "rpm", "dpkg", "pipx", "gem", "cargo", "go", "composer", "conda", "mamba"}
_PUBLISH = {
    "npm": {"publish", "unpublish", "deprecate", "dist-tag", "owner", "access", "undeprecate"},
    "pnpm": {"publish"}, "yarn": {"publish", "npm"}, "bun": {"publish"},
    "twine": {"upload", "register"}, "flit": {"publish"}, "poetry": {"publish"},
    "uv": {"publish"}, "hatch": {"publish"}, "cargo": {"publish", "yank", "owner"},
    "gem": {"push", "yank", "owner"}, "mvn": {"deploy", "release:perform"},
    "gradle": {"publish", "publishtomavenlocal"}, "vsce": {"publish", "unpublish"},
    "ovsx": {"publish"}, "pod": {"trunk"}, "dotnet": {"nuget"}, "anaconda": {"upload"},
    "gradlew": {"publish"}, "jsr": {"publish"}, "deno": {"publish"},
}


def h_package_manager(a: Analyzer, c: Cmd) -> None:
    name = c.name
    args = [w.text for w in c.args]
    positional = [x for x in args if not x.startswith("-")]
    verb = positional[0].lower() if positional else ""
    if name in ("python", "python3") and args[:2] == ["-m", "pip"]:
        name, args = "pip", args[2:]
        positional = [x for x in args if not x.startswith("-")]
        verb = positional[0].lower() if positional else ""
    if name == "uv" and verb == "pip":
        positional = positional[1:]
        verb = positional[0].lower() if positional else ""
    publish = _PUBLISH.get(name.rstrip("0123456789."), set())
    if verb in publish or (name == "yarn" and verb == "npm" and "publish" in positional):
        if not any(x in ("--dry-run", "-n", "--help", "-h") for x in args):
            if name == "npm" and verb == "dist-tag" and (len(positional) < 2 or positional[1] in ("ls", "list")):
                return
            if name == "dotnet" and (len(positional) < 2 or positional[1] != "push"):
                return
            a.add("pkg.publish", f"{name} {verb} publishes to a registry others install from; "
                  "publishing is the user's decision", f"{name} {verb}")
        return
    if name in ("dpkg", "rpm"):
        if any(x in ("-i", "--install", "-U", "--upgrade", "-e", "--erase", "-r", "--remove",
                     "-P", "--purge") or (x.startswith("-") and not x.startswith("--")
                                          and x[1:2] in "iUe" and name == "rpm")
               for x in args):
            a.add("pkg.global-install", f"{name} installs or removes system packages; ask the user",
                  name)
        return
    if name == "go" and verb == "run":
        for w in c.args[1:]:
            if w.text.endswith(".go"):
                a.run_script(c, w, "go", f"go run {w.text}")
        return
    installs = verb in ("install", "i", "add", "in", "isntall", "get", "update", "upgrade", "up",
                        "-s", "reinstall", "uninstall", "remove", "rm", "un", "r")
    if name == "pacman" and any(x.startswith("-S") or x.startswith("-R") for x in args):
        installs = True
    if not installs:
        if name in ("npm", "pnpm", "yarn", "bun") and verb in ("run", "test", "start", "exec", "x", "dlx"):
            return
        return
    global_flag = any(x in ("-g", "--global", "--user", "--break-system-packages", "--system")
                      for x in args) or (name == "yarn" and verb == "global")
    if name in _GLOBAL_PMS and name not in ("composer", "conda", "mamba", "go", "cargo", "gem"):
        global_flag = True
    if name in ("cargo", "go", "gem") and verb == "install":
        global_flag = True
    if name in ("conda", "mamba") and not any(x in ("-p", "--prefix") for x in args):
        global_flag = global_flag or False
    if global_flag:
        a.add("pkg.global-install", f"{name} {verb} changes packages for the whole user or "
              "system, outside the workspace; install into the project (a virtualenv, "
              "node_modules) instead", f"{name} {verb}")
    for i, x in enumerate(args):
        url = None
        if "://" in x:
            url = x.split("+", 1)[1] if x.startswith(("git+", "hg+", "svn+", "bzr+")) else x
            url = url.split("@", 1)[-1] if "://" not in url.split("@", 1)[-1] else url
        elif x in ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--registry") and i + 1 < len(args):
            url = args[i + 1]
        elif x.startswith(("--index-url=", "--extra-index-url=", "--find-links=", "--registry=")):
            url = x.split("=", 1)[1]
        if url and "://" in url:
            host = host_of_url(url)
            if host:
                a.contact(host, "fetch", f"{name} {verb} from {url}")
