"""Policy path globs held against two libraries that match the same pattern language.

``tether.guard.globs`` matches policy patterns by hand, for speed. Two references:

* ``wcmatch.glob.globmatch`` with GLOBSTAR | DOTGLOB (| MATCHBASE for a pattern without
  a slash): a path matched by a pattern directly, as globs.py does. DOTGLOB because ``*``
  here matches a leading dot (``*.env`` covers ``.env``); MATCHBASE because a pattern
  without a slash matches a file or folder name anywhere.
* ``pathspec.GitIgnoreSpec`` (git's own behaviour; the "gitignore" factory of pathspec 1.x
  lets ``/*`` miss ``a/a``, which git ignores): a path is ignored when it *or one of its
  parent folders* matches. globs.py answers for the path alone, so it is compared through
  the same lifting: some leading part of the path matches.

Where the semantics differ by design, the references are given the pattern mapped:

* anchoring: ``/x`` and ``~/x`` (after expansion) are absolute and ``**/x`` matches
  anywhere in the absolute path, so both libraries get the absolute path (without its
  leading slash) as the subject; ``./x`` and ``x/y`` are relative to the workspace root,
  so they get the relative path, and gitignore gets ``/x`` (in gitignore ``./x`` names a
  folder called ``.``) — and a path outside the workspace never matches them;
* a trailing ``/`` is dropped: gitignore means "folders only", but the guard has no
  file type for a path that may not exist yet, so ``foo/`` covers a file ``foo`` too;
* a trailing ``/**`` also matches the folder itself (docs/policy.md: "``**`` spans any
  number, including none"), which neither library does: the reference is "the pattern,
  or the pattern without its trailing ``/**``".

The generator stays inside the documented language: no ``\\`` escapes, no leading ``!``
(negation is ``except`` in a policy) or ``#``, no spaces (gitignore strips trailing ones),
no ``{a,b}`` braces, no ``.`` or ``..`` segments (paths are resolved before matching), no
unclosed ``[`` (git then matches nothing; globs.py and wcmatch read it as a plain ``[``), no
reversed range such as ``[b-a]`` (pathspec cannot compile one).
"""

from __future__ import annotations

import fnmatch

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wcmatch import glob as wc

from tether.guard.globs import PathGlob

HOME = "/h"
ROOT = ["r"]
WC_FLAGS = wc.GLOBSTAR | wc.DOTGLOB

# A small alphabet, so that random patterns and paths meet often; ']' and '-' because they
# are special inside a character class and plain outside one.
PATH_CHARS = "ab.-]"
SUBJECT_CHARS = PATH_CHARS + "rh"
LITERAL_CHARS = "ab.-"


@st.composite
def char_class(draw: st.DrawFn) -> str:
    negate = draw(st.sampled_from(["", "", "!", "^"]))
    first = draw(st.sampled_from(["", "", "]", "-"]))  # literal when first
    # No reversed range such as b-a: pathspec cannot compile one (and it matches nothing).
    items = draw(st.lists(st.sampled_from(["a", "b", ".", "a-b", ".-b"]), min_size=1, max_size=3))
    body = first + "".join(items)
    last = draw(st.sampled_from(["", "", "-"]))  # literal when last
    return f"[{negate}{body}{last}]"


