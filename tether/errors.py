"""The errors tether raises; the CLI turns them into one line on stderr."""

from __future__ import annotations


class TetherError(Exception):
    """A failure to report to the user as one clear line, with no traceback."""


class StoreError(TetherError):
    """The store could not be opened, read or written."""


class PolicyError(TetherError):
    """The policy file is missing a required piece or does not parse."""


class HookInputError(TetherError):
    """A hook event that is not valid input (bad JSON, missing fields)."""
