"""The source scanner: what a program in another language would do, read from its text.

Programs reach the guard as text: ``python -c CODE``, a script about to run, a
heredoc piped into an interpreter, an ``eval``. The scanner looks for the calls
that matter (running commands, deleting or writing files, opening sockets,
sending data, decoding payloads) and records them as effects, as the shell
analysis does for shell commands. It also judges where a program comes from:
code fetched from the network or decoded at run time cannot be reviewed.
Nothing is ever evaluated.
"""

from __future__ import annotations

from tether.guard.base import static_stdin
from tether.guard.hosts import host_of_url, looks_like_ip
from tether.guard.syntax import UNKNOWN, Simple, Word, command_name
from tether.guard.wrapping import program

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tether.guard.analysis import Analyzer
    from tether.guard.base import Cmd


# Longer programs are not scanned.
MAX_CODE = 65536


MAX_LITERALS = 64


_FETCHERS = frozenset({"curl", "wget", "wget2", "fetch", "http", "https", "xh", "nc", "ncat",
                       "netcat", "aria2c", "lwp-request", "lwp-download", "get", "socat", "ssh",
                       "scp", "tftp", "ftp", "telnet", "openssl", "invoke-webrequest", "iwr",
                       "httpie", "axel", "gh", "s3cmd", "aws", "gsutil"})


_DECODE_FLAGS = {"base64": ("-d", "--decode", "-D"), "base32": ("-d", "--decode"),
                 "basenc": ("-d", "--decode"), "xxd": ("-r", "-revert", "-rp", "-pr"),
                 "openssl": ("-d", "base64", "-base64", "-a")}


_DECODERS = frozenset({"uudecode", "gunzip", "zcat", "bzcat", "xzcat", "unxz", "bunzip2", "rev",
                       "tr", "unzstd", "lz4cat", "unlzma", "base64url"})


def is_fetcher(cmd: Simple) -> bool:

    argv = program([w.text for w in cmd.argv])
    if not argv:
        return False
    name = command_name(argv[0])
    if name in _FETCHERS:
        return True
    if name in ("python", "python3", "node", "ruby", "perl", "php"):
        text = " ".join(argv)
        return "http://" in text or "https://" in text
    return False


def is_decoder(cmd: Simple) -> bool:

    argv = program([w.text for w in cmd.argv])
    if not argv:
        return False
    name = command_name(argv[0])
    args = argv[1:]
    if name in _DECODE_FLAGS:
        flags = _DECODE_FLAGS[name]
        if name == "openssl":
            return (("enc" in args or "base64" in args) and any(a in ("-d", "-base64", "-a") for a in args)) or (args[:1] == ["base64"] and "-d" in args)
        return any(a in flags or (a.startswith("-") and not a.startswith("--") and "d" in a and name != "xxd")
                   or (name == "xxd" and a.startswith("-") and "r" in a) for a in args)
    if name in _DECODERS:
        return True
    if name in ("gzip", "bzip2", "xz", "zstd", "lz4") and any(a in ("-d", "--decompress", "-dc", "-cd") for a in args):
        return True
    if name == "printf" and args and ("\\x" in args[0] or "\\0" in args[0] or "\\1" in args[0]):
        return True
    if name == "echo" and any(a.startswith("-") and "e" in a for a in args) and any("\\x" in a for a in args):
        return True
    return name in ("python", "python3", "perl", "ruby", "node") and any(
        k in " ".join(args) for k in ("b64decode", "decode64", "base64", "unpack", "fromhex", "atob"))


