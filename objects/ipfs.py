"""Files by content address, in the forms a trustless IPFS gateway answers.

`GET /ipfs/{cid}` serves a file we hold by its IPFS CID (objects/unixfs.py): its bytes, the
one block the CID names (`application/vnd.ipld.raw`), or every block of its DAG in a CARv1
(`application/vnd.ipld.car`), which a client checks block by block against the CID it asked
for. The stored bytes are re-hashed before anything is served, so a damaged copy is never
passed on as the file its address names.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from multiformats import CID, varint
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import FederationError, ValidationError
from objects.blobs import BlobStore
from objects.design_models import VersionFile
from objects.unixfs import DagNode, UnixFsHasher, cid_text

RAW_BLOCK = "application/vnd.ipld.raw"
CAR = "application/vnd.ipld.car"
_READ = 1024 * 1024


def parse_cid(text: str) -> str:
    """`text` as the CIDv1 base32 form we store (a CIDv0 `Qm…` is accepted and converted)."""
    try:
        cid = CID.decode(text)
    except (ValueError, KeyError) as exc:
        raise ValidationError(
            f"{text[:80]!r} is not a CID; give an IPFS CID such as bafkrei… or bafybei…",
            status=400,
        ) from exc
    if cid.version == 0:
        cid = cid.set(version=1)
    return cid_text(cid)


@dataclass(frozen=True)
class HeldFile:
    """A file we hold, found by its CID, with its DAG recomputed from the stored bytes."""

    file: VersionFile
    dag: DagNode


async def held_file(session: AsyncSession, store: BlobStore, cid: str) -> HeldFile:
    """The file whose IPFS CID is `cid`, verified; 404 when we do not hold its bytes."""
    files = await session.scalars(select(VersionFile).where(VersionFile.cid == cid).limit(20))
    held = next((file for file in files if store.exists(file.sha256)), None)
    if held is None:
        raise FederationError(f"no file with the CID {cid} is held here", status=404)
    dag = await asyncio.to_thread(_verified_dag, store, held.sha256)
    if cid_text(dag.cid) != cid:
        raise FederationError(f"the stored copy of {cid} is damaged", status=500)
    return HeldFile(held, dag)


def _verified_dag(store: BlobStore, sha256: str) -> DagNode:
    whole, hasher = hashlib.sha256(), UnixFsHasher()
    with store.open(sha256) as file:
        while chunk := file.read(_READ):
            whole.update(chunk)
            hasher.update(chunk)
    if whole.hexdigest() != sha256:
        raise FederationError(f"the stored copy of {sha256} is damaged", status=500)
    return hasher.root()


def car_header(root: CID) -> bytes:
    # DAG-CBOR {"roots": [root], "version": 1}: keys in length-first order; a CID is tag 42
    # over a byte string of a zero byte (the identity multibase) and the binary CID.
    cid = b"\x00" + bytes(root)
    header = b"\xa2\x65roots\x81\xd8\x2a" + _cbor_bytes_head(len(cid)) + cid + b"\x67version\x01"
    return varint.encode(len(header)) + header


def _cbor_bytes_head(length: int) -> bytes:
    if length < 24:
        return bytes([0x40 | length])
    return bytes([0x58, length])  # CIDs are shorter than 256 bytes


def car_sections(store: BlobStore, held: HeldFile) -> Iterator[bytes]:
    """The CAR's header, then every block depth first; leaves are read in file order."""
    yield car_header(held.dag.cid)
    with store.open(held.file.sha256) as file:
        for node in held.dag.walk():
            block = node.block if node.block is not None else file.read(node.file_size)
            if node.block is None and len(block) != node.file_size:
                raise FederationError(f"the stored copy of {held.file.sha256} is short", status=500)
            cid = bytes(node.cid)
            yield varint.encode(len(cid) + len(block)) + cid + block


async def car_stream(store: BlobStore, held: HeldFile) -> AsyncIterator[bytes]:
    sections = car_sections(store, held)
    while (section := await asyncio.to_thread(next, sections, None)) is not None:
        yield section
