"""Stored files in an S3-compatible bucket: a real moto_server process on loopback
(tests/s3_server.py), reached over HTTP by aiobotocore as any S3 service would be."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.settings import Settings
from objects.blobs import BlobStore
from objects.object_store import blob_key, checksum, open_blob_store, s3_client
from tests.s3_server import new_bucket_settings
from tests.support import ourdesign
from tests.test_design_federation import STL, new_project, publish
from web.ops.backup import backup, restore

ON_S3 = pytest.mark.parametrize("file_store", ["s3"], indirect=True)


async def bucket(s3_endpoint: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, **await new_bucket_settings(s3_endpoint))


async def test_what_one_machine_stores_another_reads_with_its_digest_checked(s3_endpoint, tmp_path):
    settings = await bucket(s3_endpoint, tmp_path)
    data = os.urandom(3 * 1024 * 1024 + 7)  # several chunks each way
    async with (
        open_blob_store(settings, tmp_path / "one") as one,
        open_blob_store(settings, tmp_path / "two") as two,
    ):
        async with one.stage(max_bytes=len(data)) as staged:
            for start in range(0, len(data), 100_000):  # a streamed upload
                await staged.awrite(data[start : start + 100_000])
            blob = await staged.acommit()
        assert blob.sha256 == hashlib.sha256(data).hexdigest()
        assert two.get(blob.sha256) is None  # not on this machine's disk...
        assert await two.aget(blob.sha256) == blob  # ...but in the bucket
        path = await two.local_path(blob.sha256)
        assert path.read_bytes() == data and two.verify(blob.sha256)
        assert two.remote is not None and await two.remote.holds(blob)
        assert await two.aget("0" * 64) is None
        with pytest.raises(FileNotFoundError):
            await two.local_path("0" * 64)


async def test_a_damaged_copy_in_the_bucket_is_refused(s3_endpoint, tmp_path):
    settings = await bucket(s3_endpoint, tmp_path)
    sha256 = hashlib.sha256(b"the real bytes").hexdigest()
    async with s3_client(settings) as client:
        await client.put_object(Bucket=settings.s3_bucket, Key=blob_key(sha256), Body=b"other")
    async with open_blob_store(settings) as store:
        with pytest.raises(ValueError, match="damaged"):
            await store.local_path(sha256)
        assert store.get(sha256) is None  # nothing was placed


async def test_each_upload_carries_the_digest_as_its_checksum(s3_endpoint, tmp_path):
    settings = await bucket(s3_endpoint, tmp_path)
    async with open_blob_store(settings) as store:
        blob = await store.put_bytes(b"small and in memory")
    async with s3_client(settings) as client:
        head = await client.head_object(
            Bucket=settings.s3_bucket, Key=blob_key(blob.sha256), ChecksumMode="ENABLED"
        )
    assert head["Metadata"]["sha256"] == blob.sha256 and head["ContentLength"] == blob.size
    # Services that keep S3 checksums (Amazon's, MinIO) keep ours and check the bytes by it.
    assert head.get("ChecksumSHA256", checksum(blob.sha256)) == blob.sha256_base64


@ON_S3
async def test_downloads_redirect_to_presigned_urls_when_chosen(nodes: Any) -> None:
    a = await nodes("a.test", s3_presigned_downloads=True)
    _, token = await a.user("alice")
    await new_project(a, token, "gearbox")
    version = await publish(a, token, "gearbox", "CC-BY-SA-4.0")
    stl = next(file for file in version["files"] if file["filename"] == "gearbox.stl")
    async with a.client() as client:
        answer = await client.get(stl["url"])
    assert answer.status_code == 307
    assert answer.headers["location"].startswith(a.instance.settings.s3_endpoint_url)
    async with httpx.AsyncClient() as outside:  # the bucket serves it, not the instance
        fetched = await outside.get(answer.headers["location"])
    assert fetched.status_code == 200 and fetched.content == STL
    assert "gearbox.stl" in fetched.headers["content-disposition"]
    assert fetched.headers["content-type"] == "model/stl"


def test_move_to_s3_checks_every_digest_and_resumes(s3_endpoint, tmp_path, monkeypatch):
    import asyncio

    settings = asyncio.run(bucket(s3_endpoint, tmp_path / "data"))
    store = BlobStore(tmp_path / "data" / "files")
    blobs = [asyncio.run(store.put_bytes(f"file {n}".encode())) for n in range(3)]
    damaged = blobs[2]
    path = store.path_for(damaged.sha256)
    path.chmod(0o644)
    path.write_bytes(b"file X")  # same size, other bytes
    for name in ("file_store", "s3_endpoint_url", "s3_bucket", "s3_access_key_id"):
        monkeypatch.setenv(f"OURDESIGN_{name.upper()}", str(getattr(settings, name)))
    monkeypatch.setenv("OURDESIGN_S3_SECRET_ACCESS_KEY", settings.s3_secret_access_key)

    first = ourdesign(tmp_path / "data", "storage", "move-to-s3", check=False)
    assert first.returncode == 1
    assert "sent 2 file(s)" in first.stdout and damaged.sha256 in first.stderr
    path.write_bytes(b"file 2")  # repaired from a backup
    second = ourdesign(tmp_path / "data", "storage", "move-to-s3")
    assert "sent 1 file(s)" in second.stdout and "2 already in the bucket" in second.stdout

    async def all_there() -> list[bool]:
        async with open_blob_store(settings, tmp_path / "elsewhere") as elsewhere:
            assert elsewhere.remote is not None
            return [await elsewhere.remote.holds(blob) for blob in blobs]

    assert asyncio.run(all_there()) == [True, True, True]


def test_move_to_s3_needs_the_s3_settings(tmp_path):
    refused = ourdesign(tmp_path, "storage", "move-to-s3", check=False)
    assert refused.returncode == 2 and "OURDESIGN_FILE_STORE=s3" in refused.stderr


@ON_S3
async def test_backup_takes_files_from_the_bucket_and_restore_puts_them_back(
    nodes: Any, new_database: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await new_project(a, token, "gearbox")
    version = await publish(a, token, "gearbox", "CC-BY-SA-4.0")
    files = {file["sha256"]: file["size"] for file in version["files"]}
    shutil.rmtree(a.instance.blobs.blobs_dir)  # this machine's cache is gone: only the bucket
    report = await backup(a.instance.settings, tmp_path / "backup")
    assert report.files == 2 and report.bytes == sum(files.values())

    target = Settings(
        domain="a.test",
        data_dir=tmp_path / "restored",
        database_url=await new_database(),
        **await new_bucket_settings(s3_endpoint),
    )
    await restore(target, tmp_path / "backup")
    async with open_blob_store(target, tmp_path / "another-machine") as store:
        assert store.remote is not None
        found = {blob.sha256: blob.size async for blob in store.remote.blobs()}
        assert found == files
        for sha256 in files:
            assert (await store.local_path(sha256)).is_file() and store.verify(sha256)
