"""A content-addressed file store: design files that outlive the instance.

Every file is named by the SHA-256 of its bytes, so anyone holding a copy can check
it, any mirror can serve it, and the same bytes are stored once. Layout under `root`:

    root/sha256/ab/cd/abcd...   stored blobs (64 lower-case hex digits), read-only
    root/tmp/                   staged writes; on the same filesystem so a rename is atomic

A write is staged in a temp file, hashed as it is written, then fsync'd and renamed
into place, so a crash leaves either the whole blob or nothing (and perhaps a stale
temp file, see `BlobStore.remove_stale_staging`). Nothing touches the disk until a
method is called.

With a `remote` (an S3-compatible bucket, objects.object_store) this directory is a cache
in front of it: `acommit` and `put_bytes` also upload before they return, and `aget` and
`local_path` find, and fetch, a blob another machine stored. The sync `get`, `exists`
and `open` see this directory only.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self, TypeGuard

from federation.errors import ValidationError
from objects.unixfs import CHUNK_SIZE, DagNode, UnixFsHasher, cid_text, raw_cid

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_READ_CHUNK = 1024 * 1024
_BINARY_UNITS = ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))
_DECIMAL_UNITS = ((1000**3, "GB"), (1000**2, "MB"), (1000, "kB"))


class BlobTooLarge(ValidationError):
    """A file, or an upload as a whole, is over its size limit."""

    status = 413

    @classmethod
    def for_file(cls, name: str | None, limit: int) -> BlobTooLarge:
        what = f"the file {name}" if name else "the file"
        return cls(
            f"{what} is larger than the limit of {human_bytes(limit)} per file; make it "
            "smaller (for example compress it) or split it into several files"
        )

    @classmethod
    def for_upload(cls, limit: int) -> BlobTooLarge:
        return cls(
            f"the files in this upload add up to more than the limit of {human_bytes(limit)} "
            "per upload; send fewer or smaller files at a time"
        )


def human_bytes(count: int) -> str:
    """A byte count as people read it: '100 MiB' when exact in binary units, else '1.5 MB'."""
    for size, unit in _BINARY_UNITS:
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    for size, unit in _DECIMAL_UNITS:
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + f" {unit}"
    return "1 byte" if count == 1 else f"{count} bytes"


def is_sha256(name: object) -> TypeGuard[str]:
    """True for 64 lower-case hex digits: a blob's name."""
    return isinstance(name, str) and _SHA256_HEX.fullmatch(name) is not None


def check_sha256(sha256: str) -> str:
    """`sha256` unchanged if it is 64 lower-case hex digits; anything else could walk the tree."""
    if not is_sha256(sha256):
        raise ValidationError(
            f"{sha256!r:.80} is not a SHA-256 digest; give 64 lower-case hexadecimal digits",
            status=400,
        )
    return sha256


@dataclass(frozen=True)
class StoredBlob:
    """A blob in the store, named by its SHA-256 (hex) and its size in bytes."""

    sha256: str
    size: int
    # The IPFS root CID, known when the bytes went by (a file over one chunk needs them).
    unixfs_cid: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_sha256(self.sha256)
        if self.size < 0:
            raise ValueError(f"a blob size cannot be negative: {self.size}")

    @property
    def digest(self) -> bytes:
        return bytes.fromhex(self.sha256)

    @property
    def sha256_base64(self) -> str:
        return base64.b64encode(self.digest).decode("ascii")

    @property
    def digest_header(self) -> str:
        """The legacy (RFC 3230) `Digest` header value."""
        return f"sha-256={self.sha256_base64}"

    @property
    def repr_digest_header(self) -> str:
        """The RFC 9530 `Repr-Digest` header value: a structured-field byte sequence."""
        return f"sha-256=:{self.sha256_base64}:"

    @property
    def sri(self) -> str:
        """A Subresource Integrity value, as used in HTML `integrity` attributes."""
        return f"sha256-{self.sha256_base64}"

    @property
    def cid(self) -> str | None:
        """The CIDv1 IPFS gives these bytes (`ipfs add --cid-version 1 --raw-leaves`), base32.

        None for a file over one chunk whose bytes were not seen: its root CID depends on
        every chunk, not only on the SHA-256 of the whole (see `BlobStore.dag_of`)."""
        if self.unixfs_cid is not None:
            return self.unixfs_cid
        if self.size <= CHUNK_SIZE:
            return cid_text(raw_cid(self.digest))
        return None