@st.composite
def segment(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:
        return "**"
    tokens = draw(st.lists(st.one_of(
        st.sampled_from(list(LITERAL_CHARS)), st.just("*"), st.just("?"), char_class()),
        min_size=1, max_size=4))
    text = "".join(tokens)
    if text in (".", ".."):
        text += "a"
    return text


@st.composite
def pattern(draw: st.DrawFn) -> str:
    segs = draw(st.lists(segment(), min_size=1, max_size=4))
    lead = draw(st.sampled_from(["", "", "./", "/", "~/", "**/"]))
    tail = draw(st.sampled_from(["", "", "", "/"]))
    return lead + "/".join(segs) + tail


@st.composite
def instance(draw: st.DrawFn, pat: str) -> list[str]:
    """Segments of a path the pattern is meant to match (mutated now and then)."""
    if pat.startswith("~/"):
        pat = HOME + pat[1:]
    out: list[str] = []
    for seg in pat.strip("/").split("/"):
        if seg in ("", "."):
            continue
        if seg == "**":
            out += draw(st.lists(st.sampled_from(["a", ".b", "r", "h"]), max_size=2))
            continue
        text, i = "", 0
        while i < len(seg):
            c = seg[i]
            if c == "*":
                text += draw(st.text(PATH_CHARS, max_size=2))
            elif c == "?":
                text += draw(st.sampled_from(PATH_CHARS))
            elif c == "[" and seg.find("]", i + (3 if seg[i + 1] in "!^" else 2)) != -1:
                end = seg.find("]", i + (3 if seg[i + 1] in "!^" else 2))
                text += draw(st.sampled_from(PATH_CHARS))  # in the class or not: both are useful
                i = end
            else:
                text += c
            i += 1
        out.append(text or "a")
    if draw(st.booleans()):
        out.append(draw(st.text(PATH_CHARS, min_size=1, max_size=2)))
    return [s if s not in (".", "..") else s + "a" for s in out]


def _strip_tail(p: str) -> str:
    while p.endswith("/**"):
        p = p[:-3]
    return p


def reference_subject(pat: str, abs_segs: list[str], rel: list[str] | None) -> tuple[str, str] | None:
    """(pattern, subject) mapped for the libraries, or None when globs.py must not match."""
    p = pat
    if p == "~" or p.startswith("~/"):
        p = HOME + p[1:]
    if len(p) > 1:
        p = p.rstrip("/")
    if "/" not in p:
        return p, "/".join(abs_segs)
    if p.startswith("/") or p.startswith("**/"):
        return p, "/".join(abs_segs)
    if rel is None or not rel:
        return None
    body = p[2:] if p.startswith("./") else p
    return "/" + body, "/".join(rel)


def wcmatch_says(pat: str, abs_segs: list[str], rel: list[str] | None) -> bool:
    mapped = reference_subject(pat, abs_segs, rel)
    if mapped is None:
        return False
    p, subject = mapped
    flags = WC_FLAGS if "/" in p else WC_FLAGS | wc.MATCHBASE
    candidates = {p, _strip_tail(p)} - {"", "/"}
    return any(wc.globmatch(subject, c.lstrip("/"), flags=flags) for c in candidates)


def _explicit_classes(p: str) -> str:
    """Each character class rewritten as the list of its members among the characters paths
    here are made of.

    pathspec copies a class into a regular expression as it is, so ``[!a]`` and the range
    ``[.-b]`` match ``/``: ``*[!a]?`` then matches ``b/b`` across two segments, where git
    (``git check-ignore``) and globs.py do not. Members are read with ``fnmatch``, a third
    implementation.
    """
    out, i = "", 0
    while i < len(p):
        if p[i] == "[":
            negate = p[i + 1] in "!^"
            end = p.index("]", i + (3 if negate else 2))
            body = p[i + (2 if negate else 1):end]
            kept = [c for c in SUBJECT_CHARS if fnmatch.fnmatchcase(c, f"[{body}]") != negate]
            kept.sort(key=lambda c: (c != "]", c == "-"))  # ']' first and '-' last are literal
            out += "[" + ("".join(kept) or "z") + "]"  # 'z' is in no path here
            i = end + 1
        else:
            out += p[i]
            i += 1
    return out


def gitignore_says(pat: str, abs_segs: list[str], rel: list[str] | None) -> bool:
    mapped = reference_subject(pat, abs_segs, rel)
    if mapped is None:
        return False
    p, subject = mapped
    p = _explicit_classes(p)
    lines = sorted({p, _strip_tail(p)} - {"", "/"})
    return pathspec.GitIgnoreSpec.from_lines(lines).match_file(subject)


def globs_says(pat: str, abs_segs: list[str], rel: list[str] | None) -> bool:
    return PathGlob(pat, HOME).match(abs_segs, rel)


def globs_lifted(pat: str, abs_segs: list[str], rel: list[str] | None) -> bool:
    """gitignore's rule on top of globs.py: the path or one of its folders matches."""
    g = PathGlob(pat, HOME)
    n_root = len(abs_segs) - len(rel) if rel is not None else len(abs_segs)
    for k in range(1, len(abs_segs) + 1):
        sub_rel = rel[:k - n_root] if rel is not None and k > n_root else None
        if g.match(abs_segs[:k], sub_rel):
            return True
    return False


def split(abs_segs: list[str]) -> tuple[list[str], list[str] | None]:
    if abs_segs[:len(ROOT)] == ROOT and len(abs_segs) > len(ROOT):
        return abs_segs, abs_segs[len(ROOT):]
    return abs_segs, None


def check(pat: str, abs_segs: list[str]) -> None:
    abs_segs, rel = split(abs_segs)
    assert globs_says(pat, abs_segs, rel) == wcmatch_says(pat, abs_segs, rel), (pat, abs_segs)
    assert globs_lifted(pat, abs_segs, rel) == gitignore_says(pat, abs_segs, rel), (pat, abs_segs)


paths = st.lists(st.one_of(st.text(PATH_CHARS, min_size=1, max_size=3), st.sampled_from(["r", "h"])),
                 min_size=1, max_size=5).map(lambda s: [x if x not in (".", "..") else x + "a" for x in s])


@given(pattern(), paths)
@settings(max_examples=500, deadline=None)
def test_random_paths_agree(pat: str, abs_segs: list[str]) -> None:
    check(pat, abs_segs)


@given(st.data())
@settings(max_examples=500, deadline=None)
def test_paths_made_from_the_pattern_agree(data: st.DataObject) -> None:
    pat = data.draw(pattern())
    abs_segs = data.draw(instance(pat))
    if pat.startswith(("./", "~/", "/", "**/")) or "/" not in pat.rstrip("/"):
        base = abs_segs
    else:
        base = ROOT + abs_segs
    check(pat, base or ["a"])


@pytest.mark.parametrize(("pat", "path", "expected"), [
    ("*.pem", "/r/keys/a.pem", True),
    (".env", "/r/.env/x", False),           # names match the last segment only
    ("~/.ssh/**", "/h/.ssh", True),         # trailing /** covers the folder itself
    ("src/*.py", "/r/src/d/a.py", False),
    ("./.git", "/r/.git", True),
    ("./.git", "/r/a/.git", False),
    ("**/secrets/**", "/x/secrets/y", True),
    ("[!.]*", "/r/.a", False),
    # A ']' right after '[!' is a member: globs.py used to end the class there, so that
    # "[!]a]" meant "any character, then 'a]'".
    ("[!]a]", "/r/b", True),
    ("[!]a]", "/r/]", False),
    ("[]a]", "/r/]", True),
])
def test_examples(pat: str, path: str, expected: bool) -> None:
    abs_segs, rel = split(path.strip("/").split("/"))
    assert globs_says(pat, abs_segs, rel) is expected
    check(pat, abs_segs)
