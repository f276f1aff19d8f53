"""Serving stored blobs: cacheable forever, verifiable, and never script on our origin.

A blob's URL names its digest, so its bytes never change: the ETag is the digest, the
response may be cached for a year, and `Digest`/`Repr-Digest` let a client or mirror
check what it got. Uploaded files are hostile until proven otherwise, so only types a
browser displays without running code are served inline; everything else is a download
in a sandbox.
"""

from __future__ import annotations

import os
import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from federation.errors import FederationError
from objects.blobs import BlobStore, StoredBlob

IMMUTABLE = "public, max-age=31536000, immutable"
SANDBOX_CSP = "default-src 'none'; sandbox"
DEFAULT_MEDIA_TYPE = "application/octet-stream"

# Types browsers render without running anything we did not write. SVG, HTML, XML and
# the like can carry script, so they are not here.
INLINE_MEDIA_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "application/pdf",
        "model/stl",
        "text/plain",
        "video/mp4",
        "video/webm",
        "audio/mpeg",
        "audio/ogg",
    }
)
_TOKEN = r"[a-z0-9!#$&^_.+-]+"
_MEDIA_TYPE_ESSENCE = re.compile(f"{_TOKEN}/{_TOKEN}")
_MAX_MEDIA_TYPE = 255


def clean_media_type(value: str | None) -> str:
    """`value` as a header-safe media type (essence lower-cased), or application/octet-stream."""
    if not value or len(value) > _MAX_MEDIA_TYPE or not (value.isascii() and value.isprintable()):
        return DEFAULT_MEDIA_TYPE
    essence, semicolon, parameters = value.partition(";")
    essence = essence.strip().lower()
    if not _MEDIA_TYPE_ESSENCE.fullmatch(essence):
        return DEFAULT_MEDIA_TYPE
    return f"{essence}; {parameters.strip()}" if semicolon and parameters.strip() else essence


def media_type_essence(media_type: str) -> str:
    return media_type.partition(";")[0].strip().lower()


def content_disposition(disposition: str, filename: str) -> str:
    """A Content-Disposition value with an ASCII `filename` and, if needed, RFC 5987 `filename*`."""
    fallback = _ascii_filename(filename)
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def etag_for(blob: StoredBlob) -> str:
    return f'"{blob.sha256}"'


def blob_response(
    store: BlobStore, blob: StoredBlob, *, filename: str, media_type: str, request: Request
) -> Response:
    """The blob as a download (ranges, HEAD and If-None-Match included).

    Raises FederationError 404 if the blob is not stored here, 500 if the stored copy
    has the wrong size (it would contradict the ETag and digests we send).
    """
    media_type = clean_media_type(media_type)
    headers = {"etag": etag_for(blob), "cache-control": IMMUTABLE}
    if request.method in ("GET", "HEAD") and _etag_matches(
        request.headers.get("if-none-match"), headers["etag"]
    ):
        return Response(status_code=304, headers=headers)
    headers |= _safety_headers(media_type, filename)
    headers |= {"digest": blob.digest_header, "repr-digest": blob.repr_digest_header}
    path = store.path_for(blob.sha256)
    try:
        stat = os.stat(path)
    except FileNotFoundError as exc:
        raise FederationError(f"the file {blob.sha256} is not stored here", status=404) from exc
    if stat.st_size != blob.size:
        raise FederationError(f"the stored copy of {blob.sha256} is damaged", status=500)
    return FileResponse(path, headers=headers, media_type=media_type, stat_result=stat)


async def download_response(
    store: BlobStore, blob: StoredBlob, *, filename: str, media_type: str, request: Request
) -> Response:
    """`blob_response`, for a store whose files may be in an S3-compatible bucket: a
    redirect to a presigned URL of it where the operator chose so (the URL carries the same
    Content-Disposition and type), else the local copy, fetched from the bucket first if
    this machine has none."""
    remote = store.remote
    if remote is not None and remote.presign_seconds is not None and request.method == "GET":
        media_type = clean_media_type(media_type)
        disposition = _safety_headers(media_type, filename)["content-disposition"]
        url = await remote.presigned_url(blob.sha256, disposition, media_type)
        return RedirectResponse(url, status_code=307, headers={"cache-control": "no-store"})
    if remote is not None:
        try:
            await store.local_path(blob.sha256, max_bytes=blob.size)
        except FileNotFoundError as exc:
            raise FederationError(f"the file {blob.sha256} is not stored here", status=404) from exc
    return blob_response(store, blob, filename=filename, media_type=media_type, request=request)


def _safety_headers(media_type: str, filename: str) -> dict[str, str]:
    essence = media_type_essence(media_type)
    disposition = "inline" if essence in INLINE_MEDIA_TYPES else "attachment"
    headers = {
        "content-disposition": content_disposition(disposition, filename),
        "x-content-type-options": "nosniff",
    }
    # Browsers refuse to show a PDF in a sandboxed document; their PDF viewers run
    # isolated from our origin anyway. Everything else gets no script, no plugins.
    if essence != "application/pdf":
        headers["content-security-policy"] = SANDBOX_CSP
    return headers


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    # If-None-Match uses the weak comparison: W/"x" matches "x" (RFC 9110 section 13.1.2).
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def _ascii_filename(filename: str) -> str:
    # Old clients read only `filename`: strip accents, then replace what cannot be quoted.
    decomposed = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    safe = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in decomposed)
    return safe or "file"
