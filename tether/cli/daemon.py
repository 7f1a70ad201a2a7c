"""The daemon's command: tether serve [--detach | --stop]."""

from __future__ import annotations

import click

from tether.errors import TetherError


@click.command()
@click.option("--detach", is_flag=True, help="Start the daemon in the background and return.")
@click.option("--stop", "stop_", is_flag=True, help="Stop the running daemon.")
def serve(detach: bool, stop_: bool) -> None:
    """Run the per-user daemon that answers every workspace's hooks.

    Hooks hand their events to it over a Unix socket and do the work themselves when it
    is not running, so it only ever makes them faster. Without options it runs in the
    foreground until interrupted.
    """
    from tether.daemon import client, server

    if detach and stop_:
        raise click.UsageError("--detach and --stop exclude each other")
    try:
        if stop_:
            pid = server.stop()
            click.echo("no daemon was running" if pid is None else f"stopped the daemon (pid {pid})", err=True)
            return
        if detach:
            pid = server.detach()
            click.echo(f"the daemon runs (pid {pid}), socket {client.socket_path()}", err=True)
            return
        server.serve()
    except server.DaemonError as exc:
        raise TetherError(str(exc)) from None


def register(group: click.Group) -> None:
    group.add_command(serve)
