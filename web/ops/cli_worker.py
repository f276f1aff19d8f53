"""`ourdesign worker --queues ...`: which queue workers a worker process runs.

Any number of worker processes, on any machines, may share one PostgreSQL database: rows
are claimed with `FOR UPDATE SKIP LOCKED` under leases (federation.queue). Giving the
inbox and the deliveries their own processes keeps a flood of one from delaying the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import click

from web.instance import Instance

QUEUES = ("inbox", "delivery", "thumbnail", "scheduled", "mail")
Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def queue_names(given: str) -> list[str]:
    """The queues named in `--queues` (comma-separated), checked; a UsageError otherwise."""
    names = [name.strip() for name in given.split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if unknown or not names:
        raise click.UsageError(
            f"--queues takes one or more of {', '.join(QUEUES)}, separated by commas"
            + (f"; not {', '.join(unknown)}" if unknown else "")
        )
    return list(dict.fromkeys(names))


def queue_runners(instance: Instance, names: list[str]) -> list[Runner]:
    """The `run_forever` of each named queue's worker (mail only when mail is set up)."""
    mail = instance.mail_worker
    runners: dict[str, Runner | None] = {
        "inbox": instance.inbox_worker.run_forever,
        "delivery": instance.delivery_worker.run_forever,
        "thumbnail": instance.thumbnail_worker.run_forever,
        "scheduled": instance.scheduled_worker.run_forever,
        "mail": mail.run_forever if mail is not None else None,
    }
    return [runner for name in names if (runner := runners[name]) is not None]