def language_of(interpreter: str) -> str | None:
    """The language analysed for a script run by an interpreter (from a #! line or a command)."""
    name = interpreter.lower().rsplit("/", 1)[-1]
    if name in ("sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "busybox"):
        return "shell"
    key = name if name in INTERPRETERS else name.rstrip("0123456789.-")
    if key in INTERPRETERS:
        return INTERPRETERS[key][0]
    if key in ("go",):
        return "go"
    return None


def judge_program_source(a: Analyzer, sources: list[Simple], what: str) -> bool:
    """Judge where a program comes from; True when a decision was recorded."""
    if any(is_fetcher(s) for s in sources):
        a.add("net.remote-exec", f"{what} runs code downloaded from the network; download it, "
              "read it, then run the saved file if it is safe", what)
        return True
    if any(is_decoder(s) for s in sources):
        a.add("exec.decoded", f"{what} runs a decoded or obfuscated payload that cannot be "
              "reviewed; decode it to a file and show it first", what)
        return True
    return False


def judge_stdin_program(a: Analyzer, c: Cmd, lang: str, what: str) -> None:
    """A shell or interpreter reading its program from standard input."""

    s = c.simple
    if s.stdin is not None:
        run_code(a, c, lang, s.stdin, what)
        return
    if not s.producers:
        return
    if s.more_producers:
        a.add("exec.pipe-shell", f"{what} runs whatever a long pipeline before it prints, which "
              "the guard cannot follow; save the script to a file and run that", what)
        return
    if judge_program_source(a, s.producers, f"{what} reading from a pipe"):
        return
    text = static_stdin(c, a.home)
    if text is not None:
        run_code(a, c, lang, text, what)
        return
    from tether.guard.syntax import command_name

    names = {command_name(p.argv[0].text) for p in s.producers if p.argv}
    if names <= {"cat", "tee"} and all(len(p.argv) > 1 for p in s.producers):
        return
    a.add("exec.pipe-shell", f"{what} runs whatever the commands before it print, which the "
          "guard cannot see; save the script to a file and run that", what)


def run_code(a: Analyzer, c: Cmd, lang: str, code: str, what: str) -> None:
    if lang == "shell":
        a.nested(code, c.cwd, c.depth, what)
    else:
        analyse_code(a, c, lang, code, what)


# The interpreters the guard reads code for.
INTERPRETERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    # name: (language, code options, options taking a value)
    "python": ("python", ("-c",), "mWXQ"),
    "pypy": ("python", ("-c",), "mWXQ"),
    "pypy3": ("python", ("-c",), "mWXQ"),
    "node": ("js", ("-e", "--eval", "-p", "--print"), "r"),
    "nodejs": ("js", ("-e", "--eval", "-p", "--print"), "r"),
    "deno": ("js", ("eval",), ""),
    "bun": ("js", ("-e", "--eval", "-p", "--print"), ""),
    "perl": ("perl", ("-e", "-E"), "IMmlCdDx"),
    "ruby": ("ruby", ("-e",), "IrECFKTWx"),
    "php": ("php", ("-r",), "cdfStzD"),
    "lua": ("lua", ("-e",), "l"),
    "luajit": ("lua", ("-e",), "lbjO"),
    "julia": ("julia", ("-e", "--eval", "-E", "--print"), "JLp"),
    "r": ("r", ("-e",), ""),
    "rscript": ("r", ("-e",), ""),
    "jrunscript": ("js", ("-e",), "lfq"),
    "jjs": ("js", ("-e",), ""),
    "osascript": ("applescript", ("-e",), "l"),
    "pwsh": ("powershell", ("-c", "-command", "-Command", "-encodedcommand", "-EncodedCommand",
                            "-e", "-ec"), ""),
    "powershell": ("powershell", ("-c", "-command", "-Command", "-encodedcommand",
                                  "-EncodedCommand", "-e", "-ec"), ""),
    "groovy": ("java", ("-e",), ""),
    "scala": ("java", ("-e",), ""),
    "elixir": ("elixir", ("-e",), "r"),
    "erl": ("erlang", ("-eval",), ""),
    "ghc": ("haskell", ("-e",), ""),
    "octave": ("octave", ("--eval",), ""),
    "octave-cli": ("octave", ("--eval",), ""),
    "clisp": ("lisp", ("-x",), ""),
    "sbcl": ("lisp", ("--eval",), ""),
    "guile": ("lisp", ("-c",), ""),
    "racket": ("lisp", ("-e",), ""),
    "gnuplot": ("gnuplot", ("-e",), ""),
    "bpftrace": ("bpftrace", ("-e",), "cop"),
    "gdb": ("gdb", ("-ex", "--ex", "-eval-command", "--eval-command"), ""),
    "tclsh": ("tcl", (), ""),
    "wish": ("tcl", (), ""),
    "expect": ("tcl", ("-c",), ""),
    "dc": ("dc", ("-e",), ""),
    "m4": ("m4", (), ""),
}


