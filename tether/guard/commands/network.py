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
    from typing import Any

    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd


# ---------------------------------------------------------------------------
# Handlers

# Paste and file-drop services: whatever reaches them is published.
_PASTE_HOSTS = frozenset({"ix.io", "sprunge.us", "termbin.com", "paste.rs", "0x0.st",
                          "transfer.sh", "bashupload.com", "file.io", "pastebin.com",
                          "hastebin.com", "dpaste.com", "dpaste.org", "paste.ee", "clbin.com",
                          "catbox.moe", "litterbox.catbox.moe", "temp.sh", "oshi.at",
                          "paste.c-net.org", "pastes.dev", "rentry.co", "ttm.sh", "envs.sh"})


def _kind(host: str, kind: str) -> str:
    """Contact with a paste service is sending, whatever the method."""
    return "send" if host.lower().rstrip(".") in _PASTE_HOSTS else kind

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
        a.contact(host or (UNKNOWN if u.dynamic else ""), _kind(host or "", kind),
                  f"curl {t.replace(UNKNOWN, '?')}")


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
        a.contact(host or (UNKNOWN if u.dynamic else ""),
                  _kind(host or "", "send" if sends else "fetch"), f"wget {t.replace(UNKNOWN, '?')}")


def h_httpie(a: Analyzer, c: Cmd) -> None:
    p = opts.parse(c.args, short_val="aAo", long_val=frozenset({"auth", "auth-type", "output",
                                                                "session", "verify", "cert"}))
    ops = list(p.operands)
    method = ""
    if ops and ops[0].text.isupper():
        method = ops.pop(0).text
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
    # Without --ignore-stdin, httpie sends what arrives on standard input as the body.
    s = c.simple
    piped = "ignore-stdin" not in p.flags and "I" not in p.flags and (
        s.stdin is not None or bool(s.producers) or any(r.op.startswith("<") for r in s.redirects))
    sends = bool(items) or piped or method in ("POST", "PUT", "PATCH")
    a.contact(host, _kind(host, "send" if sends else "fetch"), f"{c.name} {url}")


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
        a.contact(h, _kind(h, "raw"), f"{c.name} {h}")


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
        a.contact(dest_host, "send", f"{c.name} copies files to {dest_host}")
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
        a.contact(dh, "send", f"rsync copies files to {dh}")
    else:
        a.path("write", dest, c.cwd, via="rsync")
        if delete:
            a.path("delete", dest, c.cwd, via="rsync --delete", recursive=True)


def h_remote_tool(a: Analyzer, c: Cmd) -> None:
    """ftp, sftp, tftp, smbclient, rlogin, mosh, sshfs and similar: a session on a remote host."""
    p = opts.parse(c.args, short_val="pPlcUWsoiFbBDRSv" if c.name != "smbclient" else "UWcApsmOnRdlLIE")
    host: str | None = None
    for w in p.operands:
        t = w.text
        host = host_of_remote(t) or (t.split("@")[-1] if ("." in t or t.startswith("\\\\")) and not t.startswith("/") else None)
        if t.startswith("\\\\") or t.startswith("//"):
            host = t.strip("\\/").split("\\")[0].split("/")[0]
        if host:
            a.contact(host, "shell", f"{c.name} {host}")
            break
    if host and c.name in ("sftp", "ftp", "lftp", "tftp", "smbclient"):
        _batch_uploads(a, c, host, p.value("b"))
    if c.name == "sshfs" and len(p.operands) >= 2:
        a.path("write", p.operands[-1], c.cwd, via="sshfs")
    for v in p.all_values("c"):
        a.generic_word(v, c, unknown=True)


def _batch_uploads(a: Analyzer, c: Cmd, host: str, batch: Word | None) -> None:
    """sftp/ftp commands given on standard input or in a batch file: put sends files."""
    from tether.guard.base import static_stdin

    s = c.simple
    if batch is not None:
        a.path("read", batch, c.cwd, via=f"{c.name} -b")
    text = static_stdin(c, a.home)
    if text is None and batch is None and not s.producers and not any(
            r.op.startswith("<") for r in s.redirects):
        return
    uploads = False
    for line in (text or "").splitlines():
        parts = line.split()
        if parts and parts[0].lower() in ("put", "mput", "reput", "append", "send", "mirror"):
            uploads = True
            for local in parts[1:2]:
                if not local.startswith("-"):
                    a.path("read", Word(local, local), c.cwd, via=f"{c.name} {parts[0]}")
    if uploads or text is None:
        a.contact(host, "send", f"{c.name} runs commands from its input on {host}"
                  + (" and uploads files" if uploads else ""))


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


