"""Discovery: WebFinger, host-meta and NodeInfo 2.1."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.models import Actor
from actors.service import INSTANCE_ACTOR_USERNAME, get_local_actor
from federation.http import SOFTWARE_VERSION
from federation.vocab import ACTIVITY_JSON, JRD_JSON
from federation.webfinger import SUBSCRIBE_REL, our_subscribe_template
from web.http import error_response
from web.instance import Instance
from web.instance_facts import MASTODON_COMPATIBLE, instance_facts, nodeinfo_metadata, registrations

CORS = {"Access-Control-Allow-Origin": "*"}


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
    if actor.suspended_at is not None:
        return error_response(404, f"{resource} is suspended by this server's moderators", CORS)
    return JSONResponse(_jrd(actor, instance), headers=CORS, media_type=JRD_JSON)


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


def _jrd(actor: Actor, instance: Instance) -> dict[str, object]:
    links: list[dict[str, str]] = [{"rel": "self", "type": ACTIVITY_JSON, "href": actor.uri}]
    if actor.url:
        links.append(
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.url}
        )
    # "Follow from your instance" on other servers sends people here to follow `{uri}`.
    subscribe = our_subscribe_template(instance.urls.base_url)
    links.append({"rel": SUBSCRIBE_REL, "template": subscribe})
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
        facts = await instance_facts(session, instance, count_posts=True)
    document = {
        "version": "2.1",
        "software": {
            "name": "ourdesign",
            "version": SOFTWARE_VERSION,
            "homepage": instance.urls.base_url,
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": registrations(instance)["enabled"],
        "usage": {"users": {"total": facts.users}, "localPosts": facts.local_posts},
        # Apps that pick an API by NodeInfo (megalodon, behind Whalebird) take an unknown
        # software's upstream as the API it speaks: Mastodon's, at the version we follow.
        "metadata": {
            **nodeinfo_metadata(instance, facts),
            "upstream": {"name": "mastodon", "version": MASTODON_COMPATIBLE},
        },
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
