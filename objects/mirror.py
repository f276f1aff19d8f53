"""Copies of files kept on other instances, fetched by their digest.

A fork made here of a design from elsewhere points at the upstream's files where they
are. To show such a file (the 3D viewer, a thumbnail) we keep a copy: fetched through the
instance's client (its SSRF guard checks every address), written into the blob store as it
arrives, and kept only if its bytes hash to the SHA-256 the design claims. A copy under
its digest serves as well as the original, and outlives it.
"""

from __future__ import annotations

import httpx

from federation.errors import FetchError
from federation.http import stream_get
from objects.blobs import BlobStore, BlobTooLarge, StoredBlob


async def mirror_blob(
    client: httpx.AsyncClient, blobs: BlobStore, url: str, sha256: str, *, max_bytes: int
) -> StoredBlob:
    """The blob `sha256`, fetched from `url` unless it is here already; FetchError when it
    cannot be fetched, is too large, or its bytes are not what the digest says."""
    found = await blobs.aget(sha256)
    if found is not None:
        return found
    async with stream_get(client, url) as response:
        if response.status_code != 200:
            raise FetchError(f"{response.url} answered {response.status_code}")
        return await _store(response, blobs, sha256, max_bytes)


async def _store(
    response: httpx.Response, blobs: BlobStore, sha256: str, max_bytes: int
) -> StoredBlob:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{response.url} is larger than {max_bytes} bytes")
    async with blobs.stage(max_bytes=max_bytes, name=str(response.url)) as staged:
        try:
            async for chunk in response.aiter_bytes():
                await staged.awrite(chunk)
        except BlobTooLarge as exc:
            raise FetchError(f"{response.url} is larger than {max_bytes} bytes") from exc
        if staged.sha256 != sha256:
            raise FetchError(
                f"{response.url} does not hold the file its design names: its bytes hash to "
                f"{staged.sha256}, not {sha256}"
            )
        return await staged.acommit()
