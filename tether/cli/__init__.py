"""The `tether` command: a thin click layer over the library.

Domain errors (TetherError) become one line on stderr and a non-zero exit here,
and nowhere else. `--json` output is one JSON document on stdout; everything
for people goes to stderr or is printed only without `--json`.
"""

from __future__ import annotations

import sys

import click

from tether import __version__
from tether.cli import daemon, guard, history, record
from tether.cli.common import TetherGroup


@click.group(cls=TetherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tether")
def cli() -> None:
    """Tether: a guard and flight recorder for AI coding agents.

    Set up a repository with `tether init`, work with your agent as usual, then
    look back with `tether log`, `tether show STEP` and `tether diff`.
    """


record.register(cli)
history.register(cli)
guard.register(cli)
daemon.register(cli)


def main() -> None:
    try:
        cli.main(prog_name="tether")
    except BrokenPipeError:
        # Output piped into `head`: not an error worth a traceback.
        sys.stderr.close()
        sys.exit(1)
