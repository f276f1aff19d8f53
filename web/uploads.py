"""Reading multipart/form-data uploads straight into the blob store.

The request body is streamed through python-multipart's push parser: file parts go
into staged blobs as they arrive (hashed on the fly, never whole in memory) and small
text fields into a dict. Every limit is checked while streaming, and whatever was
staged is discarded on any failure, so a refused, malformed or abandoned upload
leaves nothing behind.
"""

from __future__ import annotations

import re

from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from federation.errors import ValidationError
from objects.blobs import BlobStore, BlobTooLarge
from objects.upload_quota import UploadQuota
from web.multipart import MULTIPART_OVERHEAD, Limits, MultipartReader
from web.uploaded import Upload

_CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")


async def read_upload(
    request: Request,
    store: BlobStore,
    *,
    quota: UploadQuota,
    max_file_bytes: int,
    max_total_bytes: int,
    max_fields: int = 100,
    max_files: int = 50,
) -> Upload:
    """Parse a multipart/form-data request body, staging its files in `store`.

    Raises ValidationError: 415 if the body is not multipart/form-data, 400 if it is
    malformed or cut off, 413 (BlobTooLarge) if a file or the whole is over its limit
    or there are too many parts; QuotaExceeded (413) if the files would pass the
    uploader's `quota`. Nothing stays staged after an error.
    """
    boundary = _boundary_of(request.headers.get("content-type"))
    limits = Limits(max_file_bytes, max_total_bytes, max_fields, max_files, quota)
    _refuse_declared_length(request.headers.get("content-length"), limits)
    reader = MultipartReader(store, limits)
    try:
        await reader.read(boundary, request.stream())
    except BaseException:
        reader.upload._discard_staged()
        raise
    return reader.upload


def _boundary_of(content_type: str | None) -> bytes:
    media_type, parameters = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data":
        got = media_type.decode("latin-1") or "no Content-Type"
        raise ValidationError(
            f"uploads must be sent as multipart/form-data, not {got!s:.80}; send the files "
            'as a multipart/form-data form (an HTML form with enctype="multipart/form-data")',
            status=415,
        )
    boundary = parameters.get(b"boundary")
    if not boundary:
        raise ValidationError(
            "the multipart/form-data Content-Type has no boundary parameter; "
            "send 'multipart/form-data; boundary=...'",
            status=400,
        )
    return boundary


def _refuse_declared_length(content_length: str | None, limits: Limits) -> None:
    # Refuse before reading a byte: no point receiving what we will not keep.
    if content_length is None:
        return
    if not _CONTENT_LENGTH.fullmatch(content_length.strip()):
        raise ValidationError("the Content-Length header is not a whole number", status=400)
    if int(content_length) > limits.body_bytes:
        raise BlobTooLarge.for_upload(limits.total_bytes)
    limits.quota.check(max(0, int(content_length) - MULTIPART_OVERHEAD))
