"""Pieces shared by the command modules: error handling, --json, the workspace's store."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tether.errors import TetherError

F = TypeVar("F", bound=Callable[..., Any])



class TetherGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TetherError as exc:
            raise click.ClickException(str(exc)) from None


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")(fn)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def root() -> str:
    from tether.workspace import require_root

    return require_root(os.getcwd())


def with_store(fn: F) -> F:
    """Pass an open store of the current workspace as the first argument."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tether.record.store import Store

        store = Store.open(root())
        try:
            return fn(store, *args, **kwargs)
        finally:
            store.close()

    return wrapper  # type: ignore[return-value]
