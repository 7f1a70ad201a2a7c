"""Reading shell text: the fast path, the tree-sitter walker, and their agreement."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.guard.shell import fast_parse, parse, split_words
from tether.guard.syntax import UNKNOWN, Script, decode_ansi_c
from tether.guard.walker import parse_tree

HOME = "/home/u"
CWD = "/w"


def argvs(script: Script) -> list[list[str]]:
    return [c.words() for c in script.commands]


def producers(script: Script) -> list[set[int]]:
    index = {id(c): i for i, c in enumerate(script.commands)}
    return [{index[id(p)] for p in c.producers or []} for c in script.commands]


def norm(script: Script, with_producers: bool = True) -> list[object]:
    index = {id(c): i for i, c in enumerate(script.commands)}
    out: list[object] = []
    for c in script.commands:
        out.append((
            tuple((w.text, w.quoted, w.glob, w.tilde, w.raw) for w in c.argv),
            # The order of redirections does not change what the guard checks.
            tuple(sorted((r.op, r.fd or "", r.target.text if r.target else "", r.text or "")
                         for r in c.redirects)),
            tuple((k, v.text) for k, v in c.assigns),
            c.cwd,
            c.stdin,
            tuple(sorted(index[id(p)] for p in c.producers)) if c.producers and with_producers else None,
        ))
    return out


def test_lists_pipelines_and_producers() -> None:
    s = parse("a && b || c; d | e | f & g", CWD, HOME)
    assert argvs(s) == [["a"], ["b"], ["c"], ["d"], ["e"], ["f"], ["g"]]
    by_name = {c.words()[0]: c for c in s.commands}
    assert by_name["d"].producers is None
    assert [p.words()[0] for p in by_name["f"].producers or []] == ["d", "e"]


def test_quotes_escapes_and_expansions() -> None:
    s = parse("echo 'a b' \"c $HOME\" $'x\\ty' \\rm ~/f \"~/g\" $UNSET", CWD, HOME)
    argv = s.commands[0].argv
    assert [w.text for w in argv[:4]] == ["echo", "a b", f"c {HOME}", "x\ty"]
    assert argv[4].text == "rm"
    assert argv[5].tilde and not argv[6].tilde
    assert argv[7].text == UNKNOWN


def test_substitutions_are_commands_too() -> None:
    s = parse('echo "$(rm -rf x)" `ls` <(cat a) >(tee b) $(( $(id -u) + 1 ))', CWD, HOME)
    names = {c.words()[0] for c in s.commands}
    assert {"rm", "ls", "cat", "tee", "id", "echo"} <= names
    echo = next(c for c in s.commands if c.words()[0] == "echo")
    assert echo.argv[1].inner and echo.argv[1].inner[0].words() == ["rm", "-rf", "x"]


def test_redirections_and_heredocs() -> None:
    s = parse("cmd arg 2>/dev/null >out.txt 2>&1 <in.txt", CWD, HOME)
    reds = [(r.op, r.fd, r.target.text if r.target else None) for r in s.commands[0].redirects]
    assert reds == [(">", "2", "/dev/null"), (">", None, "out.txt"), (">&", "2", "1"), ("<", None, "in.txt")]
    s = parse("cat <<'EOF' > f.txt\nhello $X\nEOF\necho done", CWD, HOME)
    assert s.commands[0].stdin == "hello $X\n"
    assert [r.target.text for r in s.commands[0].redirects if r.target] == ["f.txt"]
    assert s.commands[1].words() == ["echo", "done"]
    s = parse("cat <<EOF | sh\nrm -rf /\nEOF", CWD, HOME)
    sh = next(c for c in s.commands if c.words() == ["sh"])
    assert sh.producers and sh.producers[0].stdin == "rm -rf /\n"


def test_words_after_a_redirection_are_arguments() -> None:
    s = parse("git checkout >out -- file", CWD, HOME)
    assert s.commands[0].words() == ["git", "checkout", "--", "file"]


def test_working_folder_is_tracked() -> None:
    s = parse("cd src && make; cd /tmp; ls; (cd /etc; cat x); pwd; cd; cd -; rm y", CWD, HOME)
    cwds = {tuple(c.words()): c.cwd for c in s.commands}
    assert cwds[("make",)] == "/w/src"
    assert cwds[("ls",)] == "/tmp"
    assert cwds[("cat", "x")] == "/etc"
    assert cwds[("pwd",)] == "/tmp"
    assert cwds[("rm", "y")] is None


def test_pipe_binds_tighter_than_and() -> None:
    # The grammar groups `a && b 2>&1 | c` as `(a && b) | c`; bash pipes only b.
    s = parse("cd src && make 2>&1 | tail", CWD, HOME)
    tail = next(c for c in s.commands if c.words() == ["tail"])
    assert tail.cwd == "/w/src"
    assert [p.words() for p in tail.producers or []] == [["make"]]


def test_loops_bind_literal_values_and_functions_run() -> None:
    s = parse("for d in a b; do rm -rf $d; done; f() { rm -rf z; }; f", CWD, HOME)
    assert ["rm", "-rf", "a"] in argvs(s) and ["rm", "-rf", "b"] in argvs(s)
    assert ["rm", "-rf", "z"] in argvs(s)
    assert parse(":(){ :|:& };:", CWD, HOME).fork_bomb
    assert not parse("f() { echo hi; }; f", CWD, HOME).fork_bomb


def test_variables_assigned_earlier_are_known() -> None:
    s = parse('X=/etc; Y="$X/ssh"; rm -rf $Y', CWD, HOME)
    assert s.commands[-1].words() == ["rm", "-rf", "/etc/ssh"]
    s = parse("A='-rf /'; rm $A", CWD, HOME)
    assert s.commands[-1].words() == ["rm", "-rf", "/"]


def test_syntax_errors_are_reported() -> None:
    for text in ("echo 'unterminated", "if then", "a && && b", "(", "echo $(", "f(x)"):
        assert parse(text, CWD, HOME).problems, text


def test_grammar_bugs_are_noticed_not_trusted() -> None:
    # tree-sitter-bash joins the second line to `cat`'s arguments here.
    text = "echo $X | cat | cat\nrm -rf / && true"
    assert parse(text, CWD, HOME).problems
    # It drops the "-" before 2>&1.
    assert parse_tree("ls - 2>&1", CWD, HOME, 0, None).problems


def test_non_ascii_input_cannot_crash_the_parser() -> None:
    # tree-sitter-bash 0.25.1 segfaults on this input when given it raw; a crashed hook
    # process would let the tool call through. Run in a child so a regression fails the
    # test instead of killing the test run.
    code = ("from tether.guard.shell import parse\n"
            "s = parse('\\u00c8{\\U000eccfc echo h\\u00e9llo', '/w', '/h')\n"
            "print(ascii(s.commands[-1].words()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ascii(["\u00c8{\U000eccfc", "echo", "h\u00e9llo"])


def test_grammar_quirks_follow_bash() -> None:
    # Not a valid name, so bash runs a command called "1A=2".
    assert parse("1A=2 git reset --hard", CWD, HOME).commands[0].words()[0] == "1A=2"


def test_ansi_c_and_split_words() -> None:
    assert decode_ansi_c("a\\x41\\101\\n\\u00e9") == "aAA\né"
    assert split_words("a 'b c' \"d e\" f") == ["a", "b c", "d e", "f"]


def test_commit_message_idiom_takes_the_fast_path() -> None:
    text = "git add -A && git commit -m \"$(cat <<'EOF'\nfix: x\n\nmore\nEOF\n)\""
    fast = fast_parse(text, CWD, HOME)
    assert fast is not None
    assert norm(fast) == norm(parse_tree(text, CWD, HOME, 0, None))
    cat = next(c for c in fast.commands if c.words() == ["cat"])
    assert cat.stdin == "fix: x\n\nmore\n"


# -- properties ---------------------------------------------------------------

_WORDS = st.sampled_from([
    "ls", "git", "rm", "-rf", "build", "src/app.py", "~/x", "*.py", "a=b", "FOO=1", "2", "-",
    "'quoted word'", "\"double q\"", "'a'\"b\"c", "x.txt", "cd", "..", "/etc", "--flag=v",
    "\"with (parens) | pipes\"", "'multi\nline'", "echo", "cat", "[", "]", "\"esc \\\" q\"",
])
_OPS = st.sampled_from([" ", " ", " ", " && ", " || ", "; ", " | ", " & ", " > ", " >> ",
                        " 2>&1 ", " < ", " 2> ", " &> ", "\n"])


@st.composite
def simple_subset(draw: st.DrawFn) -> str:
    parts = [draw(_WORDS)]
    for _ in range(draw(st.integers(0, 8))):
        parts.append(draw(_OPS))
        parts.append(draw(_WORDS))
    return "".join(parts)


@given(simple_subset())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_fast_path_agrees_with_the_parser(text: str) -> None:
    fast = fast_parse(text, CWD, HOME)
    if fast is None:
        return
    tree = parse_tree(text, CWD, HOME, 0, None)
    quirks = ("the parser skipped", "the parser joined", "words after a redirection")
    if tree.problems and all(p.startswith(quirks) for p in tree.problems):
        # Known grammar bugs (a lone "-" dropped before `2>&1`; the next line joined to a
        # command after a long pipeline). The walker notices them, so the guard asks
        # instead of misreading; the fast path reads these lines as bash does.
        return
    assert not tree.problems, (text, tree.problems)
    assert norm(fast, with_producers=False) == norm(tree, with_producers=False), text
    # The grammar sometimes groups `a && b > f | c` as `(a && b > f) | c`; the walker then
    # counts a as feeding c too. More sources is the safe direction; fewer would not be.
    for mine, theirs in zip(producers(fast), producers(tree), strict=True):
        assert mine <= theirs, text


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_parse_never_raises(text: str) -> None:
    script = parse(text, CWD, HOME)
    assert isinstance(script.problems, list)


@given(st.text(alphabet=st.sampled_from(list("abc -|&;<>()'\"$`\\{}!#*~\n=")), max_size=60))
@settings(max_examples=400, deadline=None)
def test_parse_never_raises_on_shell_punctuation(text: str) -> None:
    parse(text, CWD, HOME)
