"""What every `ourdesign` subcommand shares: its settings, and running its work on an instance.

Kept apart from `web.ops.cli` so that the command modules import it, and `web.ops.cli`
imports them, with no cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import click

from federation.errors import FederationError
from federation.settings import Settings
from web.instance import Instance
from web.instance_start import open_instance

T = TypeVar("T")


def settings_of(ctx: click.Context) -> Settings:
    """The settings the `ourdesign` group read (from --config or the environment)."""
    settings: Settings = ctx.obj
    return settings


def run_plain(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro`; a FederationError becomes a click error showing its message."""
    try:
        return asyncio.run(coro)
    except FederationError as exc:
        raise click.ClickException(exc.message) from exc


def run(settings: Settings, work: Callable[[Instance], Awaitable[T]]) -> T:
    """Open the instance (migrating its database), run `work` on it, and close it."""

    async def main() -> T:
        async with open_instance(settings) as instance:
            return await work(instance)

    return run_plain(main())
