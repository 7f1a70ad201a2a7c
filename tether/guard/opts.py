"""Splitting a command's arguments into options and operands, the way getopt would.

Each analyser declares which short and long options take a value; everything
else starting with ``-`` is a flag. ``--`` ends the options. With ``stop=True``
the first operand ends the options (wrappers such as sudo or env, whose
operands are the command to run).
"""

from __future__ import annotations

from tether.guard.syntax import Word


class Parsed:
    __slots__ = ("flags", "operands", "rest", "values")

    def __init__(self) -> None:
        self.flags: set[str] = set()
        self.values: dict[str, list[Word]] = {}
        self.operands: list[Word] = []
        self.rest: list[Word] = []

    def has(self, *names: str) -> bool:
        return any(n in self.flags or n in self.values for n in names)

    def value(self, *names: str) -> Word | None:
        for n in names:
            v = self.values.get(n)
            if v:
                return v[-1]
        return None

    def all_values(self, *names: str) -> list[Word]:
        out: list[Word] = []
        for n in names:
            out.extend(self.values.get(n, []))
        return out


def parse(args: list[Word], short_val: str = "", long_val: frozenset[str] | set[str] = frozenset(),
          stop: bool = False, optional_long: frozenset[str] | set[str] = frozenset()) -> Parsed:
    """Split ``args``. ``short_val``: letters whose option takes a value; ``long_val``: long
    names (without dashes) that take a value; ``optional_long``: long names whose value
    may only be given as ``--name=value``."""
    p = Parsed()
    i = 0
    n = len(args)
    while i < n:
        w = args[i]
        t = w.text
        if t == "--":
            p.operands.extend(args[i + 1:])
            p.rest = args[i + 1:]
            return p
        if t.startswith("--") and len(t) > 2:
            name, eq, val = t[2:].partition("=")
            if eq:
                p.values.setdefault(name, []).append(Word(val, w.raw, w.quoted, w.glob))
            elif name in long_val and name not in optional_long and i + 1 < n:
                p.values.setdefault(name, []).append(args[i + 1])
                i += 1
            else:
                p.flags.add(name)
            i += 1
            continue
        if t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                c = t[j]
                if c in short_val:
                    rest = t[j + 1:]
                    if rest:
                        p.values.setdefault(c, []).append(Word(rest, w.raw))
                    elif i + 1 < n:
                        p.values.setdefault(c, []).append(args[i + 1])
                        i += 1
                    else:
                        p.flags.add(c)
                    break
                p.flags.add(c)
                j += 1
            i += 1
            continue
        if stop:
            p.rest = args[i:]
            return p
        p.operands.append(w)
        i += 1
    return p
