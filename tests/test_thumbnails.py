"""Thumbnails of 3D files: the software renderer on every format, hostile files refused with
a clear error, and the worker path on real instances (queue on publish, draw, serve, and the
version's Page and its followers getting the picture)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
from typing import Any

import httpx
import numpy as np
import pytest
import trimesh
from PIL import Image
from sqlalchemy import select

from federation.queue import DONE, FAILED, PENDING
from objects.design_models import DesignVersion
from objects.mesh_render import BACKGROUND, render_thumbnail
from objects.thumbnail_models import ThumbnailJob
from objects.thumbnails import MAX_SOURCE_BYTES, ThumbnailError, thumbnails_for
from outbox.models import Delivery, OutboxActivity
from tests.support import Node, call, count, settle
from tests.test_design_api import new_project

# Files on the local disk and in an S3-compatible server (tests/s3_server.py).
BOTH_STORES = pytest.mark.parametrize("file_store", ["local", "s3"], indirect=True)

ACTIVITY_JSON = {"Accept": "application/activity+json"}


def cube_stl() -> bytes:
    return trimesh.creation.box(extents=(2.0, 2.0, 2.0)).export(file_type="stl")


def sphere() -> trimesh.Trimesh:
    return trimesh.creation.icosphere(subdivisions=3)


def drawn(png: bytes) -> np.ndarray:
    """Which pixels of the picture are not background."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    pixels = np.asarray(image.convert("RGB")).astype(int)
    return np.abs(pixels - np.array(BACKGROUND)).sum(axis=2) > 12


def gltf_with_inline_buffers(mesh: trimesh.Trimesh) -> bytes:
    """A .gltf whose one buffer is the GLB's binary chunk as a data: URI."""
    glb = mesh.export(file_type="glb")
    json_length = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20 : 20 + json_length])
    binary = glb[20 + json_length + 8 :]
    doc["buffers"] = [
        {
            "byteLength": len(binary),
            "uri": "data:application/octet-stream;base64," + base64.b64encode(binary).decode(),
        }
    ]
    return json.dumps(doc).encode()


# The renderer


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("cube.stl", cube_stl),
        ("cube-ascii.stl", lambda: trimesh.creation.box().export(file_type="stl_ascii").encode()),
        ("ball.obj", lambda: sphere().export(file_type="obj").encode()),
        ("ball.glb", lambda: sphere().export(file_type="glb")),
        ("ball.gltf", lambda: gltf_with_inline_buffers(sphere())),
    ],
)
def test_every_format_is_drawn_in_the_middle(name, make):
    png = render_thumbnail(make(), name, width=320, height=240)
    mask = drawn(png)
    assert mask.shape == (240, 320)
    assert 0.15 < mask.mean() < 0.8  # a shape, not a blank or a flood
    rows, cols = np.nonzero(mask)
    # Fitted in the view with a margin: it touches no edge and sits in the middle.
    assert rows.min() > 2 and cols.min() > 2 and rows.max() < 237 and cols.max() < 317
    assert abs((rows.min() + rows.max()) / 2 - 120) < 8
    assert abs((cols.min() + cols.max()) / 2 - 160) < 8


def test_a_sphere_is_a_shaded_disc():
    data = sphere().export(file_type="stl")
    png = render_thumbnail(data, "ball.stl")
    mask = drawn(png)
    assert mask.shape == (480, 640)
    rows, cols = np.nonzero(mask)
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert abs(height - width) <= 3  # round
    assert abs(mask.sum() / (height * width) - np.pi / 4) < 0.03  # a disc fills pi/4 of its box
    green = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[mask]
    assert (green[:, 1] > green[:, 0]).mean() > 0.95  # green
    assert green[:, 1].max() - green[:, 1].min() > 40  # lit from one side, shaded on the other


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("noise.stl", bytes(range(256)) * 4, "holds no triangles"),
        ("notes.obj", b"this is not a mesh\n", "holds no triangles"),
        ("broken.glb", b"glTF" + b"\x00" * 10, "is not a valid GLB file"),
        ("broken.gltf", b"{not json", "is not a valid glTF file"),
        ("picture.png", b"\x89PNG", "not a 3D file we draw"),
    ],
)
def test_files_that_do_not_parse_fail_clearly(name, data, message):
    with pytest.raises(ThumbnailError) as caught:
        render_thumbnail(data, name)
    assert message in caught.value.message and name in caught.value.message


def test_an_oversized_file_is_refused_before_parsing():
    with pytest.raises(ThumbnailError) as caught:
        render_thumbnail(b"\x00" * (MAX_SOURCE_BYTES + 1), "huge.stl")
    assert "larger than 100 MB" in caught.value.message


@pytest.mark.parametrize(
    "uri", ["https://evil.test/buffer.bin", "buffer.bin", "file:///etc/passwd"]
)
def test_a_gltf_with_an_external_buffer_is_refused(uri):
    doc = json.loads(gltf_with_inline_buffers(sphere()))
    doc["buffers"][0]["uri"] = uri
    with pytest.raises(ThumbnailError) as caught:
        render_thumbnail(json.dumps(doc).encode(), "remote.gltf")
    assert "external file" in caught.value.message and "GLB" in caught.value.message


