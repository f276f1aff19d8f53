"""Mastodon's media API: files uploaded to be attached to statuses, and serving them.

A file is streamed into the blob store (the content-addressed store design files use),
then Pillow reads what it really is in a limited child process (objects.media_files): the
client's declared type is not trusted. A row (`objects.media_models.MediaAttachment`)
describes it; only its uploader may see, change or attach it, and only until it is
attached (`POST /api/v1/statuses` with `media_ids`).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors.models import Actor
from federation.errors import FederationError, ValidationError
from objects.blobs import StoredBlob, check_sha256
from objects.convert import MAX_DESCRIPTION_CHARS, MEDIA_EXTENSIONS
from objects.media_files import ACCEPTED, ImageFacts, read_image
from objects.media_models import MediaAttachment
from objects.upload_quota import upload_quota
from web.account_json import form_or_json
from web.bearer import token_actor
from web.files import download_response
from web.instance import instance_of
from web.mastodon.paging import NOT_FOUND
from web.mastodon.status import media_entity
from web.request_input import whole_id
from web.scopes import ScopedRoute
from web.uploaded import Upload
from web.uploads import read_upload

WRITE_MEDIA = "write:media"

# Uploading


async def upload_media(request: Request) -> Response:
    """v1 and v2 alike: images are processed at once, so both answer 200 with the entity."""
    instance = instance_of(request)
    me = await token_actor(request)
    upload = await read_upload(
        request,
        instance.blobs,
        quota=await upload_quota(
            instance.sessions, me, instance.settings.default_upload_quota_bytes
        ),
        max_file_bytes=instance.settings.max_file_bytes,
        max_total_bytes=instance.settings.max_file_bytes,
        max_files=1,
    )
    async with upload:  # anything raised before commit() discards the staged file
        _the_file(upload)
        description = _description(upload.value("description"))
        focus = _focus(upload.value("focus"))
        [(_, blob)] = await upload.commit()
    facts = await read_image(instance.sandbox, str(instance.blobs.path_for(blob.sha256)))
    async with instance.sessions() as session:
        media = _new_media(me, blob, facts, description, focus)
        session.add(media)
        await session.commit()
        return JSONResponse(media_entity(instance.urls, media))


def _the_file(upload: Upload) -> None:
    if [f.field_name for f in upload.files] != ["file"]:
        raise ValidationError(f"send one file, in the multipart field 'file'; {ACCEPTED}")


def _new_media(
    me: Actor,
    blob: StoredBlob,
    facts: ImageFacts,
    description: str | None,
    focus: tuple[float, float],
) -> MediaAttachment:
    return MediaAttachment(
        account_id=me.id,
        sha256=blob.sha256,
        media_type=facts.media_type,
        size=blob.size,
        width=facts.width,
        height=facts.height,
        blurhash=facts.blurhash,
        description=description,
        focus_x=focus[0],
        focus_y=focus[1],
    )


def _description(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError("'description' must be text")
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise ValidationError(
            f"'description' is longer than {MAX_DESCRIPTION_CHARS} characters; shorten it"
        )
    return value.strip() or None


def _focus(value: Any) -> tuple[float, float]:
    """Mastodon's focal point "x,y", each from -1.0 to 1.0 (0,0 is the centre)."""
    if value is None or value == "":
        return 0.0, 0.0
    try:
        x, y = (float(part) for part in str(value).split(","))
    except ValueError as exc:
        raise ValidationError("'focus' must be two numbers 'x,y' from -1.0 to 1.0") from exc
    if not all(math.isfinite(c) and -1.0 <= c <= 1.0 for c in (x, y)):
        raise ValidationError("'focus' must be two numbers 'x,y' from -1.0 to 1.0")
    return x, y


# Reading and changing one's own uploads


async def get_media(request: Request) -> Response:
    instance = instance_of(request)
    me = await token_actor(request)
    async with instance.sessions() as session:
        media = await _own_media(session, me, request.path_params["id"])
        return JSONResponse(media_entity(instance.urls, media))


async def update_media(request: Request) -> Response:
    """The description and focal point, while the upload is not attached to a status."""
    instance = instance_of(request)
    me = await token_actor(request)
    body = await form_or_json(request, instance.settings.max_body_bytes, dict)
    description = _description(body.get("description")) if "description" in body else None
    focus = _focus(body.get("focus")) if "focus" in body else None
    async with instance.sessions() as session:
        media = await _own_media(session, me, request.path_params["id"])
        if media.note_id is not None:
            raise ValidationError("this media is attached to a status and cannot be changed")
        if "description" in body:
            media.description = description
        if focus is not None:
            media.focus_x, media.focus_y = focus
        await session.commit()
        return JSONResponse(media_entity(instance.urls, media))


async def _own_media(session: Any, me: Actor, raw_id: str) -> MediaAttachment:
    """Someone else's upload is as unknown as one that does not exist."""
    media = await session.get(MediaAttachment, whole_id(raw_id, NOT_FOUND))
    if media is None or media.account_id != me.id:
        raise FederationError(NOT_FOUND, status=404)
    assert isinstance(media, MediaAttachment)
    return media


# Serving the files


async def media_file(request: Request) -> Response:
    """The bytes of an upload, at a URL named by their digest (cacheable forever)."""
    instance = instance_of(request)
    sha256 = check_sha256(request.path_params["sha256"])
    async with instance.sessions() as session:
        media_type = await session.scalar(
            select(MediaAttachment.media_type).where(MediaAttachment.sha256 == sha256).limit(1)
        )
    blob = await instance.blobs.aget(sha256)
    extension = request.path_params["extension"]
    if media_type is None or blob is None or MEDIA_EXTENSIONS.get(media_type) != extension:
        raise FederationError("there is no such file here", status=404)
    return await download_response(
        instance.blobs,
        blob,
        filename=f"{sha256}.{extension}",
        media_type=media_type,
        request=request,
    )


routes = [
    ScopedRoute("/api/v1/media", upload_media, methods=["POST"], scope=WRITE_MEDIA),
    ScopedRoute("/api/v2/media", upload_media, methods=["POST"], scope=WRITE_MEDIA),
    ScopedRoute("/api/v1/media/{id}", get_media, methods=["GET"], scope=WRITE_MEDIA),
    ScopedRoute("/api/v1/media/{id}", update_media, methods=["PUT"], scope=WRITE_MEDIA),
    Route("/media/{sha256}.{extension}", media_file, methods=["GET", "HEAD"]),
]
