"""Hosts named in command words: URLs, ``user@host:path`` operands, IP addresses."""

from __future__ import annotations

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1", "ip6-localhost"})


def looks_like_ip(text: str) -> bool:
    parts = text.split(".")
    if len(parts) != 4:
        return False
    return all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)


def host_of_url(url: str) -> str | None:
    """The host of a URL (scheme://[user@]host[:port]/...), lower-cased."""
    if "://" not in url:
        return None
    rest = url.split("://", 1)[1]
    # A backslash ends the host as a slash does: browsers and most HTTP libraries read
    # `https://evil.example\@docs.python.org/` as a request to evil.example.
    for sep in "/?#\\":
        rest = rest.split(sep, 1)[0]
    rest = rest.rsplit("@", 1)[-1]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0].lower()
    return rest.split(":", 1)[0].lower() or None


def host_of_remote(text: str) -> str | None:
    """The host of an scp/rsync style operand ``[user@]host:path``; None for a local path."""
    if "://" in text:
        return host_of_url(text)
    if ":" not in text or text.startswith(("/", ".", "~")):
        return None
    head = text.split(":", 1)[0]
    if "/" in head or not head:
        return None
    return head.rsplit("@", 1)[-1].lower()


def is_loopback(host: str) -> bool:
    return host in _LOOPBACK or host.startswith("127.")
