"""Discovery: WebFinger, host-meta and NodeInfo 2.1."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.models import Actor
from actors.service import INSTANCE_ACTOR_USERNAME, get_local_actor
from federation.vocab import ACTIVITY_JSON, JRD_JSON
from objects.models import Note
from web.http import error_response
from web.instance import Instance

CORS = {"Access-Control-Allow-Origin": "*"}
VERSION = "0.1.0"


async def webfinger(request: Request) -> Response:
    instance: Instance = request.app.state.instance
    resource = request.query_params.get("resource", "")
    if not resource:
        return error_response(400, "add ?resource=acct:user@host or an actor URL", CORS)
    username = _username_for(resource, instance)
    if username is None:
        return error_response(404, f"{resource} is not on this server", CORS)
    async with instance.sessions() as session:
        actor = await get_local_actor(session, username)
    if actor is None:
        return error_response(404, f"there is no {resource} here", CORS)
    return JSONResponse(_jrd(actor), headers=CORS, media_type=JRD_JSON)


def _username_for(resource: str, instance: Instance) -> str | None:
    if resource.startswith("acct:"):
        user, _, host = resource[5:].lstrip("@").partition("@")
        # Local names are lower case; handles are matched case-insensitively, as on Mastodon.
        return user.lower() if host.lower() == instance.urls.host else None
    if resource == instance.urls.instance_actor:
        return INSTANCE_ACTOR_USERNAME
    prefixes = (instance.urls.actor(""), instance.urls.profile(""))
    for prefix in prefixes:
        if resource.startswith(prefix) and "/" not in resource[len(prefix) :]:
            return resource[len(prefix) :]
    return None


def _jrd(actor: Actor) -> dict[str, object]:
    links: list[dict[str, str]] = [{"rel": "self", "type": ACTIVITY_JSON, "href": actor.uri}]
    if actor.url:
        links.append(
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.url}
        )
    return {
        "subject": f"acct:{actor.username}@{actor.domain}",
        "aliases": [a for a in (actor.uri, actor.url) if a],
        "links": links,
    }


async def host_meta(request: Request) -> Response:
    base = request.app.state.instance.urls.base_url
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{base}/.well-known/webfinger?resource={{uri}}"/>\n'
        "</XRD>\n"
    )
    return Response(xml, media_type="application/xrd+xml", headers=CORS)


async def host_meta_json(request: Request) -> Response:
    base = request.app.state.instance.urls.base_url
    template = f"{base}/.well-known/webfinger?resource={{uri}}"
    return JSONResponse({"links": [{"rel": "lrdd", "template": template}]}, headers=CORS)


async def nodeinfo_links(request: Request) -> Response:
    base = request.app.state.instance.urls.base_url
    link = {
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": f"{base}/nodeinfo/2.1",
    }
    return JSONResponse({"links": [link]}, headers=CORS)


async def nodeinfo(request: Request) -> Response:
    instance: Instance = request.app.state.instance
    async with instance.sessions() as session:
        users = await session.scalar(
            select(func.count())
            .select_from(Actor)
            .where(Actor.local.is_(True), Actor.type == "Person", Actor.deleted_at.is_(None))
        )
        posts = await session.scalar(
            select(func.count())
            .select_from(Note)
            .where(Note.local.is_(True), Note.deleted_at.is_(None))
        )
    document = {
        "version": "2.1",
        "software": {"name": "ourdesign", "version": VERSION, "homepage": instance.urls.base_url},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {"users": {"total": users or 0}, "localPosts": posts or 0},
        "metadata": {"nodeName": instance.settings.instance_name},
    }
    profile = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    return JSONResponse(document, headers=CORS, media_type=profile)


routes = [
    Route("/.well-known/webfinger", webfinger),
    Route("/.well-known/host-meta", host_meta),
    Route("/.well-known/host-meta.json", host_meta_json),
    Route("/.well-known/nodeinfo", nodeinfo_links),
    Route("/nodeinfo/2.1", nodeinfo),
]
