"""Print the design documents of a running instance, for docs/FEDERATION.md.

    .venv/bin/python docs/examples.py

Starts an in-process instance on a throw-away SQLite database, publishes a design with two
files, forks it, comments on it, and prints what other servers would fetch or receive.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.models import Actor
from actors.service import create_person
from federation.settings import Settings
from objects.designs import FileSpec, VersionSpec, create_project
from objects.licences import LicenceError
from outbox import activities
from outbox.designs import ForkRequest, fork, publish_version
from outbox.models import OutboxActivity
from web.app import create_app
from web.instance import Instance

AP = {"Accept": "application/activity+json"}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def show(title: str, doc: Any) -> None:
    print(f"\n### {title}\n\n```json\n{json.dumps(doc, indent=2, ensure_ascii=False)}\n```")


async def publish_design(instance: Instance) -> tuple[Any, Any, Any]:
    stl = await instance.blobs.put_bytes(b"solid trailer\nendsolid trailer\n")
    image = await instance.blobs.put_bytes(PNG)
    async with instance.sessions() as session:
        alice = await create_person(
            session, instance.urls, username="alice", email="a@a.example", password="p" * 12
        )
        project, actor = await create_project(
            session, instance.urls, alice, slug="trailer", name="Bike trailer", summary=""
        )
        spec = VersionSpec(
            label="1.0",
            name="Bike trailer",
            summary="A cargo trailer for bicycles, welded from steel tube.",
            description="Cut the tubes, weld the frame, fit **20 inch** wheels.",
            tags=("bicycle", "cargo"),
            licence=instance.policy.terms("CC-BY-SA-4.0"),
            files=(
                FileSpec("frame.stl", "model/stl", stl.size, stl.sha256),
                FileSpec("photo.png", "image/png", image.size, image.sha256, preview=True),
            ),
            authors=(alice.uri,),
        )
        version, _ = await publish_version(
            session, instance.urls, instance.policy, project, actor, spec
        )
        await session.commit()
    return alice, actor, version


async def fork_design(instance: Instance, upstream: Any, upstream_actor: Any) -> Any:
    async with instance.sessions() as session:
        bob = await create_person(
            session, instance.urls, username="bob", email="b@a.example", password="p" * 12
        )
        request = ForkRequest(
            forker=bob,
            upstream=upstream,
            upstream_project=upstream_actor,
            slug="trailer_long",
            name="Long bike trailer",
            licence=instance.policy.terms("CC-BY-SA-4.0"),
        )
        _, _, version = await fork(session, instance.urls, instance.policy, request)
        await session.commit()
    return version


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(domain="a.example", data_dir=Path(tmp))
        app = create_app(settings, run_workers=False)
        async with app.router.lifespan_context(app):
            instance: Instance = app.state.instance
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
                await print_examples(instance, http)


async def print_examples(instance: Instance, http: httpx.AsyncClient) -> None:
    _, project_actor, version = await publish_design(instance)
    show("A project actor", (await http.get("/users/trailer", headers=AP)).json())
    show("A version", (await http.get("/users/trailer/versions/1", headers=AP)).json())
    async with instance.sessions() as session:
        create = await session.scalar(
            OutboxActivity.__table__.select()
            .where(OutboxActivity.type == "Create")
            .with_only_columns(OutboxActivity.payload)
        )
    show("The Create that delivers it", create)
    await fork_design(instance, version, project_actor)
    fork_page = await http.get("/users/trailer_long/versions/1", headers=AP)
    show("A fork's first version", fork_page.json())
    forks = await http.get("/users/trailer/forks?page=true", headers=AP)
    show("The upstream's forks collection", forks.json())
    show("A Reject of a refused fork", await refused_fork(instance, version.uri))


async def refused_fork(instance: Instance, upstream_uri: str) -> dict[str, Any]:
    """The Reject our inbox sends for a CC-BY-4.0 fork of a CC-BY-SA-4.0 design."""
    policy = instance.policy
    try:
        policy.check_fork(policy.terms("CC-BY-SA-4.0"), policy.terms("CC-BY-4.0"), "individual")
    except LicenceError as exc:
        reason = f"the fork of {upstream_uri} is refused: {exc.message}"
    refused = {
        "id": "https://b.example/activities/1",
        "type": "Create",
        "actor": "https://b.example/users/trailer_cc",
    }
    async with instance.sessions() as session:
        actor = await session.scalar(select(Actor).where(Actor.uri == instance.urls.instance_actor))
        assert actor is not None
        return activities.reject(instance.urls, actor, refused, reason)


if __name__ == "__main__":
    asyncio.run(main())
