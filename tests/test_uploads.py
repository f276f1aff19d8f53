"""Streaming multipart uploads into the blob store, and serving blobs back."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.service import create_person
from federation.db import make_engine, make_session_factory
from federation.errors import FederationError
from federation.settings import Settings
from federation.urls import LocalUrls
from objects.blobs import BlobStore
from objects.upload_quota import UploadQuota, upload_quota
from web.files import blob_response, content_disposition
from web.http import federation_error_handler
from web.uploaded import sanitise_filename
from web.uploads import read_upload

MAX_FILE = 1000
MAX_TOTAL = 1500
BOUNDARY = "test-boundary-1234"


def make_app(store: BlobStore, quota: UploadQuota, **limits: int) -> Starlette:
    """A tiny app: POST /upload stores files; GET /files/{sha256}?name=..&type=.. serves one."""
    limits = {"max_file_bytes": MAX_FILE, "max_total_bytes": MAX_TOTAL} | limits

    async def upload(request: Request) -> Response:
        received = await read_upload(request, store, quota=quota, **limits)
        if received.value("action") == "discard":
            await received.discard()
            return JSONResponse({"discarded": len(received.files)})
        stored = await received.commit()
        return JSONResponse(
            {
                "fields": received.fields,
                "files": [
                    {
                        "field": uploaded.field_name,
                        "filename": uploaded.filename,
                        "content_type": uploaded.content_type,
                        "sha256": blob.sha256,
                        "size": blob.size,
                    }
                    for uploaded, blob in stored
                ],
            }
        )

    async def serve(request: Request) -> Response:
        blob = store.get(request.path_params["sha256"])
        if blob is None:
            raise FederationError("no such file", status=404)
        return blob_response(
            store,
            blob,
            filename=request.query_params["name"],
            media_type=request.query_params["type"],
            request=request,
        )

    return Starlette(
        routes=[
            Route("/upload", upload, methods=["POST"]),
            Route("/files/{sha256}", serve, methods=["GET", "HEAD"]),
        ],
        exception_handlers={FederationError: federation_error_handler},
    )


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
async def quota(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[UploadQuota]:
    """An uploader with no quota, on a real (SQLite) database: its ledger is written."""
    shutil.copy(sqlite_template, tmp_path / "db.sqlite3")
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"
    )
    engine = make_engine(settings)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        uploader = await create_person(
            session,
            LocalUrls(settings.base_url),
            username="up",
            email="up@x.test",
            password="long enough",
        )
        await session.commit()
    yield await upload_quota(sessions, uploader, 0)
    await engine.dispose()


@pytest.fixture
async def client(store: BlobStore, quota: UploadQuota) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(store, quota))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def stored_files(store: BlobStore) -> list[Path]:
    """Every file under the store root: blobs and staged temp files alike."""
    return [Path(d) / f for d, _, names in os.walk(store.root) for f in names]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def multipart(*parts: bytes, end: bool = True) -> bytes:
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + (b"--" + BOUNDARY.encode() + b"--\r\n" if end else b"")


def file_part(name: str, filename: str, data: bytes, content_type: str = "model/stl") -> bytes:
    return (
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + data


MULTIPART_TYPE = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


async def upload(client: httpx.AsyncClient, files: Any, data: Any = None) -> httpx.Response:
    return await client.post("/upload", files=files, data=data)


async def test_two_files_and_fields_are_stored_with_their_digests(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    gear, photo = b"solid gear\n" * 20, os.urandom(300)
    response = await upload(
        client,
        files=[
            ("model", ("gear.stl", gear, "model/stl")),
            ("photo", ("gear.png", photo, "image/png")),
        ],
        data={"title": "A gear ⚙", "tags": ["gear", "cnc"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fields"] == {"title": ["A gear ⚙"], "tags": ["gear", "cnc"]}
    assert body["files"] == [
        {
            "field": "model",
            "filename": "gear.stl",
            "content_type": "model/stl",
            "sha256": sha256_hex(gear),
            "size": len(gear),
        },
        {
            "field": "photo",
            "filename": "gear.png",
            "content_type": "image/png",
            "sha256": sha256_hex(photo),
            "size": len(photo),
        },
    ]
    assert store.path_for(sha256_hex(gear)).read_bytes() == gear
    assert store.verify(sha256_hex(photo))
    assert list(store.tmp_dir.iterdir()) == []


async def test_a_body_in_tiny_chunks_parses_the_same(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    # Boundary-like bytes inside the file, and chunks that split every boundary.
    tricky = b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n\r\n--\r" * 20
    body = multipart(
        file_part("f", "tricky.bin", tricky),
        b'Content-Disposition: form-data; name="title"\r\n\r\nTricky',
    )

    async def in_tiny_chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    response = await client.post("/upload", content=in_tiny_chunks(), headers=MULTIPART_TYPE)
    assert response.status_code == 200, response.text
    assert response.json()["fields"] == {"title": ["Tricky"]}
    assert response.json()["files"][0]["sha256"] == sha256_hex(tricky)
    assert store.verify(sha256_hex(tricky))


async def test_a_file_over_the_per_file_limit_is_refused_and_nothing_kept(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    response = await upload(
        client,
        files=[
            ("small", ("small.stl", b"fits", "model/stl")),
            ("big", ("model.stl", b"x" * (MAX_FILE + 1), "model/stl")),
        ],
    )
    assert response.status_code == 413
    assert response.json()["error"].startswith(
        "the file model.stl is larger than the limit of 1 kB per file;"
    )
    assert stored_files(store) == []


async def test_files_over_the_total_limit_are_refused(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    response = await upload(
        client,
        files=[(f"f{i}", (f"part{i}.stl", b"x" * 600, "model/stl")) for i in range(3)],
    )
    assert response.status_code == 413
    assert "add up to more than the limit of 1.5 kB per upload" in response.json()["error"]
    assert stored_files(store) == []


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        raise AssertionError("the body should not be read")
        yield b""

    response = await client.post(
        "/upload",
        content=endless(),
        headers=MULTIPART_TYPE | {"content-length": str(10**12)},
    )
    assert response.status_code == 413
    assert stored_files(store) == []


async def test_a_chunked_body_is_held_to_the_same_limit(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    # Bytes after the closing boundary count for no file or field, only for the body.
    async def body() -> AsyncIterator[bytes]:
        yield multipart(file_part("f", "a.stl", b"x"))
        for _ in range(8):
            yield b"y" * 256 * 1024  # 2 MiB in all: past MAX_TOTAL plus the overhead

    response = await client.post("/upload", content=body(), headers=MULTIPART_TYPE)
    assert response.status_code == 413
    assert stored_files(store) == []


async def test_non_multipart_is_refused_with_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/upload", json={"file": "nope"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]


async def test_missing_boundary_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/upload", content=b"x", headers={"content-type": "multipart/form-data"}
    )
    assert response.status_code == 400
    assert "boundary" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"this is not multipart at all",
        multipart(file_part("f", "a.stl", b"cut off"), end=False),
        multipart(b"Content-Type: text/plain\r\n\r\nno disposition"),
        b"--" + BOUNDARY.encode() + b"\r\nno colon in this header line\r\n\r\nx",
    ],
    ids=["garbage", "no-closing-boundary", "no-name", "bad-header"],
)
async def test_malformed_multipart_is_refused_with_400(
    client: httpx.AsyncClient, store: BlobStore, body: bytes
) -> None:
    response = await client.post("/upload", content=body, headers=MULTIPART_TYPE)
    assert response.status_code == 400, response.text
    assert "malformed" in response.json()["error"]
    assert stored_files(store) == []


async def test_too_many_files_or_fields_are_refused(store: BlobStore, quota: UploadQuota) -> None:
    transport = httpx.ASGITransport(app=make_app(store, quota, max_files=2, max_fields=2))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        files = [(f"f{i}", (f"{i}.stl", b"x", "model/stl")) for i in range(3)]
        response = await upload(client, files=files)
        assert response.status_code == 413
        assert "more than 2 files" in response.json()["error"]
        fields = {"a": "1", "b": "2", "c": "3"}
        response = await upload(client, files=[("f", ("f.stl", b"x", "model/stl"))], data=fields)
        assert response.status_code == 413
        assert "more than 2 text fields" in response.json()["error"]
    assert stored_files(store) == []


async def test_an_overlong_text_field_is_refused(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    body = multipart(
        file_part("f", "a.stl", b"x"),
        b'Content-Disposition: form-data; name="notes"\r\n\r\n' + b"n" * (64 * 1024 + 1),
    )
    response = await client.post("/upload", content=body, headers=MULTIPART_TYPE)
    assert response.status_code == 413
    assert "longer than 64 KiB" in response.json()["error"]
    assert stored_files(store) == []


async def test_a_path_in_the_filename_is_reduced_to_its_base_name(
    client: httpx.AsyncClient, store: BlobStore
) -> None:
    response = await upload(
        client, files=[("f", ("../../etc/passwd", b"root:x:0:0", "text/plain"))]
    )
    assert response.status_code == 200
    assert response.json()["files"][0]["filename"] == "passwd"
    assert not (store.root.parent / "etc").exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\gear.stl", "gear.stl"),
        ("..", "file"),
        ("", "file"),
        ("evil\u202eltx.exe", "evilltx.exe"),
        ("tab\tand\nnewline.stl", "tabandnewline.stl"),
        ("  spaced.stl.  ", "spaced.stl"),
        ("a" * 300 + ".stl", "a" * 251 + ".stl"),
        ("Zahnrad-\u00fc.stl", "Zahnrad-\u00fc.stl"),
    ],
)
def test_sanitise_filename(raw: str, clean: str) -> None:
    assert sanitise_filename(raw) == clean


async def test_an_empty_file_input_is_ignored(client: httpx.AsyncClient, store: BlobStore) -> None:
    body = multipart(
        file_part("photo", "", b"", content_type="application/octet-stream"),
        b'Content-Disposition: form-data; name="title"\r\n\r\nGear',
    )
    response = await client.post("/upload", content=body, headers=MULTIPART_TYPE)
    assert response.status_code == 200
    assert response.json() == {"fields": {"title": ["Gear"]}, "files": []}
    assert stored_files(store) == []


async def test_a_hostile_content_type_becomes_octet_stream(client: httpx.AsyncClient) -> None:
    body = multipart(file_part("f", "a.bin", b"x", content_type="not a type"))
    response = await client.post("/upload", content=body, headers=MULTIPART_TYPE)
    assert response.json()["files"][0]["content_type"] == "application/octet-stream"


async def test_discard_leaves_nothing(client: httpx.AsyncClient, store: BlobStore) -> None:
    response = await upload(
        client, files=[("f", ("a.stl", b"abc", "model/stl"))], data={"action": "discard"}
    )
    assert response.json() == {"discarded": 1}
    assert stored_files(store) == []


async def test_a_client_disconnect_midway_discards_everything(
    store: BlobStore, quota: UploadQuota
) -> None:
    app = make_app(store, quota)
    first_half = multipart(file_part("f", "a.stl", b"z" * 500), end=False)[:-2]
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": first_half, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", MULTIPART_TYPE["content-type"].encode())],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert stored_files(store) == []


async def upload_one(
    client: httpx.AsyncClient, filename: str, data: bytes, content_type: str
) -> str:
    response = await upload(client, files=[("f", (filename, data, content_type))])
    assert response.status_code == 200, response.text
    return str(response.json()["files"][0]["sha256"])


async def test_a_served_blob_carries_its_digests_and_caches_forever(
    client: httpx.AsyncClient,
) -> None:
    data = b"solid gear\nendsolid gear\n"
    sha256 = await upload_one(client, "gear.stl", data, "model/stl")
    url = f"/files/{sha256}?name=gear.stl&type=model/stl"
    response = await client.get(url)
    assert response.status_code == 200
    assert response.content == data
    headers = response.headers
    assert headers["etag"] == f'"{sha256}"'
    assert headers["content-length"] == str(len(data))
    assert headers["content-type"] == "model/stl"
    assert headers["digest"] == f"sha-256={sha256_b64(data)}"
    assert headers["repr-digest"] == f"sha-256=:{sha256_b64(data)}:"
    assert headers["content-disposition"] == 'inline; filename="gear.stl"'
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["x-content-type-options"] == "nosniff"

    not_modified = await client.get(url, headers={"if-none-match": f'W/"x", "{sha256}"'})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == f'"{sha256}"'
    changed = await client.get(url, headers={"if-none-match": '"something-else"'})
    assert changed.status_code == 200


async def test_ranges_and_head_still_work(client: httpx.AsyncClient) -> None:
    data = bytes(range(256)) * 3
    sha256 = await upload_one(client, "blob.bin", data, "application/octet-stream")
    url = f"/files/{sha256}?name=blob.bin&type=application/octet-stream"
    partial = await client.get(url, headers={"range": "bytes=10-19", "if-range": f'"{sha256}"'})
    assert partial.status_code == 206
    assert partial.content == data[10:20]
    assert partial.headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert partial.headers["repr-digest"] == f"sha-256=:{sha256_b64(data)}:"
    head = await client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))
    assert head.content == b""


@pytest.mark.parametrize("media_type", ["image/svg+xml", "text/html", "application/javascript"])
async def test_script_capable_files_are_downloads_in_a_sandbox(
    client: httpx.AsyncClient, media_type: str
) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    sha256 = await upload_one(client, "logo.svg", svg, media_type)
    response = await client.get(f"/files/{sha256}", params={"name": "logo.svg", "type": media_type})
    assert response.headers["content-disposition"] == 'attachment; filename="logo.svg"'
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_non_ascii_filename_gets_an_rfc_5987_name(client: httpx.AsyncClient) -> None:
    sha256 = await upload_one(client, "Zahnrad-ü.stl", b"solid", "model/stl")
    response = await client.get(
        f"/files/{sha256}", params={"name": "Zahnrad-ü.stl", "type": "model/stl"}
    )
    assert response.headers["content-disposition"] == (
        "inline; filename=\"Zahnrad-u.stl\"; filename*=UTF-8''Zahnrad-%C3%BC.stl"
    )


def test_content_disposition_quotes_what_it_must() -> None:
    assert content_disposition("attachment", 'a"b.stl') == (
        "attachment; filename=\"a_b.stl\"; filename*=UTF-8''a%22b.stl"
    )
    assert content_disposition("attachment", "齿轮.stl") == (
        "attachment; filename=\".stl\"; filename*=UTF-8''%E9%BD%BF%E8%BD%AE.stl"
    )


async def test_a_missing_blob_is_404(store: BlobStore, tmp_path: Path) -> None:
    blob = await store.put_bytes(b"here today")
    store.path_for(blob.sha256).unlink()
    request = Request({"type": "http", "method": "GET", "headers": [], "query_string": b""})
    with pytest.raises(FederationError) as raised:
        blob_response(store, blob, filename="a", media_type="text/plain", request=request)
    assert raised.value.status == 404
