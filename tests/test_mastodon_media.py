"""Mastodon's media API and statuses with media, on real instances."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from objects.media_models import MediaAttachment
from objects.models import Note
from tests import test_mastodon_payloads
from tests.support import Node, call, count, get, settle
from tests.test_mastodon_payloads import STATUS, Scene

# Uploads stored on the local disk and in an S3-compatible server (tests/s3_server.py).
pytestmark = pytest.mark.parametrize("file_store", ["local", "s3"], indirect=True)

# The signed Mastodon deliveries of tests.test_mastodon_payloads, used here too.
scene_fixture = test_mastodon_payloads.scene


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format=image_format)
    return buffer.getvalue()


async def upload(
    node: Node,
    token: str,
    data: bytes,
    *,
    version: str = "v1",
    claimed: str = "image/png",
    **fields: str,
) -> httpx.Response:
    files = {"file": ("picture", data, claimed)}
    return await call(node, "POST", f"/api/{version}/media", token, files=files, data=fields)


async def uploaded(node: Node, token: str, **fields: str) -> dict[str, Any]:
    response = await upload(node, token, image_bytes(), **fields)
    assert response.status_code == 200, response.text
    return response.json()


async def test_upload_v1_and_v2_and_serve_the_file(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    first = await upload(a, token, image_bytes(), description="A gear", focus="0.5,-0.25")
    assert first.status_code == 200, first.text
    media = first.json()
    assert media["type"] == "image" and media["description"] == "A gear"
    assert media["remote_url"] is None and media["url"] == media["preview_url"]
    assert media["meta"]["original"] == {
        "width": 40,
        "height": 30,
        "size": "40x30",
        "aspect": 40 / 30,
    }
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert isinstance(media["blurhash"], str) and len(media["blurhash"]) > 6
    assert media["url"].startswith("https://a.test/media/") and media["url"].endswith(".png")

    # The client's claimed type is not trusted: these bytes are a JPEG.
    second = await upload(a, token, image_bytes("JPEG"), version="v2", claimed="image/png")
    assert second.status_code == 200, second.text
    assert second.json()["url"].endswith(".jpg")

    async with a.client() as client:
        served = await client.get(media["url"].removeprefix("https://a.test"))
        wrong_extension = await client.get(media["url"].removeprefix("https://a.test")[:-3] + "gif")
    assert served.status_code == 200 and served.content == image_bytes()
    assert served.headers["content-type"] == "image/png"
    assert wrong_extension.status_code == 404
    shown = await get(a, f"/api/v1/media/{media['id']}", token)
    assert shown.status_code == 200 and shown.json() == media


async def test_refuses_what_is_not_an_image_and_what_is_too_large(nodes: Any) -> None:
    a = await nodes("a.test", max_file_bytes=2000)
    _, token = await a.user("alice")
    text = await upload(a, token, b"just some text, not a picture", claimed="image/png")
    assert text.status_code == 422 and "JPEG, PNG, GIF or WebP" in text.json()["error"]
    svg = await upload(a, token, b"<svg xmlns='http://www.w3.org/2000/svg'/>", claimed="image/svg")
    assert svg.status_code == 422
    large = await upload(a, token, image_bytes("BMP", (200, 200)), claimed="image/png")
    assert large.status_code == 413 and "limit" in large.json()["error"]
    no_file = await call(a, "POST", "/api/v1/media", token, files={"other": ("x", b"x")})
    assert no_file.status_code == 422 and "'file'" in no_file.json()["error"]
    bad_focus = await upload(a, token, image_bytes(), focus="2,0")
    assert bad_focus.status_code == 422 and "focus" in bad_focus.json()["error"]
    anonymous = await a.client().post("/api/v1/media", files={"file": ("x", image_bytes())})
    assert anonymous.status_code == 401
    assert await count(a, MediaAttachment) == 0


async def test_description_changes_only_while_unattached_and_only_by_the_uploader(
    nodes: Any,
) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    media = await uploaded(a, token)
    path = f"/api/v1/media/{media['id']}"
    changed = await call(a, "PUT", path, token, json={"description": "Gear, top view"})
    assert changed.status_code == 200 and changed.json()["description"] == "Gear, top view"
    form = await call(a, "PUT", path, token, data={"focus": "0,1"})
    assert form.json()["meta"]["focus"] == {"x": 0.0, "y": 1.0}
    assert form.json()["description"] == "Gear, top view"
    for method in ("GET", "PUT"):
        theirs = await call(a, method, path, bea_token, json={"description": "mine now"})
        assert theirs.status_code == 404 and theirs.json() == {"error": "Record not found"}

    stolen = await call(
        a, "POST", "/api/v1/statuses", bea_token, json={"status": "x", "media_ids": [media["id"]]}
    )
    assert stolen.status_code == 422 and "media_ids" in stolen.json()["error"]
    assert await count(a, Note) == 0

    posted = await call(a, "POST", "/api/v1/statuses", token, data={"media_ids[]": media["id"]})
    assert posted.status_code == 200, posted.text
    late = await call(a, "PUT", path, token, json={"description": "too late"})
    assert late.status_code == 422 and "attached" in late.json()["error"]
    again = await call(
        a, "POST", "/api/v1/statuses", token, json={"status": "x", "media_ids": [media["id"]]}
    )
    assert again.status_code == 422 and await count(a, Note) == 1


async def test_at_most_four_and_nothing_posted_when_one_is_refused(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    ids = [(await uploaded(a, token))["id"] for _ in range(5)]
    five = await call(a, "POST", "/api/v1/statuses", token, json={"status": "x", "media_ids": ids})
    assert five.status_code == 422 and "at most 4" in five.json()["error"]
    unknown = await call(
        a, "POST", "/api/v1/statuses", token, json={"status": "x", "media_ids": [ids[0], "999"]}
    )
    assert unknown.status_code == 422
    assert await count(a, Note) == 0
    assert await count(a, MediaAttachment, MediaAttachment.note_id.is_not(None)) == 0


async def test_media_federate_as_documents_and_show_on_the_other_side(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    [alice] = (
        await get(b, "/api/v1/accounts/search", bob_token, q="alice@a.test", resolve="true")
    ).json()
    await call(b, "POST", f"/api/v1/accounts/{alice['id']}/follow", bob_token)
    await settle(a, b)
    one = await uploaded(a, token, description="First")
    two = await uploaded(a, token, description="Second")
    status = await call(
        a, "POST", "/api/v1/statuses", token, json={"media_ids": [two["id"], one["id"]]}
    )
    assert status.status_code == 200, status.text
    entity = status.json()
    assert [m["id"] for m in entity["media_attachments"]] == [two["id"], one["id"]]
    assert entity["media_attachments"][0]["description"] == "Second"

    async with a.client() as client:
        document = (
            await client.get(entity["uri"], headers={"Accept": "application/activity+json"})
        ).json()
    assert [d["name"] for d in document["attachment"]] == ["Second", "First"]
    assert document["attachment"][0] | {"blurhash": "x"} == {
        "type": "Document",
        "mediaType": "image/png",
        "url": two["url"],
        "name": "Second",
        "focalPoint": [0.0, 0.0],
        "blurhash": "x",
        "width": 40,
        "height": 30,
    }

    await settle(a, b)
    async with b.instance.sessions() as session:
        received = await session.scalar(select(Note).where(Note.uri == entity["uri"]))
    assert received is not None
    there = (await get(b, f"/api/v1/statuses/{received.id}", bob_token)).json()
    media = there["media_attachments"]
    assert [m["remote_url"] for m in media] == [two["url"], one["url"]]
    assert media[0]["url"] == two["url"] and media[0]["description"] == "Second"
    assert media[0]["meta"]["original"]["width"] == 40 and media[0]["blurhash"] == two["blurhash"]

    # A domain block that rejects media hides them, and only them.
    _, mod_token = await b.user("mod", role="admin")
    block = await call(
        b,
        "POST",
        "/api/v1/admin/domain_blocks",
        mod_token,
        json={"domain": "a.test", "severity": "noop", "reject_media": True},
    )
    assert block.status_code == 200, block.text
    hidden = (await get(b, f"/api/v1/statuses/{received.id}", bob_token)).json()
    assert hidden["media_attachments"] == [] and hidden["id"] == there["id"]


async def test_a_received_mastodon_note_shows_its_image(scene_fixture: Scene) -> None:
    scene = scene_fixture
    await scene.accept(scene.payload("create_note"))
    note = await scene.note(STATUS)
    assert note is not None
    shown = (await get(scene.od, f"/api/v1/statuses/{note.id}", scene.bob_token)).json()
    [media] = shown["media_attachments"]
    url = "https://files.mastodon.test/media_attachments/files/112/233/445/566/778/899"
    assert media["url"] == media["remote_url"] == f"{url}/original/0f1e2d3c4b5a6978.jpg"
    assert media["description"] == "A printed gear on the build plate"
    assert media["meta"]["original"]["width"] == 1200 and media["type"] == "image"
    assert media["blurhash"] == "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH"
