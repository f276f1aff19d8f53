"""The content-addressed blob store: names, digests, de-duplication, limits and integrity."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

import pytest

from federation.errors import ValidationError
from objects.blobs import BlobStore, BlobTooLarge, StoredBlob, check_sha256, human_bytes

EMPTY_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
HELLO_CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def files_under(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, names in os.walk(root) for f in names]


def cid_by_hand(data: bytes) -> str:
    # CIDv1 = <version 0x01><codec raw 0x55><multihash sha2-256 0x12><length 0x20><digest>,
    # multibase "b" = RFC 4648 base32, lower case, no padding.
    raw = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def blob_of(data: bytes) -> StoredBlob:
    return StoredBlob(hashlib.sha256(data).hexdigest(), len(data))


def test_cid_of_empty_file_is_the_known_answer() -> None:
    assert blob_of(b"").cid == EMPTY_CID == cid_by_hand(b"")


def test_cid_of_hello_world_matches_the_spec() -> None:
    assert blob_of(b"hello world").cid == cid_by_hand(b"hello world") == HELLO_CID


def test_digest_forms() -> None:
    blob = blob_of(b"hello world")
    b64 = base64.b64encode(hashlib.sha256(b"hello world").digest()).decode()
    assert blob.sha256 == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    assert blob.sha256_base64 == b64
    assert blob.digest_header == f"sha-256={b64}"
    assert blob.repr_digest_header == f"sha-256=:{b64}:"
    assert blob.sri == f"sha256-{b64}"


async def test_store_and_read_back(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = await store.put_bytes(b"a gear, in STL")
    assert blob == blob_of(b"a gear, in STL")
    path = store.path_for(blob.sha256)
    assert path == tmp_path / "sha256" / blob.sha256[:2] / blob.sha256[2:4] / blob.sha256
    assert store.exists(blob.sha256)
    assert store.get(blob.sha256) == blob
    with store.open(blob.sha256) as file:
        assert file.read() == b"a gear, in STL"
    assert store.verify(blob.sha256)
    assert await store.averify(blob.sha256)


def test_nothing_touches_the_disk_until_used(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = BlobStore(root)
    assert not store.exists("0" * 64)
    assert store.get("0" * 64) is None
    assert not root.exists()


async def test_same_bytes_twice_are_stored_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    first = await store.put_bytes(b"same bytes")
    staged = store.stage(max_bytes=100)
    await staged.awrite(b"same ")
    await staged.awrite(b"bytes")
    second = await staged.acommit()
    assert first == second
    assert files_under(tmp_path) == [store.path_for(first.sha256)]


async def test_streamed_write_in_chunks(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    chunks = [os.urandom(100_000) for _ in range(5)]
    async with store.stage(max_bytes=10**6) as staged:
        for chunk in chunks:
            await staged.awrite(chunk)
        assert staged.size == 500_000
        blob = await staged.acommit()
    assert blob == blob_of(b"".join(chunks))
    assert files_under(store.tmp_dir) == []


def test_too_large_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    staged = store.stage(max_bytes=1500, name="model.stl")
    staged.write(b"x" * 1000)
    with pytest.raises(BlobTooLarge) as raised:
        staged.write(b"x" * 1000)
    assert raised.value.status == 413
    assert isinstance(raised.value, ValidationError)
    assert "the file model.stl is larger than the limit of 1.5 kB per file" in raised.value.message
    assert files_under(tmp_path) == []
    with pytest.raises(RuntimeError):
        staged.commit()


def test_limit_message_in_human_units() -> None:
    message = BlobTooLarge.for_file("model.stl", 100 * 1024**2).message
    assert message.startswith("the file model.stl is larger than the limit of 100 MiB per file;")
    assert "split it" in message


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "1 byte"),
        (999, "999 bytes"),
        (1024, "1 KiB"),
        (64 * 1024, "64 KiB"),
        (100 * 1000**2, "100 MB"),
        (1_500_000, "1.5 MB"),
        (2 * 1024**3, "2 GiB"),
    ],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


def test_discard_and_context_manager_remove_the_temp_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    staged = store.stage(max_bytes=10)
    staged.write(b"abc")
    staged.discard()
    staged.discard()  # idempotent
    with pytest.raises(ValueError), store.stage(max_bytes=10) as other:
        other.write(b"abc")
        raise ValueError("the caller failed midway")
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "a" * 64 + "\n",
        "../" + "a" * 61,
        "/" + "a" * 63,
        "g" * 64,
        "",
    ],
)
def test_path_for_refuses_anything_but_lower_case_hex(tmp_path: Path, bad: str) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(ValidationError) as raised:
        store.path_for(bad)
    assert raised.value.status == 400
    with pytest.raises(ValidationError):
        store.exists(bad)
    with pytest.raises(ValidationError):
        StoredBlob(bad, 0)


def test_check_sha256_accepts_a_digest() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert check_sha256(digest) == digest


async def test_verify_detects_a_corrupted_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = await store.put_bytes(b"the original bytes")
    path = store.path_for(blob.sha256)
    path.chmod(0o644)
    path.write_bytes(b"the 0riginal bytes")
    assert not store.verify(blob.sha256)
    assert not store.verify("0" * 64)  # absent is not verified either


async def test_a_damaged_copy_is_replaced_by_a_fresh_upload(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = await store.put_bytes(b"intact bytes")
    path = store.path_for(blob.sha256)
    path.chmod(0o644)
    path.write_bytes(b"trunc")
    assert await store.put_bytes(b"intact bytes") == blob
    assert store.verify(blob.sha256)


async def test_stored_blobs_are_read_only(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = await store.put_bytes(b"immutable")
    assert store.path_for(blob.sha256).stat().st_mode & 0o777 == 0o444


def test_remove_stale_staging(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    abandoned = store.stage(max_bytes=100)
    abandoned.write(b"left by a crash")
    [crashed] = store.tmp_dir.iterdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(crashed, (two_days_ago, two_days_ago))
    in_progress = store.stage(max_bytes=100)
    assert store.remove_stale_staging() == 1
    assert len(list(store.tmp_dir.iterdir())) == 1
    in_progress.discard()
    abandoned.discard()  # closes the file a crash would have lost
    assert list(store.tmp_dir.iterdir()) == []
