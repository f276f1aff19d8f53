"""megalodon (the library behind Whalebird), from npm as package.json pins it, run by Node
against a real server on loopback: adding an account starts with its detector()."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.live import live_server

ROOT = Path(__file__).parent.parent
SCRIPT = Path(__file__).parent / "megalodon_detect.mjs"
NODE_SECONDS = 60


async def run_node(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        "node", *args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    async with asyncio.timeout(NODE_SECONDS):
        out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_megalodon_detects_mastodon_and_reads_the_instance(
    new_database: Any, tmp_path: Path
) -> None:
    installed = ROOT / "node_modules" / "megalodon"
    assert installed.is_dir(), "install the npm packages first: `npm ci` (make does it)"
    async with live_server(await new_database(), tmp_path / "a") as node:
        code, out, err = await run_node(str(SCRIPT), f"http://{node.domain}")
        async with httpx.AsyncClient(base_url=f"http://{node.domain}") as client:
            version = (await client.get("/api/v1/instance")).json()["version"]
    assert code == 0, err
    # Without metadata.upstream in NodeInfo this threw "Unknown SNS".
    assert json.loads(out) == {"sns": "mastodon", "uri": node.domain, "version": version}
