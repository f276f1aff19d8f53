"""Stored files in an S3-compatible bucket, so that several machines serve one instance.

Blobs keep the local store's names under the bucket: `sha256/ab/cd/abcd...`. Every upload
carries the blob's SHA-256 as its S3 checksum, so the service refuses bytes that do not
match it, and a blob already in the bucket with that checksum is never sent again. The
data directory's store (objects.blobs) stays in front as a cache: a new blob is placed
there first and then uploaded before the write is acknowledged; a blob another machine
stored is downloaded into it, its digest checked, when it is first needed here.

The client is aiobotocore's (async, maintained with botocore). The bucket is the
operator's own setting, never an address taken from a request, so it does not go through
the SSRF guard that every fetch of a remote address does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from federation.settings import Settings
from objects.blobs import BlobStore, StagedBlob, StoredBlob, is_sha256

CHUNK = 1024 * 1024
PREFIX = "sha256/"


def blob_key(sha256: str) -> str:
    return f"{PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}"


def checksum(sha256: str) -> str:
    """A SHA-256 digest as S3's ChecksumSHA256 header writes it (base64)."""
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


class S3Bucket:
    """One bucket of an S3-compatible service, through an open aiobotocore client."""

    def __init__(self, client: Any, bucket: str, presign_seconds: int | None) -> None:
        self.client = client
        self.bucket = bucket
        # None: downloads are served by us; else redirected to URLs valid this long.
        self.presign_seconds = presign_seconds

    async def stored_checksum(self, sha256: str) -> tuple[int, str | None] | None:
        """(size, the SHA-256 (hex) the blob was uploaded with, if the service kept it) of a
        stored blob, or None when it is not there."""
        try:
            head = await self.client.head_object(
                Bucket=self.bucket, Key=blob_key(sha256), ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        kept = head.get("Metadata", {}).get("sha256")
        if kept is None and head.get("ChecksumSHA256"):
            kept = base64.b64decode(head["ChecksumSHA256"]).hex()
        return int(head["ContentLength"]), kept

    async def holds(self, blob: StoredBlob) -> bool:
        """True when the bucket has this blob, of its size and (where kept) its checksum."""
        found = await self.stored_checksum(blob.sha256)
        if found is None:
            return False
        size, kept = found
        return size == blob.size and kept in (None, blob.sha256)

    async def upload(self, path: Path, blob: StoredBlob) -> None:
        """Send a local file as `blob`; the service checks its bytes against the checksum."""
        with path.open("rb") as body:
            await self.client.put_object(
                Bucket=self.bucket,
                Key=blob_key(blob.sha256),
                Body=body,
                ContentLength=blob.size,
                ChecksumSHA256=checksum(blob.sha256),
                Metadata={"sha256": blob.sha256},
            )

    async def download(self, sha256: str, staged: StagedBlob) -> None:
        """Write the stored bytes into `staged` as they arrive (its digest is checked after)."""
        answer = await self.client.get_object(Bucket=self.bucket, Key=blob_key(sha256))
        async with answer["Body"] as body:
            while chunk := await body.read(CHUNK):
                await staged.awrite(chunk)

    async def blobs(self) -> AsyncIterator[StoredBlob]:
        """Every blob in the bucket."""
        pages = self.client.get_paginator("list_objects_v2")
        async for page in pages.paginate(Bucket=self.bucket, Prefix=PREFIX):
            for item in page.get("Contents", []):
                name = str(item["Key"]).rsplit("/", 1)[-1]
                if is_sha256(name) and item["Key"] == blob_key(name):
                    yield StoredBlob(name, int(item["Size"]))

    async def presigned_url(self, sha256: str, disposition: str, media_type: str) -> str:
        url: str = await self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": blob_key(sha256),
                "ResponseContentDisposition": disposition,
                "ResponseContentType": media_type,
            },
            ExpiresIn=self.presign_seconds or 300,
        )
        return url


@contextlib.asynccontextmanager
async def s3_client(settings: Settings) -> AsyncIterator[Any]:
    """An aiobotocore S3 client for the configured service (path-style addressing, which
    every S3-compatible service accepts)."""
    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id or None,
        aws_secret_access_key=settings.s3_secret_access_key or None,
        config=AioConfig(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=settings.http_timeout_seconds,
            read_timeout=max(settings.http_timeout_seconds, 60.0),
        ),
    ) as client:
        yield client


@contextlib.asynccontextmanager
async def open_blob_store(settings: Settings, root: Path | None = None) -> AsyncIterator[BlobStore]:
    """The instance's file store: the data directory's, in front of the bucket when
    OURDESIGN_FILE_STORE is s3."""
    local = root or settings.data_dir / "files"
    if settings.file_store != "s3":
        yield BlobStore(local)
        return
    async with s3_client(settings) as client:
        presign = settings.s3_presign_seconds if settings.s3_presigned_downloads else None
        yield BlobStore(local, remote=S3Bucket(client, settings.s3_bucket, presign))


@dataclass
class MoveReport:
    """What `push_all` did: blobs sent, already there, and damaged (not sent)."""

    sent: int = 0
    present: int = 0
    bytes_sent: int = 0
    damaged: list[str] = field(default_factory=list)


def local_blobs(store: BlobStore) -> list[StoredBlob]:
    """Every blob in the store's directory, by name (staged writes are elsewhere)."""
    found = []
    for directory, _, names in sorted(os.walk(store.blobs_dir)):
        for name in sorted(names):
            path = Path(directory) / name
            if is_sha256(name) and path == store.path_for(name):
                found.append(StoredBlob(name, path.stat().st_size))
    return found


async def push_all(store: BlobStore) -> MoveReport:
    """Upload every local blob the bucket lacks, each one's digest checked first (here, and
    by the service against its checksum); resumable, as what is there is skipped."""
    if store.remote is None:
        raise ValueError("this store has no bucket to move to")
    report = MoveReport()
    for blob in await asyncio.to_thread(local_blobs, store):
        if await store.remote.holds(blob):
            report.present += 1
        elif not await store.averify(blob.sha256):
            report.damaged.append(blob.sha256)
        else:
            await store.remote.upload(store.path_for(blob.sha256), blob)
            if not await store.remote.holds(blob):
                raise ValueError(f"the bucket does not hold {blob.sha256} after its upload")
            report.sent += 1
            report.bytes_sent += blob.size
    return report


async def pull_all(store: BlobStore) -> int:
    """Fetch every blob of the bucket this directory lacks (each digest checked); how many."""
    if store.remote is None:
        return 0
    pulled = 0
    async for blob in store.remote.blobs():
        if await asyncio.to_thread(store.get, blob.sha256) is None:
            await store.local_path(blob.sha256, max_bytes=blob.size)
            pulled += 1
    return pulled
