"""Glob matching for policy patterns, without ``re`` or ``fnmatch``.

Compiling a hundred patterns with ``re`` costs several milliseconds at start-up,
which the hook cannot afford. Patterns here are split into path segments once;
most segments are literals, prefixes, suffixes or infixes that plain string
methods match.

Two flavours:

* path globs (``PathGlob``): ``*`` and ``?`` stay inside one segment, ``**``
  spans any number of segments, ``[abc]`` / ``[!abc]`` are character classes.
* text globs (``text_match``): ``*`` matches any run of characters, spaces and
  slashes included; used for command-line patterns such as ``npm run *``.
"""

from __future__ import annotations

_WILD = frozenset("*?[")


def _class_match(cls: str, ch: str) -> bool:
    """Whether ``ch`` is in a bracket expression body such as ``a-z0-9`` or ``!ab``."""
    negate = cls[:1] in ("!", "^")
    body = cls[1:] if negate else cls
    found = False
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            if body[i] <= ch <= body[i + 2]:
                found = True
            i += 3
        else:
            if body[i] == ch:
                found = True
            i += 1
    return found != negate


def _wild(pat: str, s: str, star_crosses_slash: bool) -> bool:
    """Match one wildcard pattern against one string (iterative, with backtracking on ``*``)."""
    pi = si = 0
    star_p = star_s = -1
    while si < len(s):
        if pi < len(pat):
            c = pat[pi]
            if c == "*":
                star_p, star_s = pi, si
                pi += 1
                continue
            if c == "?" and (star_crosses_slash or s[si] != "/"):
                pi += 1
                si += 1
                continue
            if c == "[":
                # A "]" right after "[" or "[!" is a member, not the end: "[!]a]" is one class.
                end = pat.find("]", pi + (3 if pat[pi + 1:pi + 2] in ("!", "^") else 2))
                if end != -1:
                    if _class_match(pat[pi + 1:end], s[si]):
                        pi = end + 1
                        si += 1
                        continue
                elif s[si] == "[":
                    pi += 1
                    si += 1
                    continue
            elif c == s[si]:
                pi += 1
                si += 1
                continue
        if star_p != -1 and (star_crosses_slash or s[star_s] != "/"):
            star_s += 1
            si = star_s
            pi = star_p + 1
            continue
        return False
    while pi < len(pat) and pat[pi] == "*":
        pi += 1
    return pi == len(pat)


def _segment(text: str) -> tuple[str, str]:
    """(kind, text) for one pattern segment: the cheapest matcher that fits it."""
    if text == "**":
        return ("any", text)
    if "*" not in text and "?" not in text and "[" not in text:
        return ("lit", text)
    if text == "*":
        return ("star", text)
    inner = text[1:-1]
    if text[0] == "*" and "*" not in text[1:] and "?" not in text and "[" not in text:
        return ("suffix", text[1:])
    if text[-1] == "*" and "*" not in text[:-1] and "?" not in text and "[" not in text:
        return ("prefix", text[:-1])
    if (len(text) > 2 and text[0] == "*" and text[-1] == "*" and "*" not in inner
            and "?" not in inner and "[" not in inner):
        return ("infix", inner)
    return ("wild", text)


def seg_match(kind: str, text: str, s: str) -> bool:
    if kind == "lit":
        return s == text
    if kind == "star":
        return True
    if kind == "suffix":
        return s.endswith(text)
    if kind == "prefix":
        return s.startswith(text)
    if kind == "infix":
        return text in s
    return _wild(text, s, False)


Segments = tuple[tuple[str, str], ...]
# A compiled path pattern: (anchor, segments). Plain tuples, so that the policy cache
# (marshal) can hold them and loading costs no compilation.
Compiled = tuple[str, Segments]


def _match_segments(pats: Segments, segs: list[str], pi: int = 0, si: int = 0) -> bool:
    while pi < len(pats):
        kind, text = pats[pi]
        if kind == "any":
            if pi == len(pats) - 1:
                return True
            return any(_match_segments(pats, segs, pi + 1, k) for k in range(si, len(segs) + 1))
        if si >= len(segs) or not seg_match(kind, text, segs[si]):
            return False
        pi += 1
        si += 1
    return si == len(segs)


def compile_path(pattern: str, home: str) -> Compiled:
    """Compile a path pattern.

    The anchor says what the pattern is matched against:

    * ``"name"``: the last segment of any path (a pattern with no slash, e.g. ``*.pem``);
    * ``"abs"``: the absolute path (patterns starting with ``/``, ``~/`` after expansion,
      or ``**/``, which may match anywhere);
    * ``"rel"``: the path relative to the workspace root (other patterns with a slash).
    """
    p = pattern
    if p.startswith("~/") or p == "~":
        p = home.rstrip("/") + p[1:]
    if p.endswith("/") and len(p) > 1:
        p = p.rstrip("/")
    if "/" not in p:
        return ("name", (_segment(p),))
    if p.startswith("/"):
        return ("abs", tuple(_segment(x) for x in p.split("/")[1:] if x))
    if p.startswith("**/"):
        return ("abs", tuple(_segment(x) for x in p.split("/") if x))
    body = p[2:] if p.startswith("./") else p
    return ("rel", tuple(_segment(x) for x in body.split("/") if x))


def match_path(g: Compiled, abs_segments: list[str], rel_segments: list[str] | None) -> bool:
    anchor, segs = g
    if anchor == "name":
        kind, text = segs[0]
        return bool(abs_segments) and seg_match(kind, text, abs_segments[-1])
    if anchor == "abs":
        return _match_segments(segs, abs_segments)
    if rel_segments is None:
        return False
    return _match_segments(segs, rel_segments)


def literal_prefix(g: Compiled) -> list[str]:
    """The leading literal segments (used to tell whether a folder contains matches)."""
    out: list[str] = []
    for kind, text in g[1]:
        if kind != "lit":
            break
        out.append(text)
    return out


class PathGlob:
    """A compiled path pattern as an object, for callers outside the hot path."""

    __slots__ = ("compiled", "pattern")

    def __init__(self, pattern: str, home: str) -> None:
        self.pattern = pattern
        self.compiled = compile_path(pattern, home)

    def match(self, abs_segments: list[str], rel_segments: list[str] | None) -> bool:
        return match_path(self.compiled, abs_segments, rel_segments)


def text_match(pattern: str, text: str) -> bool:
    """Match a command-line pattern; ``*`` spans anything, spaces included."""
    if "*" not in pattern and "?" not in pattern and "[" not in pattern:
        return pattern == text
    return _wild(pattern, text, True)


def name_match(pattern: str, name: str) -> bool:
    """fnmatch-like match of one file name (``*`` does not cross ``/``)."""
    if not (_WILD & set(pattern)):
        return pattern == name
    return _wild(pattern, name, False)