def string_literals(code: str) -> list[tuple[int, int, str, str]]:
    """(start, end, quote, content) for each quoted literal; escapes are kept simple."""
    out: list[tuple[int, int, str, str]] = []
    i = 0
    n = len(code)
    while i < n and len(out) < 512:
        ch = code[i]
        if ch in "'\"`":
            triple = code[i:i + 3] == ch * 3 and ch != "`"
            q = ch * 3 if triple else ch
            j = i + len(q)
            buf: list[str] = []
            while j < n:
                if code[j] == "\\" and j + 1 < n:
                    nxt = code[j + 1]
                    buf.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                    j += 2
                    continue
                if code.startswith(q, j):
                    break
                buf.append(code[j])
                j += 1
            out.append((i, min(j + len(q), n), q, "".join(buf)))
            i = j + len(q)
            continue
        i += 1
    return out


_SHELL_APIS_TEXT = ("os.system", "os.popen", "commands.getoutput", "commands.getstatusoutput",
                    "subprocess.getoutput", "subprocess.getstatusoutput", "execSync", "exec(",
                    "shell_exec", "passthru", "popen(", "IO.popen", "%x(", "%x{", "%x[", "qx(",
                    "qx{", "qx/", "os.execute", "system(", "do shell script", "Invoke-Expression",
                    "iex ", "Start-Process", "callCommand", "runCommand", "esyscmd", "syscmd",
                    "shell(", "system2(", "Shell(", "Runtime.getRuntime().exec", "proc_open")
_ARGV_APIS = ("subprocess.", "spawnSync", "spawn(", "execFile", "ProcessBuilder", "os.exec",
              "os.spawn", "pty.spawn", "Bun.spawn", "Deno.Command", "Deno.run",
              "Process.Start", "run(`", "Open3.")
_DELETE_APIS = ("shutil.rmtree", "rmtree", "os.remove", "os.unlink", "os.rmdir", "os.removedirs",
                ".unlink(", ".rmdir(", "rmSync", "fs.rm(", "fs.rm ", "unlinkSync", "rmdirSync",
                "fs.unlink", "fs.rmdir", "fs.promises.rm", "rimraf", "File.delete", "FileUtils.rm",
                "FileUtils.remove", "Dir.rmdir", "Dir.delete", "unlink(", "remove_tree", "rmdir(",
                "file.remove", "Files.delete", "deleteRecursively", "Remove-Item", "os.remove(",
                "fs::remove", "delete_file", "rm_rf", "File.unlink", "os.truncate", ".truncate(",
                "FileUtils.rm_r", "deleteSync", "Deno.remove", "rmrf", "shred")
_WRITE_APIS = ("cp(", "copy(", "write_text", "write_bytes", "writeFile", "appendFile", "createWriteStream",
               "File.write", "IO.write", "file_put_contents", "FileWriter", "FileOutputStream",
               "Out-File", "Set-Content", "Add-Content", "urlretrieve", "copyfile", "shutil.copy",
               "shutil.move", "os.rename", "os.replace", "fs.rename", "copyFile", "WriteAllText",
               "fputs", "dump value", "IO.copy_stream", "download(", "Deno.writeTextFile",
               "Bun.write", "print >", "printf >", "print(\">", "write(f,", "writelines", "os.symlink",
               "os.chmod", "os.chown", "openfile(", "o_creat", "o_wronly", "o_rdwr", "o_trunc",
               "o_append", "creat(")