# Options of the lookup tools that take a value (so that the value is not read as a name).
_LOOKUP_VAL = {"ping": "cisIWwtlpQSMmTF", "ping6": "cisIWwtlpQSMmTF", "dig": "bcfkpqtxy",
               "host": "cCNRtWm", "traceroute": "fgimNpqstwz", "mtr": "abcfimnopsuyzB",
               "tracepath": "lmp", "whois": "hpisTv", "nslookup": ""}


def h_ping(a: Analyzer, c: Cmd) -> None:
    """ping, dig, traceroute: diagnostics; a name computed at run time carries data out,
    since the lookup hands the name to whoever serves its domain."""
    p = opts.parse(c.args, short_val=_LOOKUP_VAL.get(c.name, ""))
    for w in c.args:
        if w.text.startswith("/") or w.text.startswith("~"):
            a.path("mention", w, c.cwd, via=c.name)
    for w in p.operands:
        if UNKNOWN in w.text:
            a.contact(UNKNOWN, "send", f"{c.name} looks up {w.raw}, a name computed at run time; "
                      "a lookup carries the name to whoever serves the domain")


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
    command = outside_code(a, c)
    if command is not None:
        # `uv run` goes on to its own wrapper handler, which analyses the command it runs.
        if command and c.name != "uv" and c.name != "go":
            if command[0].text.startswith(("http://", "https://")):
                return
            a.argv(c.sub(command))
        if c.name != "go":
            return
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
    if verb in ("uninstall", "remove", "rm", "un", "r") and any(
            x.lower() in ("tether", "tether[dev]") for x in args[1:]):
        a.add("self.tether-cli", f"{name} {verb} tether removes the guard itself; that is the "
              "user's to do", f"{name} {verb} tether")
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
    if verb in ("install", "i", "add", "in", "isntall", "get", "update", "upgrade", "up"):
        _install_sources(a, name, verb, args)
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


# ---------------------------------------------------------------------------
# Code from outside: package runners and installs from addresses

# Runners that fetch a package and run it: name -> the verbs after which the package comes
# ("" = straight after the runner's options).
_FETCHING_RUNNERS = {"npx": ("",), "pnpx": ("",), "bunx": ("",), "uvx": ("",),
                     "npm": ("exec", "x"), "pnpm": ("dlx",), "yarn": ("dlx",), "bun": ("x",),
                     "pipx": ("run",), "uv": ("tool",)}
# Options of those runners that take a value, and which of them name packages.
_RUNNER_VAL = frozenset({"package", "p", "call", "c", "from", "with", "with-editable",
                         "with-requirements", "python", "spec", "pip-args", "index-url",
                         "extra-index-url", "cache-dir", "directory", "project", "prefix",
                         "registry", "workspace", "w", "reporter", "env-file", "i"})
_RUNNER_SHORT = "pcw"
# Well-known binaries whose package has another name.
_BIN_PACKAGE = {"tsc": "typescript", "tsserver": "typescript", "ng": "@angular/cli",
                "vue-cli-service": "@vue/cli-service", "nuxi": "nuxt", "sb": "storybook",
                "playwright": "@playwright/test", "biome": "@biomejs/biome"}
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+", "git://", "github:", "gitlab:", "bitbucket:",
                 "gist:", "http://", "https://", "ssh://", "ftp://")
_NODE_MANAGERS = frozenset({"npm", "pnpm", "yarn", "bun"})
_PY_MANAGERS = frozenset({"pip", "pip3", "uv", "poetry", "pdm", "pipenv", "rye", "hatch",
                          "python", "python3"})

_declared_cache: Any = None


def _declared(a: Analyzer, ecosystem: str) -> frozenset[str]:
    """The project's declared dependencies ("node" or "python"), read once per analyser."""
    global _declared_cache
    if _declared_cache is None:
        import weakref

        _declared_cache = weakref.WeakKeyDictionary()
    per = _declared_cache.setdefault(a, {})
    if ecosystem not in per:
        per[ecosystem] = _read_node(a.root) if ecosystem == "node" else _read_python(a.root)
    found: frozenset[str] = per[ecosystem]
    return found


def _read_json(path: str) -> dict[str, Any]:
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_node(root: str) -> frozenset[str]:
    import os

    data = _read_json(os.path.join(root, "package.json"))
    names: set[str] = set()
    for field in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        deps = data.get(field)
        if isinstance(deps, dict):
            names.update(str(k) for k in deps)
    for binary, package in _BIN_PACKAGE.items():
        if package in names:
            names.add(binary)
    # Binaries installed in the project are run from there, not fetched.
    try:
        names.update(os.listdir(os.path.join(root, "node_modules", ".bin")))
    except OSError:
        pass
    return frozenset(names)


def _pep508_name(spec: str) -> str:
    """The distribution name at the start of a requirement (``requests[socks]>=2`` -> requests)."""
    end = 0
    while end < len(spec) and (spec[end].isalnum() or spec[end] in "-_."):
        end += 1
    return spec[:end].lower().replace("_", "-").replace(".", "-")