class RemoteBlobs(Protocol):
    """Where blobs live beyond this directory (objects.object_store.S3Bucket)."""

    presign_seconds: int | None

    async def holds(self, blob: StoredBlob) -> bool: ...

    async def stored_checksum(self, sha256: str) -> tuple[int, str | None] | None: ...

    async def upload(self, path: Path, blob: StoredBlob) -> None: ...

    async def download(self, sha256: str, staged: StagedBlob) -> None: ...

    def blobs(self) -> AsyncIterator[StoredBlob]: ...

    async def presigned_url(self, sha256: str, disposition: str, media_type: str) -> str: ...


class StagedBlob:
    """A file being written into the store: hashed as it arrives, invisible until commit.

    The sync methods block on disk I/O; the `a`-prefixed ones run it in a thread. A lock
    serialises them because a cancelled `awrite` may still be running in its thread
    when the caller discards.
    """

    def __init__(self, store: BlobStore, *, max_bytes: int, name: str | None = None) -> None:
        store.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(dir=store.tmp_dir, prefix="staged-")
        self._file = os.fdopen(fd, "wb")
        self._path = Path(path)
        self._store = store
        self._hash = hashlib.sha256()
        self._dag = UnixFsHasher()
        self._size = 0
        self._lock = threading.Lock()
        self._state = "open"
        self.max_bytes = max_bytes
        self.name = name

    @property
    def size(self) -> int:
        return self._size

    def readable_path(self) -> Path:
        """Where the staged bytes are, all of them written out, for a check that reads them
        (in another process) before commit."""
        with self._lock:
            self._require_open()
            self._file.flush()
            return self._path

    @property
    def is_open(self) -> bool:
        return self._state == "open"

    @property
    def sha256(self) -> str:
        """The digest of what was written so far."""
        return self._hash.hexdigest()

    def write(self, chunk: bytes) -> None:
        """Append `chunk`; over `max_bytes` the blob is discarded and BlobTooLarge raised."""
        with self._lock:
            self._require_open()
            if self._size + len(chunk) > self.max_bytes:
                self._discard_locked()
                raise BlobTooLarge.for_file(self.name, self.max_bytes)
            self._file.write(chunk)
            self._hash.update(chunk)
            self._dag.update(chunk)
            self._size += len(chunk)

    def head(self, limit: int) -> bytes:
        """The first `limit` bytes written so far (a small manifest read before commit)."""
        with self._lock:
            self._require_open()
            self._file.flush()
            with self._path.open("rb") as staged:
                return staged.read(limit)

    def commit(self) -> StoredBlob:
        """Make the blob durable under its digest; if it is already stored, keep that copy."""
        with self._lock:
            self._require_open()
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                root = cid_text(self._dag.root().cid)
                blob = StoredBlob(self._hash.hexdigest(), self._size, unixfs_cid=root)
                self._store._place(self._path, blob)
            except BaseException:
                self._discard_locked()
                raise
            self._state = "committed"
            return blob

    def discard(self) -> None:
        """Delete the staged bytes; a no-op once committed or discarded."""
        with self._lock:
            if self._state == "open":
                self._discard_locked()

    async def awrite(self, chunk: bytes) -> None:
        await asyncio.to_thread(self.write, chunk)

    async def acommit(self) -> StoredBlob:
        """`commit`, and with a remote store, the upload to it (before this returns)."""
        blob = await asyncio.to_thread(self.commit)
        await self._store.publish(blob)
        return blob

    async def adiscard(self) -> None:
        await asyncio.to_thread(self.discard)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Synchronous on purpose: an await here could itself be cancelled and leak the file.
        self.discard()

    def _require_open(self) -> None:
        if self._state != "open":
            raise RuntimeError(f"this staged blob is already {self._state}")

    def _discard_locked(self) -> None:
        self._state = "discarded"
        self._file.close()
        self._path.unlink(missing_ok=True)


