"""Operations: liveness, readiness and Prometheus metrics.

`install(app)` adds the request-counting middleware and its counters (on `app.state`, so
several instances can share a process); nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from federation.queue import CANCELLED, DONE, FAILED, PENDING
from inbox.models import InboxItem
from objects.push_models import PushJob
from outbox.models import Delivery, RemoteHost
from web.bearer import staff_actor
from web.http import client_ip
from web.instance import instance_of
from web.logs import log_request
from web.ops.checks import check_disks, schema_problem
from web.schema import current_revisions, head_revisions
from web.scopes import ScopedRoute

LOCAL_CLIENTS = frozenset({"127.0.0.1", "::1"})
QUEUE_STATES = (PENDING, DONE, FAILED, CANCELLED)
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
READY_TIMEOUT_SECONDS = 5.0


@dataclass
class OpsState:
    """Per-app counters and the lazily read migration head."""

    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    heads: tuple[str, ...] | None = None


def install(app: Starlette) -> None:
    app.state.ops = OpsState()
    app.add_middleware(RequestMetrics)


class RequestMetrics:
    """Pure ASGI middleware counting and logging HTTP requests by method and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            ops: OpsState = scope["app"].state.ops  # set by install() with this middleware
            ops.requests[(str(scope["method"]), status)] += 1
            client = scope.get("client") or ("", 0)
            log_request(
                str(scope["method"]),
                str(scope["path"]),
                status,
                time.perf_counter() - started,
                str(client[0]),
            )


def _ops(request: Request) -> OpsState:
    ops: OpsState = request.app.state.ops
    return ops


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    instance = instance_of(request)
    ops = _ops(request)
    if ops.heads is None:
        ops.heads = await asyncio.to_thread(head_revisions, instance.settings)
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with instance.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                current = await current_revisions(connection)
    except TimeoutError:
        return _not_ready("database", f"no answer in {READY_TIMEOUT_SECONDS}s")
    except Exception as exc:
        return _not_ready("database", str(exc).splitlines()[0] if str(exc) else repr(exc))
    problem = schema_problem(current, ops.heads)
    if problem is not None:
        return _not_ready("schema", problem)
    disk = check_disks(instance.settings)
    if not disk.ok:
        return _not_ready("disk", disk.detail)
    return JSONResponse({"status": "ready", "schema": list(ops.heads)})


def _not_ready(check: str, reason: str) -> Response:
    return JSONResponse({"status": "unavailable", "check": check, "error": reason}, status_code=503)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


async def metrics(request: Request) -> Response:
    client = client_ip(request)
    if client not in LOCAL_CLIENTS:
        if "authorization" not in request.headers:
            return JSONResponse(
                {"error": "metrics are served to localhost, or with an admin's bearer token"},
                status_code=403,
            )
        await staff_actor(request, role="admin")
    instance = instance_of(request)
    async with instance.sessions() as session:
        inbox_rows = await session.execute(
            select(InboxItem.state, func.count()).group_by(InboxItem.state)
        )
        inbox = {state: count for state, count in inbox_rows}
        delivery_rows = await session.execute(
            select(Delivery.state, func.count()).group_by(Delivery.state)
        )
        deliveries = {state: count for state, count in delivery_rows}
        push_rows = await session.execute(
            select(PushJob.state, func.count()).group_by(PushJob.state)
        )
        pushes = {state: count for state, count in push_rows}
        failing = [
            (host, failures)
            for host, failures in await session.execute(
                select(RemoteHost.host, RemoteHost.consecutive_failures)
                .where(RemoteHost.consecutive_failures > 0)
                .order_by(RemoteHost.host)
            )
        ]
        unavailable = await session.scalar(
            select(func.count())
            .select_from(RemoteHost)
            .where(RemoteHost.unavailable_since.is_not(None))
        )
    lines = [
        "# HELP ourdesign_http_requests_total HTTP requests handled, by method and status.",
        "# TYPE ourdesign_http_requests_total counter",
    ]
    for (method, status), count in sorted(_ops(request).requests.items()):
        lines.append(
            f'ourdesign_http_requests_total{{method="{_label(method)}",status="{status}"}} {count}'
        )
    for name, rows, what in (
        ("ourdesign_inbox_queue", inbox, "Received activities"),
        ("ourdesign_delivery_queue", deliveries, "Outgoing deliveries"),
        ("ourdesign_push_queue", pushes, "Web Push notifications"),
    ):
        lines += [f"# HELP {name} {what} by queue state.", f"# TYPE {name} gauge"]
        for state in sorted(set(QUEUE_STATES) | set(rows)):
            lines.append(f'{name}{{state="{_label(state)}"}} {rows.get(state, 0)}')
    lines += [
        "# HELP ourdesign_delivery_failures Consecutive failed deliveries, by remote host.",
        "# TYPE ourdesign_delivery_failures gauge",
    ]
    for host, failures in failing:
        lines.append(f'ourdesign_delivery_failures{{host="{_label(host)}"}} {failures}')
    lines += [
        "# HELP ourdesign_hosts_unavailable Remote hosts marked unavailable.",
        "# TYPE ourdesign_hosts_unavailable gauge",
        f"ourdesign_hosts_unavailable {unavailable or 0}",
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type=PROMETHEUS_TEXT)


routes = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
    ScopedRoute("/metrics", metrics, scope="admin:read"),
]