def _read_python(root: str) -> frozenset[str]:
    import os

    names: set[str] = set()
    specs: list[str] = []
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as fh:
            import tomllib

            data = tomllib.load(fh)
    except (OSError, ValueError):
        data = {}
    project = data.get("project", {})
    if isinstance(project, dict):
        specs += [s for s in project.get("dependencies", []) if isinstance(s, str)]
        for group in (project.get("optional-dependencies") or {}).values():
            specs += [s for s in group if isinstance(s, str)]
    for group in (data.get("dependency-groups") or {}).values():
        specs += [s for s in group if isinstance(s, str)]
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    if isinstance(poetry, dict):
        for field in ("dependencies", "dev-dependencies"):
            names.update(str(k) for k in (poetry.get(field) or {}))
        for group in (poetry.get("group") or {}).values():
            if isinstance(group, dict):
                names.update(str(k) for k in (group.get("dependencies") or {}))
    uv = tool.get("uv", {}) if isinstance(tool, dict) else {}
    if isinstance(uv, dict):
        specs += [s for s in uv.get("dev-dependencies", []) if isinstance(s, str)]
    try:
        files = [f for f in os.listdir(root) if f.startswith("requirements") and f.endswith(".txt")]
    except OSError:
        files = []
    for name in files:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as fh:
                specs += [ln.strip() for ln in fh if ln.strip() and not ln.startswith(("#", "-"))]
        except OSError:
            pass
    names.update(_pep508_name(s) for s in specs)
    return frozenset(n.lower().replace("_", "-").replace(".", "-") for n in names if n)


def _package_name(spec: str, ecosystem: str) -> str:
    """A package spec without its version: ``@scope/x@1`` -> @scope/x, ``ruff==0.5`` -> ruff."""
    if ecosystem == "node":
        return spec[:1] + spec[1:].partition("@")[0]
    return _pep508_name(spec)


def _from_address(spec: str, ecosystem: str) -> bool:
    """A spec naming a URL, a repository or (npm) a GitHub ``user/repo`` shorthand."""
    low = spec.lower()
    if low.startswith(_VCS_PREFIXES) or "://" in low:
        return True
    # npm reads `user/repo` as a GitHub repository.
    return ecosystem == "node" and "/" in spec and not spec.startswith(
        ("@", ".", "/", "~", "file:", "npm:", "workspace:"))


def _how_to_declare(ecosystem: str, name: str) -> str:
    if ecosystem == "node":
        return f"add it to package.json (npm install -D {name}) if it is wanted"
    return (f"add it to pyproject.toml (a dev dependency group, or `uv add --dev {name}`) if it "
            "is wanted")


def _one_typo_away(name: str, declared: frozenset[str]) -> str | None:
    """A declared name one edit (or one swap of neighbours) away from ``name``."""
    if len(name) < 4 or name in declared:
        return None
    for d in declared:
        if abs(len(d) - len(name)) > 1 or d == name:
            continue
        if len(d) == len(name):
            diff = [k for k in range(len(d)) if d[k] != name[k]]
            if len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and d[diff[0]] == name[diff[1]] and d[diff[1]] == name[diff[0]]):
                return d
        else:
            short, long_ = (d, name) if len(d) < len(name) else (name, d)
            if any(long_[:k] + long_[k + 1:] == short for k in range(len(long_))):
                return d
    return None


def _runner_specs(c: Cmd, at: int, ecosystem: str, uv_run: bool) -> tuple[list[Word], list[Word]]:
    """The packages a runner pulls in (from its options and its first operand), and the command
    it runs."""
    p = opts.parse(c.args[at:], short_val="pw" if c.name == "uvx" else _RUNNER_SHORT,
                   long_val=_RUNNER_VAL, stop=True)
    rest = p.rest[1:] if p.rest[:1] and p.rest[0].text == "--" else p.rest
    first = rest[0] if rest else None
    if uv_run:
        # `uv run --with PKG cmd`; `uv run https://.../x.py` runs a remote script.
        remote = [first] if first is not None and "://" in first.text else []
        return [*p.all_values("with"), *remote], rest
    if ecosystem == "node":
        named = p.all_values("package", "p")
        return named or ([first] if first is not None else []), rest
    source = p.all_values("from", "spec")
    return [*(source or ([first] if first is not None else [])), *p.all_values("with")], rest


