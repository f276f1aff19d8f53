"""GET /ipfs/{cid}: a file we hold, by its IPFS CID, as a trustless gateway answers it.

`?format=raw` (or `Accept: application/vnd.ipld.raw`) gives the one block the CID names,
`?format=car` (or `Accept: application/vnd.ipld.car`) every block of the file's DAG, and no
format the file's bytes. See docs/PERMANENCE.md for where this follows the trustless
gateway specification and where it does not.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from federation.errors import ValidationError
from objects.blobs import StoredBlob
from objects.ipfs import CAR, RAW_BLOCK, car_stream, held_file, parse_cid
from web.files import IMMUTABLE, blob_response
from web.instance import instance_of
from web.scopes import PUBLIC, ScopedRoute

_FORMATS = {"raw": RAW_BLOCK, "car": CAR}


def _wanted(request: Request) -> str | None:
    """The block form asked for ('raw' or 'car'), or None for the file's bytes."""
    asked = request.query_params.get("format")
    if asked is not None:
        if asked not in _FORMATS:
            raise ValidationError(
                f"format={asked[:40]!r} is not served here; ask for format=raw or format=car, "
                "or leave it out for the file's bytes",
                status=400,
            )
        return asked
    accept = request.headers.get("accept", "")
    return next((name for name, kind in _FORMATS.items() if kind in accept), None)


def _download(cid: str, form: str) -> dict[str, str]:
    name = f"{cid}.{'car' if form == 'car' else 'bin'}"
    return {"etag": f'"{cid}.{form}"', "content-disposition": f'attachment; filename="{name}"'}


async def ipfs_file(request: Request) -> Response:
    instance = instance_of(request)
    cid = parse_cid(request.path_params["cid"])
    wanted = _wanted(request)
    async with instance.sessions() as session:
        held = await held_file(session, instance.blobs, cid)
    blob = StoredBlob(held.file.sha256, held.file.size)
    headers = {
        "x-ipfs-path": f"/ipfs/{cid}",
        "x-ipfs-roots": cid,
        "x-content-type-options": "nosniff",
        "cache-control": IMMUTABLE,
        "vary": "Accept",
    }
    if wanted == "car":
        headers |= {
            "etag": f'"{cid}.car"',
            "content-disposition": f'attachment; filename="{cid}.car"',
        }
        return StreamingResponse(
            car_stream(instance.blobs, held), media_type=f"{CAR}; version=1", headers=headers
        )
    if wanted == "raw" and held.dag.block is not None:
        headers |= {
            "etag": f'"{cid}.raw"',
            "content-disposition": f'attachment; filename="{cid}.bin"',
        }
        return Response(held.dag.block, media_type=RAW_BLOCK, headers=headers)
    # The file's bytes: for a raw CID they are the block itself.
    response = blob_response(
        instance.blobs,
        blob,
        filename=f"{cid}.bin" if wanted == "raw" else held.file.filename,
        media_type=RAW_BLOCK if wanted == "raw" else held.file.media_type,
        request=request,
    )
    response.headers.update(headers)
    return response


routes = [ScopedRoute("/ipfs/{cid}", ipfs_file, methods=["GET", "HEAD"], scope=PUBLIC)]