_OPEN_APIS = ("open(", "fopen(", "io.open(", "File.open(", "File.new(", "open my", "open(my")
_NET_RAW = ("socket", "connect(", "TCPSocket", "UDPSocket", "IO::Socket", "fsockopen",
            "stream_socket_client", "net.connect", "net.createConnection", "net.Socket",
            "java.net.Socket", "new Socket", "Sockets.connect", "/dev/tcp/", "/inet/tcp/",
            "/inet/udp/", "TcpClient", "Net.Sockets", "require(\"socket\")", "require('socket')",
            "socket.tcp", "s_client")
_NET_HTTP = ("urlopen", "urlretrieve", "urllib", "requests.", "httpx.", "aiohttp", "http.client",
             "http.get", "http.request", "https.get", "https.request", "fetch(", "axios",
             "Net::HTTP", "open-uri", "URI.open", "URI.parse", "LWP", "HTTP::Tiny", "curl_init",
             "file_get_contents(\"http", "file_get_contents('http", "java.net.URL", "URL(",
             "download(", "WebClient", "Invoke-WebRequest", "Invoke-RestMethod", "iwr ", "irm ",
             "HttpClient", "wget", "curl", "http.Get", "http.Post", "HTTPConnection",
             "HTTPSConnection", "request(")
_NET_SEND = ("post(", "POST", ".put(", "sendall", ".send(", "upload", "data=", "createReadStream",
             "fputs($s", "print $s", "PeerAddr", "method:", "body:", "-Body", "-InFile")
_LISTEN = ("bind(", "listen(", "createServer", "http.server", "SimpleHTTPRequestHandler",
           "TCPServer", "HTTPServer", "serve_forever", "ServerSocket", "Sockets.listen",
           "socket.bind", ".bind(", "WEBrick", "TCPServer.new", "s_server", "HttpListener")
_SPAWN_SHELL = ("/bin/sh", "/bin/bash", "/bin/zsh", "/bin/dash", "sh -i", "bash -i", "cmd.exe",
                "pty.spawn", "dup2", "spawn(\"sh\"", "spawn('sh'", "exec(\"sh", "popen(",
                "io.popen", "IO.popen", "|&", "system(c", "exec $c", "getline c", "powershell",
                "spawn(\"/bin", "ProcessBuilder", "Runtime.getRuntime", "os.execute", "exec(",
                "Process.Start", "subprocess")
_EVAL = ("eval(", "Function(", "compile(", "__import__(", "instance_eval", "class_eval",
         "Invoke-Expression", "loadstring(", "load(", "evalq(", "vm.runIn", "execfile(",
         "exec(", "runpy")
_DECODE = ("b64decode", "base64", "atob(", "Buffer.from(", "unpack(", "fromCharCode",
           "codecs.decode", "zlib.decompress", "marshal.loads", "pickle.loads", "unhexlify",
           "fromhex", "FromBase64String", "decode64", "decode(", "rot13", "gzinflate",
           "str_rot13", "gzuncompress", "unserialize")
_ENV_DUMP = ("print(os.environ)", "dict(os.environ)", "os.environ.items()", "os.environ)",
             "console.log(process.env)", "JSON.stringify(process.env", "ENV.to_h", "ENV.each",
             "ENV.inspect", "p ENV", "puts ENV", "%ENV", "getenv()", "$_ENV", "print_r($_SERVER",
             "Get-ChildItem env:", "gci env:", "dir env:", "ls env:", "ENVIRON[", "for k in ENVIRON",
             "in ENVIRON", "os.getenv()", "environ.copy()", "process.env)", "Sys.getenv()",
             "System.getenv()")


def _has(code: str, needles: tuple[str, ...]) -> str | None:
    """The first needle found in code (lower-cased code is matched with lower-cased needles)."""
    lowered = code == code.lower()
    for n in needles:
        if (n.lower() if lowered else n) in code:
            return n
    return None


def _bare_paths(code: str) -> list[str]:
    """Absolute paths written without quotes (shell-like and awk-like code, PowerShell)."""
    out: list[str] = []
    for tok in code.replace("(", " ").replace(")", " ").replace(",", " ").replace(";", " ").split():
        tok = tok.strip("'\"`{}[]<>|&")
        if tok.startswith(("/", "~/")) and not tok.startswith("//") and tok.count("/") >= 2 and len(tok) < 200:
            out.append(tok)
    return out[:32]


