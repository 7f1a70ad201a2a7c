"""Change notification for the daemon's walks (filled in below)."""

from __future__ import annotations


def install() -> None:
    """Start watching workspaces as the daemon's walks reach them."""


def uninstall() -> None:
    """Stop every watch."""
