"""The glTF bomb published to a real `ourdesign serve` process on loopback: its job fails with
the reason, a normal file is still drawn, and the server's peak memory (VmHWM, read from
/proc) stays under 300 MB while it happens."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from actors.service import create_person, create_token
from federation.settings import Settings
from tests.live import free_port, wait_for
from tests.test_thumbnails import cube_stl
from tests.untrusted_files import gltf_bomb
from web.instance_start import open_instance

MAX_SERVE_KB = 300 * 1024


def memory_kb(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the peak) of process `pid`, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


@contextmanager
def serve_process(settings: Settings, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "OURDESIGN_DATA_DIR": str(settings.data_dir),
        "OURDESIGN_DOMAIN": settings.domain,
        "OURDESIGN_SCHEME": "http",
        "OURDESIGN_DATABASE_URL": settings.database_url,
        "OURDESIGN_ALLOW_PRIVATE_ADDRESSES": "true",
        "OURDESIGN_LOG_LEVEL": "warning",
    }
    env.pop("OURDESIGN_CONFIG", None)
    program = "from web.main import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", program, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def member_token(settings: Settings) -> str:
    async with open_instance(settings) as instance, instance.sessions() as session:
        actor = await create_person(
            session, instance.urls, username="alice", email="a@x.test", password="pw-123456789"
        )
        token = await create_token(session, actor, "test")
        await session.commit()
    return token


async def test_the_bomb_leaves_a_real_serve_process_under_300_mb(new_database, tmp_path):
    port = free_port()
    settings = Settings(
        domain=f"127.0.0.1:{port}",
        scheme="http",
        data_dir=tmp_path,
        database_url=await new_database(),
        allow_private_addresses=True,
    )
    token = await member_token(settings)
    bomb, cube = gltf_bomb(), cube_stl()
    bomb_sha, cube_sha = (hashlib.sha256(data).hexdigest() for data in (bomb, cube))
    with serve_process(settings, port) as serve:
        async with httpx.AsyncClient(
            base_url=f"http://{settings.domain}", headers={"Authorization": f"Bearer {token}"}
        ) as client:

            async def up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(up, 60)
            started_kb = memory_kb(serve.pid, "VmRSS")
            made = await client.post("/api/v1/designs", json={"slug": "lamp"})
            assert made.status_code == 201, made.text
            files = [("files", ("bomb.glb", bomb, "model/gltf-binary"))]
            files.append(("files", ("cube.stl", cube, "model/stl")))
            published = await client.post(
                "/api/v1/designs/lamp/versions", data={"licence": "CC-BY-SA-4.0"}, files=files
            )
            assert published.status_code == 201, published.text

            async def answered(sha: str, status: int) -> httpx.Response | None:
                answer = await client.get(f"/thumbnails/{sha}.png")
                waiting = "not made yet" in answer.text
                return answer if answer.status_code == status and not waiting else None

            refused = await wait_for(lambda: answered(bomb_sha, 404), 120)
            drawn = await wait_for(lambda: answered(cube_sha, 200), 120)
        assert "no thumbnail can be made of bomb.glb" in refused.text
        assert "51,200,000 triangles" in refused.text
        assert drawn.content.startswith(b"\x89PNG")
        await asyncio.sleep(0.5)
        peak_kb = memory_kb(serve.pid, "VmHWM")
        print(f"serve: {started_kb / 1024:.0f} MB at start, peak {peak_kb / 1024:.0f} MB")
        assert peak_kb < MAX_SERVE_KB