class BlobStore:
    """Blobs on the local filesystem under `root`, addressed by SHA-256."""

    def __init__(self, root: Path, remote: RemoteBlobs | None = None) -> None:
        self.root = Path(root)
        self.blobs_dir = self.root / "sha256"
        self.tmp_dir = self.root / "tmp"
        self.remote = remote

    async def publish(self, blob: StoredBlob) -> None:
        """Upload a blob placed here to the remote store, unless it holds it already."""
        if self.remote is not None and not await self.remote.holds(blob):
            await self.remote.upload(self.path_for(blob.sha256), blob)

    async def aget(self, sha256: str) -> StoredBlob | None:
        """The blob with this digest, here or in the remote store; None if in neither."""
        found = await asyncio.to_thread(self.get, sha256)
        if found is not None or self.remote is None:
            return found
        stored = await self.remote.stored_checksum(check_sha256(sha256))
        return StoredBlob(sha256, stored[0]) if stored is not None else None

    async def local_path(self, sha256: str, *, max_bytes: int = 1 << 40) -> Path:
        """The blob's file here, fetched from the remote store (its digest checked) if it is
        only there; FileNotFoundError if it is in neither."""
        path = self.path_for(sha256)
        if await asyncio.to_thread(path.is_file) or self.remote is None:
            if not path.is_file():
                raise FileNotFoundError(path)
            return path
        if await self.remote.stored_checksum(sha256) is None:
            raise FileNotFoundError(path)
        async with self.stage(max_bytes=max_bytes, name=sha256) as staged:
            await self.remote.download(sha256, staged)
            if staged.sha256 != sha256:
                raise ValueError(
                    f"the stored copy of {sha256} is damaged: it hashes to {staged.sha256}"
                )
            await asyncio.to_thread(staged.commit)
        return path

    def path_for(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.blobs_dir / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def get(self, sha256: str) -> StoredBlob | None:
        """The stored blob with this digest, or None if it is not here."""
        try:
            size = self.path_for(sha256).stat().st_size
        except FileNotFoundError:
            return None
        return StoredBlob(sha256, size)

    def open(self, sha256: str) -> BinaryIO:
        """The blob's bytes for reading; FileNotFoundError if it is not here."""
        return self.path_for(sha256).open("rb")

    def stage(self, *, max_bytes: int, name: str | None = None) -> StagedBlob:
        """A writer for a new blob of at most `max_bytes`; `name` is used in error messages."""
        return StagedBlob(self, max_bytes=max_bytes, name=name)

    async def put_bytes(self, data: bytes, *, max_bytes: int | None = None) -> StoredBlob:
        """Store `data` in one go (for small, already-in-memory files)."""
        limit = len(data) if max_bytes is None else max_bytes

        def put() -> StoredBlob:
            with self.stage(max_bytes=limit) as staged:
                staged.write(data)
                return staged.commit()

        blob = await asyncio.to_thread(put)
        await self.publish(blob)
        return blob

    def dag_of(self, sha256: str) -> DagNode:
        """The IPFS DAG of a stored blob, read from disk; FileNotFoundError if not here."""
        hasher = UnixFsHasher()
        with self.open(sha256) as file:
            while chunk := file.read(_READ_CHUNK):
                hasher.update(chunk)
        return hasher.root()

    async def adag_of(self, sha256: str) -> DagNode:
        return await asyncio.to_thread(self.dag_of, sha256)

    def verify(self, sha256: str) -> bool:
        """True if the stored file is there and its bytes still hash to `sha256`."""
        hasher = hashlib.sha256()
        try:
            with self.open(sha256) as file:
                while chunk := file.read(_READ_CHUNK):
                    hasher.update(chunk)
        except FileNotFoundError:
            return False
        return hasher.hexdigest() == sha256

    async def averify(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.verify, sha256)

    def remove_stale_staging(self, older_than_seconds: float = 24 * 3600) -> int:
        """Delete temp files a crash left behind; returns how many. Young ones may be in use."""
        if not self.tmp_dir.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.tmp_dir.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _place(self, staged_path: Path, blob: StoredBlob) -> None:
        final = self.path_for(blob.sha256)
        _make_dirs_durably(final.parent)
        if _has_size(final, blob.size):
            # Same digest, same bytes: keep the stored copy (de-duplication). A copy of the
            # wrong size is damaged, so the fresh one replaces it.
            staged_path.unlink()
            return
        os.chmod(staged_path, 0o444)
        os.replace(staged_path, final)
        _fsync_dir(final.parent)


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except FileNotFoundError:
        return False


def _make_dirs_durably(directory: Path) -> None:
    # A new directory entry survives a crash only once its parent directory is fsync'd.
    if directory.is_dir():
        return
    _make_dirs_durably(directory.parent)
    directory.mkdir(exist_ok=True)
    _fsync_dir(directory.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
