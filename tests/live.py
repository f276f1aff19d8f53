"""Real instances as uvicorn servers on loopback ports, and a browser for their forms.

Unlike `tests.support`, nothing is replaced here: clients connect over sockets, and the
instances run their own workers and federate with each other over loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from federation.settings import Settings
from tests.support import PASSWORD, Node
from tests.web_support import hidden_fields
from web.app import create_app

_SHOWN_CODE = re.compile(r'id="code" value="([^"]+)"')
T = TypeVar("T")
AUTHORIZE = "/oauth/authorize"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def live_server(database_url: str, data_dir: Path, **options: Any) -> AsyncIterator[Node]:
    """An instance served by uvicorn on a free loopback port, workers running; `options`
    are further settings."""
    port = free_port()
    settings = Settings(
        domain=f"127.0.0.1:{port}",
        scheme="http",
        data_dir=data_dir,
        database_url=database_url,
        allow_private_addresses=True,  # development setting: federate on loopback
        **options,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # uvicorn offers no event to wait on
            await asyncio.sleep(0.02)
    try:
        yield Node(settings.domain, app, network=None)
    finally:
        server.should_exit = True
        await task


async def wait_for(check: Callable[[], object], seconds: float = 15) -> Any:
    """Poll until `check` (a function or a coroutine function) answers something truthy,
    waiting for another server's worker or a stream, and return it; fail after `seconds`."""
    async with asyncio.timeout(seconds):
        while not (found := await _answer(check)):
            await asyncio.sleep(0.05)
    return found


async def _answer(check: Callable[[], object]) -> object:
    answer = check()
    return await answer if inspect.isawaitable(answer) else answer


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Blocking clients (Mastodon.py) run in a thread: the servers run on this loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


async def authorize_in_browser(
    browser: httpx.AsyncClient, authorize_url: str, login: str = "alice", password: str = PASSWORD
) -> httpx.Response:
    """Open the authorize page and send its form back with `login` and `password`, as a
    person in a browser would; the answer is the redirect (or, out of band, the page with
    the code)."""
    page = await browser.get(authorize_url)
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text, AUTHORIZE) | {
        "login": login,
        "password": password,
        "decision": "authorize",
    }
    return await browser.post(AUTHORIZE, data=form)


def shown_code(page: httpx.Response) -> str:
    """The code an out-of-band authorization shows for the person to copy."""
    found = _SHOWN_CODE.search(page.text)
    assert found is not None, page.text
    return found.group(1)
