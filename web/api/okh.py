"""Each local design version's Open Know-How manifest, `okh.toml`, at a stable URL beside
the version (`{version URI}/okh.toml`); built by `objects.okh`, linked from the version's
JSON (`okh_manifest`) and its page."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from actors.models import Actor
from federation.errors import FederationError
from objects.design_models import DesignVersion
from objects.designs import licence_of, project_or_404, version_files
from objects.okh import okh_manifest, to_toml
from web.instance import instance_of
from web.scopes import PUBLIC, ScopedRoute

TOML_TYPE = "application/toml; charset=utf-8"


async def okh_toml(request: Request) -> Response:
    instance = instance_of(request)
    async with instance.sessions() as session:
        project, actor = await project_or_404(session, request.path_params["slug"])
        version = await session.scalar(
            select(DesignVersion).where(
                DesignVersion.project_id == project.id,
                DesignVersion.number == request.path_params["number"],
            )
        )
        if version is None or actor.suspended_at is not None:
            raise FederationError("this project has no such version", status=404)
        if version.deleted_at is not None:
            raise FederationError(f"the version {version.uri} was deleted", status=410)
        files = await version_files(session, version)
        uris = version.authors.get("authors", [])
        people = {
            person.uri: person
            for person in await session.scalars(select(Actor).where(Actor.uri.in_(uris)))
        }
    licensors = [_licensor(people.get(uri), uri) for uri in uris]
    manifest = okh_manifest(
        version, actor.uri, licence_of(version), licensors, files, instance.urls.base_url
    )
    return Response(to_toml(manifest), media_type=TOML_TYPE)


def _licensor(person: Actor | None, uri: str) -> str:
    """OKH's licensor form, "Name <contact>": the person's name and their actor URL."""
    if person is None:
        return uri
    return f"{person.name or person.username} <{person.uri}>"


routes = [
    ScopedRoute(
        "/users/{slug}/versions/{number:int}/okh.toml", okh_toml, methods=["GET"], scope=PUBLIC
    ),
]