def outside_code(a: Analyzer, c: Cmd) -> list[Word] | None:
    """Judge the packages a runner fetches (npx, uvx, pipx run, dlx, go run pkg@v).

    Returns the command the runner then runs, or None when ``c`` fetches nothing.
    """
    name = c.name
    texts = [w.text for w in c.args]
    if name == "go":
        if texts[:1] != ["run"]:
            return None
        for t in texts[1:]:
            if not t.startswith(("-", ".", "/")) and "@" in t:
                a.add("exec.outside-package", f"go run {t} downloads the module {t.split('@')[0]} "
                      "and runs it; add it to go.mod (go get) and run it from there if it is "
                      "wanted", t)
        return []
    verbs = _FETCHING_RUNNERS.get(name)
    uv_run = name == "uv" and texts[:1] == ["run"]
    if verbs is None and not uv_run:
        return None
    at = 0
    if uv_run:
        at = 1
    elif verbs != ("",):
        while at < len(texts) and texts[at].startswith("-"):
            at += 1
        if at >= len(texts) or texts[at] not in (verbs or ()):
            return None
        at += 1
        if name == "uv":
            if texts[at:at + 1] != ["run"]:
                return None
            at += 1
    ecosystem = "python" if name in ("uvx", "pipx", "uv") else "node"
    what = " ".join([name, *texts[:at]])
    specs, command = _runner_specs(c, at, ecosystem, uv_run)
    _judge_specs(a, specs, ecosystem, what)
    return command


# Options of installers whose value is not a package to install.
_INSTALL_VAL = frozenset({"-i", "--index-url", "--extra-index-url", "-f", "--find-links",
                          "--registry", "-r", "--requirement", "-c", "--constraint", "-t",
                          "--target", "--prefix", "--root", "--python", "-p", "--source",
                          "--path", "--cache-dir", "--src", "--group", "-G", "--tag",
                          "--workspace", "-w", "--filter", "--features", "--bin", "--branch",
                          "--rev", "--root-dir", "--dir", "-C", "--optional", "--extra"})


def _install_sources(a: Analyzer, name: str, verb: str, args: list[str]) -> None:
    """Packages installed from an address (a URL, a repository, a GitHub shorthand), and names
    one typo away from a declared dependency."""
    base = name.rstrip("0123456789.")
    ecosystem = "node" if base in _NODE_MANAGERS else "python" if base in _PY_MANAGERS else ""
    k = 0
    while k < len(args):
        x = args[k]
        if x == "--git" and k + 1 < len(args) and base == "cargo":
            a.add("pkg.install-url", f"cargo {verb} --git builds a crate from the repository "
                  f"{args[k + 1]}, outside the registry; ask the user", args[k + 1])
        if x in _INSTALL_VAL or x == "--git":
            k += 2
            continue
        k += 1
        if x.startswith("-") and x not in ("-e", "--editable"):
            if x.startswith(("--git=",)):
                a.add("pkg.install-url", f"{name} {verb} {x} installs from a repository outside "
                      "the registry; ask the user", x[6:])
            continue
        if x in ("-e", "--editable"):
            continue
        if UNKNOWN in x or not ecosystem:
            continue
        if _from_address(x, ecosystem) or (ecosystem == "python" and " @ " in x):
            a.add("pkg.install-url", f"{name} {verb} {x} installs code straight from an address "
                  "rather than the package index; its build and install scripts run here; ask "
                  "the user", x)
            continue
        if x.startswith((".", "/", "~")) or x.endswith((".whl", ".tgz", ".tar.gz", ".zip")):
            continue
        pkg = _package_name(x, ecosystem)
        near = _one_typo_away(pkg.lower() if ecosystem == "python" else pkg,
                              _declared(a, ecosystem))
        if near is not None:
            a.add("pkg.install-url", f"{name} {verb} {pkg}: the name is one letter away from "
                  f"the declared dependency {near}, the way typo-squatted packages are named; "
                  f"check the spelling", pkg)


def _judge_specs(a: Analyzer, specs: list[Word], ecosystem: str, what: str) -> None:
    declared = _declared(a, ecosystem)
    for w in specs:
        spec = w.text
        if UNKNOWN in spec:
            a.add("exec.outside-package", f"{what} runs a package whose name is only known at run "
                  "time; name it literally so it can be checked", spec.replace(UNKNOWN, "?"))
            continue
        if _from_address(spec, ecosystem):
            a.add("exec.outside-package", f"{what} fetches and runs code from {spec}, outside the "
                  "project's declared dependencies; ask the user", spec)
            host = host_of_url(spec.split("+", 1)[-1]) if "://" in spec else None
            if host:
                a.contact(host, "fetch", f"{what} {spec}")
            continue
        pkg = _package_name(spec, ecosystem)
        key = pkg.lower() if ecosystem == "python" else pkg
        if key in declared:
            continue
        a.add("exec.outside-package", f"{what} fetches and runs the package {pkg}, which is not "
              f"one of the project's declared dependencies; {_how_to_declare(ecosystem, pkg)}",
              pkg)
