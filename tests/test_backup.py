"""`ourdesign backup` and `ourdesign restore` on both databases: an online backup of a live
instance restored into a fresh database and data directory, damaged files refused on both
sides, and the commands themselves through click."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from actors.models import Actor, Follow
from federation.settings import Settings
from objects.blobs import BlobStore
from objects.design_models import DesignVersion
from objects.models import Note
from tests.support import Network, Node, call, cli_env, run_cli, running_node, settle
from tests.test_design_api import PNG, STL, new_project, publish
from web.ops.backup import BackupError, backup, restore
from web.ops.backup_db import pg_connection

ACTIVITY_JSON = "application/activity+json"


async def _designs(node: Node, token: str) -> dict[str, Any]:
    """alice's lamp on `node` with one version (an STL and a PNG preview) and a comment."""
    await new_project(node, token, "lamp", name="Desk lamp")
    response = await publish(
        node,
        token,
        "lamp",
        {"label": "v1.0", "summary": "Bends", "licence": "CC-BY-SA-4.0"},
        [
            ("files", ("lamp.stl", STL, "model/stl")),
            ("previews", ("lamp.png", PNG, "image/png")),
        ],
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _state(node: Node) -> dict[str, Any]:
    """What a restore must bring back: versions, notes and follows, by their URIs."""
    async with node.instance.sessions() as session:
        versions = sorted(await session.scalars(select(DesignVersion.uri)))
        notes = sorted(
            (row.uri, row.in_reply_to, row.content)
            for row in (await session.scalars(select(Note))).all()
        )
        follower, followee = aliased(Actor), aliased(Actor)
        follows = sorted(
            (
                await session.execute(
                    select(follower.uri, followee.uri, Follow.state)
                    .join(follower, follower.id == Follow.follower_id)
                    .join(followee, followee.id == Follow.followee_id)
                )
            ).all()
        )
    return {"versions": versions, "notes": notes, "follows": [tuple(f) for f in follows]}


async def _get_activity(node: Node, path: str) -> httpx.Response:
    async with node.client() as client:
        return await client.get(path, headers={"Accept": ACTIVITY_JSON})


def _blobs(root: Path) -> dict[str, bytes]:
    return {
        name: (Path(d) / name).read_bytes()
        for d, _, names in os.walk(root / "sha256")
        for name in names
    }


def _flip_a_byte(path: Path) -> None:
    os.chmod(path, 0o644)  # stored blobs are read-only
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


async def test_online_backup_restores_into_a_fresh_instance(nodes, new_database, tmp_path):
    a = await nodes("a.test")
    b = await nodes("b.test")
    alice, token = await a.user("alice")
    _, carol_token = await a.user("carol")
    bob, bob_token = await b.user("bob")
    doc = await _designs(a, token)
    comment = await call(
        a,
        "POST",
        "/api/v1/comments",
        carol_token,
        json={"in_reply_to": doc["id"], "content": "Nice"},
    )
    assert comment.status_code == 201, comment.text
    for node, who, target in ((b, bob_token, "@lamp@a.test"), (a, token, "@bob@b.test")):
        response = await call(node, "POST", "/api/v1/follows", who, json={"target": target})
        assert response.status_code == 202, response.text
    await settle(a, b)
    before = await _state(a)
    assert len(before["versions"]) == 1 and before["notes"]
    followed = {(f[0], f[1]) for f in before["follows"]}
    assert {(bob.uri, "https://a.test/users/lamp"), (alice.uri, bob.uri)} <= followed
    project = (await call(a, "GET", "/api/v1/designs/lamp")).json()

    # Online: the app keeps taking comments while the backup runs.
    async def keep_writing() -> int:
        written = 0
        for n in range(5):
            body = {"in_reply_to": doc["id"], "content": f"during backup {n}"}
            response = await call(a, "POST", "/api/v1/comments", carol_token, json=body)
            assert response.status_code == 201, response.text
            written += 1
            await asyncio.sleep(0)
        return written

    dest = tmp_path / "backup"
    report, written = await asyncio.gather(backup(a.instance.settings, dest), keep_writing())
    assert written == 5
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["format"] == "ourdesign-backup" and manifest["version"] == 1
    assert manifest["domain"] == "a.test" and manifest["database"]["alembic_revision"]
    assert report.files == manifest["files"]["count"] == 2
    assert report.bytes == manifest["files"]["bytes"] == len(STL) + len(PNG)
    assert set(manifest["files"]["sha256"]) == {
        hashlib.sha256(STL).hexdigest(),
        hashlib.sha256(PNG).hexdigest(),
    }
    for digest in manifest["files"]["sha256"]:
        copy = dest / "files" / "sha256" / digest[:2] / digest[2:4] / digest
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest
        assert copy.stat().st_nlink == 1  # a copy, not a hard link
    dump = dest / manifest["database"]["file"]
    assert hashlib.sha256(dump.read_bytes()).hexdigest() == manifest["database"]["sha256"]
    after = await _state(a)

    target = Settings(
        domain="a.test",
        scheme="https",
        data_dir=tmp_path / "restored",
        database_url=await new_database(),
    )
    restored = await restore(target, dest)
    assert restored.files == 2 and restored.alembic_revision == report.alembic_revision

    async with running_node("a.test", target.database_url, target.data_dir, Network()) as r:
        state = await _state(r)
        # A consistent snapshot: everything from before, and some prefix of the comments
        # written while it ran.
        assert state["versions"] == before["versions"] and state["follows"] == before["follows"]
        assert set(before["notes"]) <= set(state["notes"]) <= set(after["notes"])
        again = (await call(r, "GET", "/api/v1/designs/lamp")).json()
        replies = [note for note in state["notes"] if note[1] == doc["id"]]
        assert again["versions"][0].pop("replies_count") == len(replies)
        project["versions"][0].pop("replies_count")
        assert again == project
        page = await _get_activity(r, "/users/lamp/versions/1")
        assert page.status_code == 200 and page.json()["id"] == doc["id"]
        for file, data in zip(doc["files"], (PNG, STL), strict=True):
            assert file["sha256"] == hashlib.sha256(data).hexdigest()
            download = await call(r, "GET", file["url"].removeprefix("https://a.test"))
            assert download.status_code == 200 and download.content == data
            assert r.instance.blobs.verify(file["sha256"])
        assert _blobs(r.instance.blobs.root) == _blobs(a.instance.blobs.root)
        login = await call(r, "GET", "/api/v1/designs/lamp", token)  # tokens came back too
        assert login.status_code == 200
        assert (await _get_activity(r, "/users/alice")).json()["id"] == alice.uri


async def test_a_damaged_file_fails_the_backup(nodes, tmp_path):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    doc = await _designs(a, token)
    damaged = a.instance.blobs.path_for(doc["files"][1]["sha256"])
    _flip_a_byte(damaged)
    dest = tmp_path / "backup"
    with pytest.raises(BackupError) as refused:
        await backup(a.instance.settings, dest)
    assert "no longer match" in refused.value.message and str(damaged) in refused.value.message
    assert list(dest.iterdir()) == []  # nothing that looks like a backup is left behind


async def test_restore_refuses_a_used_target_and_a_damaged_backup(nodes, new_database, tmp_path):
    a = await nodes("a.test")
    _, token = await a.user("alice")
    await _designs(a, token)
    dest = tmp_path / "backup"
    await backup(a.instance.settings, dest)

    with pytest.raises(BackupError) as refused:
        await backup(a.instance.settings, dest)
    assert "not an empty directory" in refused.value.message

    with pytest.raises(BackupError) as refused:
        await restore(a.instance.settings, dest)
    assert "already has local users" in refused.value.message and "--force" in refused.value.message

    target = Settings(
        domain="a.test", scheme="https", data_dir=tmp_path / "t", database_url=await new_database()
    )
    other = target.with_changes(domain="elsewhere.test")
    with pytest.raises(BackupError) as refused:
        await restore(other, dest)
    assert "OURDESIGN_DOMAIN=a.test" in refused.value.message

    manifest = json.loads((dest / "manifest.json").read_text())
    damaged_copy = tmp_path / "damaged"
    shutil.copytree(dest, damaged_copy)
    digest = sorted(manifest["files"]["sha256"])[0]
    _flip_a_byte(damaged_copy / "files" / "sha256" / digest[:2] / digest[2:4] / digest)
    with pytest.raises(BackupError) as refused:
        await restore(target, damaged_copy)
    assert "does not match its SHA-256" in refused.value.message
    assert not (target.data_dir / "files" / "sha256" / digest[:2] / digest[2:4] / digest).exists()

    bad_dump = tmp_path / "bad-dump"
    shutil.copytree(dest, bad_dump)
    with (bad_dump / manifest["database"]["file"]).open("ab") as file:
        file.write(b"x")
    with pytest.raises(BackupError) as refused:
        await restore(target, bad_dump)
    assert "does not match the SHA-256 in its manifest" in refused.value.message

    # The good backup goes in; a second restore needs --force, and gets it.
    await restore(target, dest)
    with pytest.raises(BackupError):
        await restore(target, dest)
    again = await restore(target, dest, force=True)
    assert again.files == 2


def test_backup_and_restore_commands(tmp_path):
    source, target, dest = tmp_path / "source", tmp_path / "target", tmp_path / "backup"

    def run(data_dir: Path, *args: str, code: int = 0) -> str:
        return run_cli(cli_env(data_dir), *args, code=code)

    run(source, "user", "create", "ada", "--email", "ada@coop.test", "--password", "long enough")
    stored = asyncio.run(BlobStore(source / "files").put_bytes(STL))
    out = run(source, "backup", str(dest))
    assert "backed up sqlite database" in out and "1 files" in out
    assert "not an empty directory" in run(source, "backup", str(dest), code=1)

    out = run(target, "restore", str(dest))
    assert "restored sqlite database" in out and "1 files" in out
    assert BlobStore(target / "files").verify(stored.sha256)
    assert "already has local users" in run(target, "restore", str(dest), code=1)
    assert "restored" in run(target, "restore", "--force", str(dest))
    assert len(run(target, "token", "create", "ada").strip()) >= 40


def test_the_postgresql_password_stays_off_the_command_line():
    settings = Settings(database_url="postgresql+asyncpg://od:s3cret@db.internal:5433/designs")
    args, env = pg_connection(settings)
    assert args == ["-h", "db.internal", "-p", "5433", "-U", "od", "-d", "designs"]
    assert env["PGPASSWORD"] == "s3cret" and "s3cret" not in " ".join(args)
