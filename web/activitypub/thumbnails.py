"""GET /thumbnails/{sha256}.png: the picture the worker drew of a 3D file (by its SHA-256)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation.errors import FederationError
from federation.queue import FAILED
from objects.blobs import check_sha256
from objects.thumbnail_models import ThumbnailJob
from web.files import download_response
from web.instance import instance_of


async def thumbnail(request: Request) -> Response:
    instance = instance_of(request)
    source = check_sha256(request.path_params["sha256"])
    async with instance.sessions() as session:
        job = await session.scalar(select(ThumbnailJob).where(ThumbnailJob.source_sha256 == source))
    made = await instance.blobs.aget(job.thumbnail_sha256) if job and job.thumbnail_sha256 else None
    if made is None:
        raise FederationError(_missing(job), status=404)
    return await download_response(
        instance.blobs, made, filename=f"{source}.png", media_type="image/png", request=request
    )


def _missing(job: ThumbnailJob | None) -> str:
    if job is None:
        return "there is no 3D file with this SHA-256 here, so there is no thumbnail of it"
    if job.state == FAILED:
        return f"no thumbnail can be made of {job.file_name}: {job.last_error}"
    return f"the thumbnail of {job.file_name} is not made yet; try again in a little while"


routes = [Route("/thumbnails/{sha256}.png", thumbnail, methods=["GET", "HEAD"])]