def _has_call(code: str, name: str) -> bool:
    """A call to a bare function (exec(, eval() rather than a method ending in the same name."""
    start = 0
    while True:
        i = code.find(name, start)
        if i == -1:
            return False
        before = code[i - 1] if i > 0 else " "
        if not (before.isalnum() or before in "._$"):
            return True
        start = i + 1


def _call_args(code: str, pos: int) -> str:
    """The text of the argument list of a call whose name ends just before ``pos``."""
    i = code.find("(", pos)
    if i == -1 or i - pos > 3:
        end = code.find("\n", pos)
        return code[pos: end if end != -1 else len(code)]
    depth = 0
    j = i
    quote = ""
    while j < len(code):
        ch = code[j]
        if quote:
            if ch == "\\":
                j += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return code[i + 1:j]
        j += 1
    return code[i + 1:]


def _rebuild(arg_text: str) -> tuple[str, bool]:
    """Turn the first argument expression into shell text: literals kept, the rest unknown.

    Returns (text, argv_form). A list (``["rm", "-rf", x]``) becomes words joined with
    spaces; string concatenation keeps literal parts and marks the others unknown.
    """
    text = arg_text.strip()
    argv_form = text.startswith("[") or text.startswith("{") or text.startswith("%w")
    lits = string_literals(text)
    if not lits:
        return (UNKNOWN if text else ""), argv_form
    if argv_form:
        parts: list[str] = []
        for _s, _e, _q, content in lits:
            if any(ch.isspace() for ch in content) or not content:
                parts.append("'" + content.replace("'", "'\\''") + "'")
            else:
                parts.append(content)
        return " ".join(parts), True
    # The first top-level argument only (subprocess.run("ls", shell=True) → "ls").
    out: list[str] = []
    last = 0
    depth = 0
    for s, e, _q, content in lits:
        gap = text[last:s]
        if "," in gap and depth == 0 and out:
            break
        if any(ch.isalnum() for ch in gap.replace("+", "").replace(".", "")):
            out.append(UNKNOWN)
        out.append(content)
        last = e
    tail = text[last:].split(",", 1)[0]
    if any(ch.isalnum() for ch in tail):
        out.append(UNKNOWN)
    return "".join(out), False


def _pathish(s: str) -> bool:
    if not s or len(s) > 300 or "://" in s or "\n" in s or UNKNOWN in s:
        return False
    if s.startswith(("/", "~/", "./", "../")) or s == "~":
        return " " not in s or s.startswith("/")
    return " " not in s and ("/" in s or s.startswith(".") or "." in s[1:])


def _imports_tether(code: str) -> bool:
    """Python code that loads tether's package (import, from-import, runpy, importlib, -m)."""
    for marker in ("import tether", "from tether", "'tether'", '"tether"', "'tether.", '"tether.'):
        start = 0
        while True:
            pos = code.find(marker, start)
            if pos < 0:
                break
            start = pos + len(marker)
            end = pos + len(marker)
            after = code[end] if end < len(code) else " "
            before = code[pos - 1] if pos else " "
            if marker.startswith(("import", "from")):
                if (before.isalnum() or before == "_") or (after.isalnum() or after == "_"):
                    continue
                return True
            # A string naming the package: run_module('tether'), import_module("tether.cli").
            window = code[max(0, pos - 40):pos]
            if any(k in window for k in ("run_module", "import_module", "__import__", "run_path",
                                         "find_spec")):
                return True
    return False


