"""Outages (database down, statement deadline, disk full) answered 503/507, never a bare 500."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from federation.outages import outage_of
from web.http import federation_error_handler

log = logging.getLogger(__name__)


class OutageAnswers:
    """Answers an error that `federation.outages.outage_of` calls an outage, on every route.

    A plain ASGI layer rather than a Starlette exception handler: a handler registered for
    OSError also catches a client that went away in the middle of a stream (uvicorn raises
    OSError from `send`) and turns it into a RuntimeError. Here an error raised after the
    answer started, or one that is no outage, passes through unchanged: a bug stays a 500
    with its traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as exc:
            outage = outage_of(exc)
            if started or outage is None:
                raise
            request = Request(scope, receive)
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning(
                "answered %s to %s %s: %s",
                outage.status,
                request.method,
                request.url.path,
                first_line,
            )
            response = await federation_error_handler(request, outage)
            await response(scope, receive, send)
