"""Upload quotas, tried by a member who wants more disk than the admin gave them.

Every upload (design versions through the API and the web form, Mastodon media) is read
by `web.uploads.read_upload`, which needs the uploader's `UploadQuota`: an upload that
would pass it is refused with a 413 while it streams in, and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from objects.design_models import DesignVersion
from objects.media_models import MediaAttachment, UploadUsage
from tests.support import Node, call, cli_env, count, run_cli
from tests.test_design_api import new_project
from tests.test_mastodon_media import image_bytes
from web.ops.cli_accounts import parse_size

QUOTA = 3000


def blobs_of(node: Node) -> list[Path]:
    root = node.instance.blobs.root
    return [Path(d) / name for d, _, names in os.walk(root) for name in names]


async def publish(node: Node, token: str, slug: str, payload: bytes) -> Any:
    # Not named like a 3D model: the bytes only fill the quota, and publishing reads meshes.
    files = [("files", (f"{slug}.txt", payload, "text/plain"))]
    data = {"licence": "CERN-OHL-S-2.0"}
    return await call(
        node, "POST", f"/api/v1/designs/{slug}/versions", token, data=data, files=files
    )


async def used_bytes(node: Node) -> int:
    async with node.instance.sessions() as session:
        total = await session.scalar(select(func.coalesce(func.sum(UploadUsage.size), 0)))
    return int(total or 0)


async def test_an_upload_past_the_quota_is_a_413_and_stores_nothing(nodes: Any) -> None:
    a = await nodes("a.test", default_upload_quota_bytes=QUOTA)
    _, token = await a.user("alice")
    await new_project(a, token, "lamp")
    first = await publish(a, token, "lamp", b"solid a\n" + b"x" * 1800)
    assert first.status_code == 201, first.text
    assert await used_bytes(a) == 1808
    blobs_before, versions_before = blobs_of(a), await count(a, DesignVersion)

    over = await publish(a, token, "lamp", b"solid b\n" + b"y" * 1500)
    assert over.status_code == 413, over.text
    error = over.json()["error"]
    assert "upload quota of 3 kB" in error and "1.8 kB used" in error, error
    assert "ask an admin" in error
    assert blobs_of(a) == blobs_before
    assert await count(a, DesignVersion) == versions_before
    assert await used_bytes(a) == 1808

    # Media count against the same quota, through the same reader.
    picture = image_bytes(size=(40, 30)) + os.urandom(1500)  # refused before it is looked at
    refused = await call(a, "POST", "/api/v2/media", token, files={"file": ("p.png", picture)})
    assert refused.status_code == 413 and "upload quota" in refused.json()["error"]
    assert await count(a, MediaAttachment) == 0
    assert blobs_of(a) == blobs_before

    # Within what is left, an upload still goes through.
    small = await publish(a, token, "lamp", b"solid c\n" + b"z" * 500)
    assert small.status_code == 201, small.text
    assert await used_bytes(a) == 1808 + 508


async def test_each_member_has_their_own_quota(nodes: Any) -> None:
    a = await nodes("a.test", default_upload_quota_bytes=QUOTA)
    _, alice = await a.user("alice")
    _, bob = await a.user("bob")
    await new_project(a, alice, "lamp")
    await new_project(a, bob, "desk")
    assert (await publish(a, alice, "lamp", b"solid\n" + b"x" * 2500)).status_code == 201
    assert (await publish(a, bob, "desk", b"solid\n" + b"y" * 2500)).status_code == 201
    assert (await publish(a, alice, "lamp", b"solid\n" + b"x" * 600)).status_code == 413


async def test_an_admin_sets_a_members_quota_with_the_cli(nodes: Any) -> None:
    a = await nodes("a.test", default_upload_quota_bytes=QUOTA)
    _, token = await a.user("alice")
    await new_project(a, token, "lamp")
    env = cli_env(
        a.instance.settings.data_dir,
        database_url=a.instance.settings.effective_database_url,
        domain="a.test",
        default_upload_quota_bytes=str(QUOTA),
    )
    assert "a quota of 10 kB" in await quota_cli(env, "10kB")
    assert (await publish(a, token, "lamp", b"solid\n" + b"x" * 5000)).status_code == 201
    output = await quota_cli(env, "0")
    assert "a quota of 0 bytes" in output and "stores 5 kB" in output
    refused = await publish(a, token, "lamp", b"solid\n")
    assert refused.status_code == 413
    assert "default_upload_quota" not in await quota_cli(env, "default")
    assert (await publish(a, token, "lamp", b"solid\n")).status_code == 413  # 5 kB > 3 kB


async def quota_cli(env: dict[str, str | None], *args: str) -> str:
    """`ourdesign user quota alice ...` (in a thread: the command runs its own event loop)."""
    return await asyncio.to_thread(run_cli, env, "user", "quota", "alice", *args)


def test_sizes_are_read_as_people_write_them() -> None:
    assert parse_size("5000") == 5000
    assert parse_size("500MB") == 500_000_000
    assert parse_size("2 GiB") == 2 * 1024**3
    assert parse_size("1.5gb") == 1_500_000_000
    assert parse_size("10kB") == 10_000