def analyse_code(a: Analyzer, c: Cmd, lang: str, code: str, what: str) -> None:
    """Scan code in another language for shell commands, file deletion, writes and sockets."""
    if lang == "python" and _imports_tether(code):
        a.add("self.tether-cli", f"{what} imports tether itself; the agent may not drive tether "
              "except through its read-only commands", "import tether")
    if UNKNOWN in code:
        code = code.replace(UNKNOWN, "__UNKNOWN__")
    if len(code) > MAX_CODE:
        a.add("exec.dynamic", f"{what} is too long to review ({len(code)} characters); save it to "
              "a file and run that", None)
        code = code[:MAX_CODE]
    lits = string_literals(code)[:MAX_LITERALS]
    contents = [x[3] for x in lits]
    # Shell commands handed to the system.
    shell_api = False
    for api in _SHELL_APIS_TEXT + _ARGV_APIS:
        start = 0
        while True:
            pos = code.find(api, start)
            if pos == -1:
                break
            start = pos + len(api)
            if api in ("exec(", "system(", "popen(", "shell(", "spawn(") and pos > 0 and (
                    code[pos - 1].isalnum() or code[pos - 1] == "_"):
                continue
            if api == "exec(" and lang == "python" and not code[max(0, pos - 4):pos].endswith("os."):
                continue
            shell_api = True
            if api.startswith("run(`"):
                end = code.find("`", pos + 5)
                a.nested(code[pos + 5:end if end != -1 else None], c.cwd, c.depth, what)
                continue
            args = _call_args(code, pos + len(api) - (1 if api.endswith("(") else 0))
            text, _argv = _rebuild(args)
            if text == "":
                continue
            if text.strip() == UNKNOWN or not text.replace(UNKNOWN, "").strip():
                a.add("exec.dynamic", f"{what} runs a command built at run time ({api.strip('(')}); "
                      "run the command directly so it can be checked", api.strip("("))
                continue
            a.nested(text.replace("__UNKNOWN__", UNKNOWN), c.cwd, c.depth, f"{what} ({api.strip('(')})")
    if lang in ("ruby", "perl", "php") and not shell_api:
        for _s, _e, q, content in lits:
            if q == "`" and content.strip():
                shell_api = True
                a.nested(content, c.cwd, c.depth, f"{what} (backticks)")
    if lang == "awk":
        for _s, _e, _q, content in lits:
            if content.startswith(("/inet/", "/inet4/", "/inet6/")):
                parts = content.split("/")
                serving = len(parts) > 4 and parts[4] == "0" and parts[3] != "0"
                if serving or (len(parts) > 5 and parts[5] in ("0", "")):
                    a.contact("0.0.0.0", "listen", f"{what} ({content})")
                else:
                    a.contact(parts[5] if len(parts) > 5 else "", "raw", f"{what} ({content})")
        for marker in ("| getline", "|getline", "print |", "print|", "printf |"):
            if marker in code:
                idx = code.find(marker)
                seg = code[idx:idx + 200]
                for _s, _e, _q, content in string_literals(seg):
                    a.nested(content, c.cwd, c.depth, f"{what} (pipe)")
                    break
        if ">" in code:
            for at, _e, _q, content in lits:
                before = code[max(0, at - 3):at]
                if ">" in before and _pathish(content):
                    a.path("write", Word(content, content), c.cwd, via=what)
    lower = code.lower()
    bare = _bare_paths(code)
    # Deleting files.
    deleter = _has(lower, _DELETE_APIS)
    if deleter is not None:
        a.mutates()
        a.add("exec.interpreter", f"{what} deletes files ({deleter.strip('(. ')}); the guard cannot "
              "tell what the code deletes: use rm on literal paths instead", deleter.strip("(. "))
        for lit in [*contents, *bare]:
            if _pathish(lit):
                a.path("delete", Word(lit, lit, tilde=lit.startswith("~")), c.cwd, recursive=True, via=what)
    # Writing files.
    writes = _has(lower, _WRITE_APIS) is not None
    for o in _OPEN_APIS:
        pos = code.find(o)
        while pos != -1:
            seg = _call_args(code, pos + len(o) - 1) if o.endswith("(") else code[pos:pos + 200]
            modes = [x[3] for x in string_literals(seg)]
            if any(m.strip() in ("w", "a", "x", "w+", "a+", "r+", "wb", "ab", "wt", "at", "xb",
                                 "w+b", "a+b", ">", ">>", "+<", "+>", "|-") for m in modes):
                writes = True
            pos = code.find(o, pos + 1)
    if writes:
        a.mutates()
        for lit in [*contents, *bare]:
            if _pathish(lit) and (lit.startswith(("/", "~", "../")) or "/" in lit):
                a.path("write", Word(lit, lit, tilde=lit.startswith("~")), c.cwd, via=what)
    # Reading: a secret file named anywhere in the code is taken as read.
    for lit in [*contents, *bare]:
        if _pathish(lit):
            a.path("read", Word(lit, lit, tilde=lit.startswith("~")), c.cwd, via=what)
    # Network.
    hosts: list[str] = []
    for lit in contents:
        if "://" in lit:
            h = host_of_url(lit)
            if h and not lit.lower().startswith("file:"):
                hosts.append(h)
        elif looks_like_ip(lit.split(":")[0]):
            hosts.append(lit.split(":")[0])
        if lit.lower().startswith("file://"):
            a.path("read", Word("/" + lit[7:].lstrip("/"), lit), c.cwd, via=what)
    raw = _has(lower, _NET_RAW)
    http = _has(lower, _NET_HTTP)
    listen = _has(lower, _LISTEN)
    spawn = _has(lower, _SPAWN_SHELL)
    if lang == "awk":
        raw = raw if raw in ("/inet/tcp/", "/inet/udp/") else None
        http = None
        listen = None
    if (raw or listen) and spawn:
        a.add("net.reverse-shell", f"{what} connects a shell or command runner to a network "
              "socket, handing control of this machine to the other end", raw or listen)
    elif listen and lang != "awk":
        bound = [h for h in hosts if h]
        loopback_only = bound and all(h in ("127.0.0.1", "localhost", "::1") for h in bound)
        if not loopback_only:
            a.contact("0.0.0.0", "listen", what)
    if raw or http:
        kind = "raw" if raw else ("send" if _has(lower, _NET_SEND) else "fetch")
        if hosts:
            for h in hosts[:8]:
                a.contact(h, kind, what)
        elif not listen:
            a.contact(UNKNOWN, kind, what)
    # Evaluating decoded or computed text.
    ev = None
    for e in _EVAL:
        if e in ("exec(", "eval(", "load(", "compile(", "Function(") and not _has_call(code, e):
            continue
        if e in code:
            ev = e
            break
    if ev is not None:
        if _has(code, _DECODE) is not None:
            a.add("exec.decoded", f"{what} evaluates decoded text, which cannot be reviewed; "
                  "decode it to a file and show it first", ev.strip("("))
        else:
            evaluated = [x for x in contents if len(x) > 3]
            if not evaluated:
                a.add("exec.dynamic", f"{what} evaluates code built at run time ({ev.strip('(')})",
                      ev.strip("("))
            elif not what.endswith("(eval)") and lang != "awk":
                for text in evaluated[:4]:
                    if any(k in text for k in ("import", "require", "(", ";")):
                        analyse_code(a, c, lang, text, f"{what} (eval)")
    # Printing the environment.
    if lang == "python":
        idx = code.find("os.environ")
        while idx != -1:
            nxt = code[idx + 10: idx + 11]
            if nxt not in ("[", ".") or code[idx + 10: idx + 18] in (".items(", ".keys()", ".values"):
                a.add("secrets.env-dump", f"{what} prints the environment, tokens and keys "
                      "included; read only the variable you need", "os.environ")
                break
            idx = code.find("os.environ", idx + 1)
    elif _has(code, _ENV_DUMP) is not None:
        a.add("secrets.env-dump", f"{what} prints the environment, tokens and keys included; "
              "read only the variable you need", _has(code, _ENV_DUMP))
    if lang == "js":
        idx = code.find("process.env")
        while idx != -1:
            nxt = code[idx + 11: idx + 12]
            if nxt not in (".", "["):
                a.add("secrets.env-dump", f"{what} prints the environment, tokens and keys "
                      "included; read only the variable you need", "process.env")
                break
            idx = code.find("process.env", idx + 1)