# The worker path, on both databases


async def publish(node: Node, token: str, slug: str, files: list[tuple[str, bytes]]) -> Any:
    response = await call(
        node,
        "POST",
        f"/api/v1/designs/{slug}/versions",
        token,
        data={"licence": "CC-BY-SA-4.0"},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )
    assert response.status_code == 201, response.text
    return response.json()


async def jobs(node: Node) -> dict[str, ThumbnailJob]:
    async with node.instance.sessions() as session:
        return {job.source_sha256: job for job in await session.scalars(select(ThumbnailJob))}


async def run_thumbnail_worker(node: Node) -> None:
    while await node.instance.thumbnail_worker.run_once():
        pass


@BOTH_STORES
async def test_publishing_queues_draws_serves_and_pictures_the_page(nodes):
    a = await nodes("a.test")
    b = await nodes("b.test")
    _, alice = await a.user("alice")
    _, bob = await b.user("bob")
    await new_project(a, alice, "lamp")
    followed = await call(b, "POST", "/api/v1/follows", bob, json={"target": "@lamp@a.test"})
    assert followed.status_code == 202
    await settle(a, b)
    cube, ball = cube_stl(), sphere().export(file_type="obj").encode()
    cube_sha, ball_sha = hashlib.sha256(cube).hexdigest(), hashlib.sha256(ball).hexdigest()
    version = await publish(
        a,
        alice,
        "lamp",
        [("cube.stl", cube), ("ball.obj", ball), ("copy.STL", cube), ("notes.txt", b"hello")],
    )
    queued = await jobs(a)
    assert set(queued) == {cube_sha, ball_sha}  # one per distinct 3D file, none for the text
    assert all(job.state == PENDING for job in queued.values())
    missing = await call(a, "GET", f"/thumbnails/{cube_sha}.png")
    assert missing.status_code == 404 and "not made yet" in missing.text

    await run_thumbnail_worker(a)
    made = await jobs(a)
    assert {job.state for job in made.values()} == {DONE}
    async with a.instance.sessions() as session:
        found = await thumbnails_for(session, [cube_sha, ball_sha, "0" * 64])
    assert found == {sha: made[sha].thumbnail_sha256 for sha in (cube_sha, ball_sha)}

    served = await call(a, "GET", f"/thumbnails/{cube_sha}.png")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert "max-age=31536000" in served.headers["cache-control"]
    assert hashlib.sha256(served.content).hexdigest() == made[cube_sha].thumbnail_sha256
    assert drawn(served.content).shape == (480, 640) and drawn(served.content).mean() > 0.1

    page = (await call(a, "GET", "/users/lamp/versions/1", headers=ACTIVITY_JSON)).json()
    first = page["attachment"][0]
    assert first["type"] == "Image" and first["mediaType"] == "image/png"
    assert first["url"] == f"https://a.test/thumbnails/{cube_sha}.png"
    assert len(page["attachment"]) == 4 and len(page["files"]) == 4
    assert not any("thumbnails" in file["url"] for file in page["files"])

    # Followers hear about the picture: an Update of the Page, delivered to b.test (the last
    # one: a Page is updated again when its first 3D file's picture comes after another's).
    async with a.instance.sessions() as session:
        update = await session.scalar(
            select(OutboxActivity)
            .where(OutboxActivity.type == "Update", OutboxActivity.object_uri == version["id"])
            .order_by(OutboxActivity.id.desc())
            .limit(1)
        )
        assert update is not None
        assert update.payload["object"]["attachment"][0]["url"] == first["url"]
        hosts = await session.scalars(
            select(Delivery.host).where(Delivery.activity_id == update.id)
        )
        assert list(hosts) == ["b.test"]
    await settle(a, b)
    async with a.instance.sessions() as session:
        sent = await session.scalars(select(Delivery).where(Delivery.activity_id == update.id))
        assert [row.state for row in sent] == [DONE]

    # Mastodon apps see it as the status's image.
    async with a.instance.sessions() as session:
        row = await session.scalar(select(DesignVersion).where(DesignVersion.uri == version["id"]))
    assert row is not None
    status = (await call(a, "GET", f"/api/v1/statuses/v{row.id}", alice)).json()
    assert [media["url"] for media in status["media_attachments"]] == [first["url"]]
    assert status["media_attachments"][0]["type"] == "image"

    await publish(a, alice, "lamp", [("cube-again.stl", cube)])
    assert set(await jobs(a)) == {cube_sha, ball_sha}  # same bytes, no new job
    second = (await call(a, "GET", "/users/lamp/versions/2", headers=ACTIVITY_JSON)).json()
    assert second["attachment"][0]["url"] == first["url"]  # pictured from the start


