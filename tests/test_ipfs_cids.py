"""IPFS CIDs of our files equal the reference importer's (`ipfs-unixfs-importer` from npm,
run by Node), and GET /ipfs/{cid} serves a held file, verified, as a trustless gateway."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from multiformats import CID, varint
from sqlalchemy import select

from objects.blobs import BlobStore
from objects.design_models import VersionFile
from objects.unixfs import CHUNK_SIZE, cid_text, file_dag
from tests.support import Node, call
from web.schema import alembic_config, migrate

ROOT = Path(__file__).parent.parent
SCRIPT = Path(__file__).parent / "unixfs_cid.mjs"
KIB, MIB = 1024, 1024 * 1024


def pattern(size: int) -> bytes:
    """The bytes the Node script makes too: byte i is (i * 31 + 7) % 251, no 256-periodicity."""
    cycle = bytes((i * 31 + 7) % 251 for i in range(251))
    return (cycle * (size // 251 + 1))[:size]


async def reference_cid(size: int, chunk_size: int = CHUNK_SIZE) -> str:
    assert (ROOT / "node_modules" / "ipfs-unixfs-importer").is_dir(), "run `npm ci` first"
    process = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(120):
        out, err = await process.communicate(
            json.dumps({"size": size, "chunkSize": chunk_size}).encode()
        )
    assert process.returncode == 0, err.decode()
    return str(json.loads(out)["cid"])


@pytest.mark.parametrize("size", [0, 1000, KIB, MIB + 1, 10_000_000])
async def test_our_cid_is_the_reference_importers(size: int, tmp_path: Path) -> None:
    expected = await reference_cid(size)
    data = pattern(size)
    assert str(file_dag([data]).cid) == expected
    # The store computes it as the bytes are written, in whatever pieces they come.
    staged = BlobStore(tmp_path).stage(max_bytes=size)
    for start in range(0, size, 100_003):
        staged.write(data[start : start + 100_003])
    stored = staged.commit()
    assert stored.cid == expected
    assert str(BlobStore(tmp_path).dag_of(stored.sha256).cid) == expected
    assert expected.startswith("bafkrei" if size <= CHUNK_SIZE else "bafybei")


async def test_a_dag_deeper_than_one_level_matches_too() -> None:
    """More than 174 chunks need a second level of nodes (here with 1 KiB chunks)."""
    size = 201 * KIB + 5
    assert str(file_dag([pattern(size)], chunk_size=KIB).cid) == await reference_cid(size, KIB)


# --- the gateway, on a real instance, on both databases -------------------------------


async def _publish(node: Node, token: str, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    made = await call(node, "POST", "/api/v1/designs", token, json={"slug": "frame"})
    assert made.status_code == 201, made.text
    response = await call(
        node, "POST", "/api/v1/designs/frame/versions", token,
        data={"licence": "cern-ohl-s-2.0"},
        files=[("files", (name, data, _media_type(name))) for name, data in files],
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return {file["filename"]: file for file in response.json()["files"]}


def _media_type(name: str) -> str:
    # The patterned bytes are no 3D model: they go as plain data, which is not parsed.
    return "model/stl" if name.endswith(".stl") else "application/octet-stream"


def read_car(body: bytes) -> tuple[list[CID], list[tuple[CID, bytes]]]:
    """A CARv1's roots and blocks, each block checked against its CID's digest."""
    length, used, _ = varint.decode_raw(body)
    header = body[used : used + length]
    at = used + length
    roots = [CID.decode(header[header.index(b"\xd8\x2a") + 4 : header.index(b"\x67version")][1:])]
    blocks = []
    while at < len(body):
        length, used, _ = varint.decode_raw(body[at:])
        section = body[at + used : at + used + length]
        cid = CID.decode(section[:36])
        block = section[36:]
        assert hashlib.sha256(block).digest() == cid.raw_digest
        blocks.append((cid, block))
        at += used + length
    return roots, blocks


async def test_files_are_served_by_cid_verified(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    big, small = pattern(3 * CHUNK_SIZE + 17), b"solid tiny\nendsolid tiny\n"
    files = await _publish(a, token, [("big.bin", big), ("tiny.stl", small)])
    big_cid, small_cid = files["big.bin"]["cid"], files["tiny.stl"]["cid"]
    assert big_cid == str(file_dag([big]).cid) and big_cid.startswith("bafybei")
    assert small_cid == str(file_dag([small]).cid) and small_cid.startswith("bafkrei")
    async with a.client() as client:
        whole = await client.get(
            f"/ipfs/{big_cid}", headers={"Origin": "https://elsewhere.example"}
        )
        assert whole.status_code == 200 and whole.content == big
        assert whole.headers["access-control-allow-origin"] == "*"
        assert whole.headers["x-ipfs-path"] == f"/ipfs/{big_cid}"
        # A raw CID's block is the file; a dag-pb root's block is the root node.
        raw_small = await client.get(f"/ipfs/{small_cid}?format=raw")
        assert raw_small.content == small
        assert raw_small.headers["content-type"] == "application/vnd.ipld.raw"
        root = await client.get(f"/ipfs/{big_cid}", headers={"Accept": "application/vnd.ipld.raw"})
        assert root.headers["content-type"] == "application/vnd.ipld.raw"
        assert hashlib.sha256(root.content).digest() == CID.decode(big_cid).raw_digest
        car = await client.get(f"/ipfs/{big_cid}?format=car")
        assert car.headers["content-type"].startswith("application/vnd.ipld.car")
        roots, blocks = read_car(car.content)
        assert [cid_text(r) for r in roots] == [big_cid] == [cid_text(blocks[0][0])]
        assert b"".join(block for cid, block in blocks if cid.codec.name == "raw") == big
        # A CIDv0 of the same root names the same file.
        v0 = str(CID.decode(big_cid).set(version=0, base="base58btc"))
        assert (await client.get(f"/ipfs/{v0}")).content == big
        assert (await client.get("/ipfs/not-a-cid")).status_code == 400
        assert (await client.get(f"/ipfs/{big_cid}?format=tar")).status_code == 400
        unknown = str(file_dag([b"never uploaded"]).cid)
        assert (await client.get(f"/ipfs/{unknown}")).status_code == 404


async def test_a_damaged_copy_is_not_served(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    data = b"solid frame\nendsolid frame\n"
    cid = (await _publish(a, token, [("frame.stl", data)]))["frame.stl"]["cid"]
    path = a.instance.blobs.path_for(hashlib.sha256(data).hexdigest())
    path.chmod(0o644)
    path.write_bytes(data.upper())
    async with a.client() as client:
        response = await client.get(f"/ipfs/{cid}")
    assert response.status_code == 500 and "damaged" in response.text


async def test_the_migration_gives_held_large_files_their_root_cid(nodes: Any) -> None:
    """Rows made before 0023 had no CID column: it fills a large held file's from its
    bytes and a small one's from its SHA-256, and goes down and up."""
    a = await nodes("a.test")
    _, token = await a.user("alice")
    big, small = pattern(CHUNK_SIZE + 1), b"solid s\nendsolid s\n"
    files = await _publish(a, token, [("big.bin", big), ("small.stl", small)])
    engine, settings = a.instance.engine, a.instance.settings
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade_before_0023, alembic_config(settings))
    await migrate(engine, settings)
    async with a.instance.sessions() as session:
        cids = dict((await session.execute(select(VersionFile.filename, VersionFile.cid))).all())
    assert cids == {"big.bin": files["big.bin"]["cid"], "small.stl": files["small.stl"]["cid"]}


def _downgrade_before_0023(connection: Any, config: Any) -> None:
    config.attributes["connection"] = connection
    before = ScriptDirectory.from_config(config).get_revision("0023").down_revision
    command.downgrade(config, before)
