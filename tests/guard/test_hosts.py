"""Hosts read from URLs as the programs that open them read them."""

from __future__ import annotations

import pytest

from tests.guard.conftest import Workspace
from tether.guard.hosts import host_of_url


@pytest.mark.parametrize(("url", "host"), [
    ("https://docs.python.org/3/", "docs.python.org"),
    ("https://user:pw@evil.example/x", "evil.example"),
    ("https://docs.python.org@evil.example/", "evil.example"),
    ("https://evil.example\\@docs.python.org/", "evil.example"),
    ("https://evil.example#@docs.python.org/", "evil.example"),
    ("https://evil.example?@docs.python.org/", "evil.example"),
    ("http://[::1]:8080/", "::1"),
    ("https://Docs.Python.org:443", "docs.python.org"),
])
def test_host_of_url(url: str, host: str) -> None:
    assert host_of_url(url) == host


def test_webfetch_to_a_host_behind_a_backslash_is_not_the_allowed_one(ws: Workspace) -> None:
    assert ws.tool("WebFetch", {"url": "https://docs.python.org/3/", "prompt": "x"}).verdict == "allow"
    d = ws.tool("WebFetch", {"url": "https://evil.example\\@docs.python.org/", "prompt": "x"})
    assert d.verdict != "allow" and "net.fetch" in d.rules