async def test_a_broken_file_fails_its_job_and_nothing_else(nodes):
    a = await nodes("a.test")
    _, alice = await a.user("alice")
    await new_project(a, alice, "lamp")
    broken = b"solid lamp\n  facet normal 0 0 1\n  endfacet\nendsolid lamp\n"
    sha = hashlib.sha256(broken).hexdigest()
    await publish(a, alice, "lamp", [("lamp.stl", broken)])
    await run_thumbnail_worker(a)
    job = (await jobs(a))[sha]
    assert job.state == FAILED and job.thumbnail_sha256 is None
    assert job.last_error is not None and "holds no triangles" in job.last_error
    answer = await call(a, "GET", f"/thumbnails/{sha}.png")
    assert answer.status_code == 404 and "no thumbnail can be made of lamp.stl" in answer.text
    page = (await call(a, "GET", "/users/lamp/versions/1", headers=ACTIVITY_JSON)).json()
    assert [item["name"] for item in page["attachment"]] == ["lamp.stl"]
    assert await count(a, OutboxActivity, OutboxActivity.type == "Update") == 0
    unknown = await call(a, "GET", f"/thumbnails/{'1' * 64}.png")
    assert unknown.status_code == 404 and "no 3D file" in unknown.text
    assert (await call(a, "GET", "/thumbnails/nothex.png")).status_code == 400


async def test_a_file_that_keeps_stopping_the_worker_is_given_up(nodes):
    a = await nodes("a.test")
    _, alice = await a.user("alice")
    await new_project(a, alice, "lamp")
    cube = cube_stl()
    await publish(a, alice, "lamp", [("cube.stl", cube)])
    sha = hashlib.sha256(cube).hexdigest()
    # Three claims whose worker died before recording anything: the leases ran out.
    async with a.instance.sessions() as session:
        job = await session.scalar(select(ThumbnailJob).where(ThumbnailJob.source_sha256 == sha))
        assert job is not None
        job.attempts, job.locked_until = 3, None
        await session.commit()
    assert await a.instance.thumbnail_worker.run_once() == 1
    job = (await jobs(a))[sha]
    assert job.state == FAILED and job.thumbnail_sha256 is None
    assert job.last_error is not None and "given up" in job.last_error
    assert await a.instance.thumbnail_worker.run_once() == 0


async def fork_on(node: Node, token: str, upstream: str, slug: str) -> None:
    response = await call(
        node,
        "POST",
        "/api/v1/forks",
        token,
        json={"upstream": upstream, "slug": slug, "licence": "CC-BY-SA-4.0"},
    )
    assert response.status_code == 201, response.text


async def fork_of_a_remote_lamp(nodes: Any) -> tuple[Node, bytes, str]:
    """b.test's fork of a.test's lamp, whose STL stays on a.test: (b, the STL, its digest)."""
    a, b = await nodes("a.test"), await nodes("b.test")
    _, alice = await a.user("alice")
    _, bob = await b.user("bob")
    await new_project(a, alice, "lamp")
    stl = cube_stl()
    sha = hashlib.sha256(stl).hexdigest()
    upstream = (await publish(a, alice, "lamp", [("lamp.stl", stl)]))["id"]
    await fork_on(b, bob, upstream, "bobslamp")
    return b, stl, sha


@BOTH_STORES
async def test_a_fork_of_a_remote_design_keeps_a_verified_copy_to_show(nodes):
    b, stl, sha = await fork_of_a_remote_lamp(nodes)
    assert not b.instance.blobs.exists(sha), "the fork points at a.test's file"

    await run_thumbnail_worker(b)
    job = (await jobs(b))[sha]
    assert job.state == DONE, job.last_error
    with b.instance.blobs.open(sha) as copy:
        assert copy.read() == stl
    served = await call(b, "GET", f"/files/{sha}/lamp.stl")
    assert served.status_code == 200 and served.content == stl
    page = (
        await call(b, "GET", "/users/bobslamp/versions/1", headers={"Accept": "text/html"})
    ).text
    assert f'data-model="/files/{sha}/lamp.stl"' in page
    assert f'<img class="thumbnail" src="/thumbnails/{sha}.png"' in page


async def test_a_remote_file_that_is_not_what_its_digest_says_is_not_kept(nodes, network):
    b, _, sha = await fork_of_a_remote_lamp(nodes)
    network.intercept["a.test"] = lambda request: (
        httpx.Response(200, content=b"solid other\nendsolid other\n")
        if request.url.path.startswith("/files/")
        else None
    )
    await b.instance.thumbnail_worker.run_once()
    job = (await jobs(b))[sha]
    assert job.state == PENDING and job.thumbnail_sha256 is None  # tried again later
    assert (
        job.last_error is not None and "does not hold the file its design names" in job.last_error
    )
    assert not b.instance.blobs.exists(sha)
    assert (await call(b, "GET", f"/files/{sha}/lamp.stl")).status_code == 404
    page = (
        await call(b, "GET", "/users/bobslamp/versions/1", headers={"Accept": "text/html"})
    ).text
    assert 'class="viewer"' not in page
