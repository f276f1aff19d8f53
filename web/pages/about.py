"""The about page: the cooperative, its rules, who may join, and the domains it blocks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.blocklists import public_block_entries
from web.instance import instance_of
from web.instance_facts import instance_facts, registrations
from web.templating import render


async def about(request: Request) -> Response:
    instance = instance_of(request)
    async with instance.sessions() as session:
        facts = await instance_facts(session, instance)
        blocks = await public_block_entries(session)
    settings = instance.settings
    return render(
        request,
        "about.html",
        settings=settings,
        facts=facts,
        registrations=registrations(instance),
        blocks=blocks,
    )


routes = [
    Route("/about", about),
]
